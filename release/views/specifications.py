"""Specification pages: versions per product, a version's tests, drafting by copy, editing limits,
approval with an e-signature, taking effect."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import SortColumn, csv_download, shown_status, shown_time, sorting, wants_csv
from bank.refusals import Refused
from bank.status import status_history
from bank.web import db, get_or_404, posted, requires, show_refusal, step, work
from release import services
from release.blueprint import bp, typed_number
from release.forms import ApproveSpecForm, ConfirmStepForm, SpecDraftForm
from release.models import SpecificationVersion
from release.states import SPEC_WORKFLOW

# A few versions per product, read whole: each product's table sorts in Python (Sorting.arrange).
SPEC_COLUMNS = (
    SortColumn("version", N_("Version"), lambda v: v.id),
    SortColumn("status", N_("Status"), lambda v: v.status),
    SortColumn("effective", N_("Effective since"), lambda v: _effective_key(v)),
)


def _effective_key(v):
    # None (never effective) sorts first, and two None are equal without comparing them.
    return (0, "") if v.effective_at is None else (1, v.effective_at.isoformat())


@bp.route("/specifications")
@requires("release.view")
def specs():
    session = db()
    order = sorting(*SPEC_COLUMNS)
    products = [
        (key, order.arrange(services.versions_of(session, key))) for key in services.product_keys(session)
    ]
    if wants_csv():  # every version of every product, as the tables show them
        rows = (
            (
                v.product_key,
                v.label,
                localize(t("seed")) if v.seeded else "",
                shown_status(v.status),
                v.change_note,
                shown_time(v.effective_at),
            )
            for _key, versions in products
            for v in versions
        )
        header = ("product", "version", "seed", "status", "change", "effective_since")
        return csv_download("specifications.csv", header, rows)
    return render_template("release/specs.html", products=products, form=ConfirmStepForm(), sorting=order)


@bp.route("/specifications/seed", methods=["POST"])
@requires("spec.manage")
def seed_specs():
    if ConfirmStepForm().validate_on_submit():
        with work("seed release specifications"):
            added = services.ensure_seed_specifications(db())
        flash(
            t("%(count)s seed specification(s) stored.", count=len(added))
            if added
            else t("Seed specifications already stored."),
            "success",
        )
    return redirect(url_for("release.specs"))


def _spec_page(row: SpecificationVersion, approve_form=None, refused=None):
    history = status_history(db(), row)
    return render_template(
        "release/spec.html",
        row=row,
        spec=row.spec(),
        history=history,
        approval=services.approval_signature(db(), row),
        form=ConfirmStepForm(),
        approve_form=approve_form or ApproveSpecForm(),
        refused=refused,
        workflow=SPEC_WORKFLOW,
        acceptance_text=services.acceptance_text,
    )


@bp.route("/specifications/<int:spec_id>")
@requires("release.view")
def spec(spec_id: int):
    return _spec_page(get_or_404(SpecificationVersion, spec_id))


@bp.route("/specifications/<int:spec_id>/draft", methods=["POST"])
@requires("spec.manage")
def new_draft(spec_id: int):
    row = get_or_404(SpecificationVersion, spec_id)
    done = step(
        ConfirmStepForm(),
        lambda: services.draft_new_version(db(), row.product_key),
        "new specification version drafted",
    )
    if done.ok:
        return redirect(url_for("release.edit_spec", spec_id=done.value.id))
    return redirect(url_for("release.spec", spec_id=row.id))


@bp.route("/specifications/<int:spec_id>/edit", methods=["GET", "POST"])
@requires("spec.manage")
def edit_spec(spec_id: int):
    row = get_or_404(SpecificationVersion, spec_id)
    if refused := services.edit_problems(row.label, row.status, None, row.version):
        flash(" ".join(localize(p.message) for p in refused), "warning")
        return redirect(url_for("release.spec", spec_id=row.id))
    form = SpecDraftForm()
    fields = services.editable_fields(row.spec())
    values = {name: current for _, group in fields for name, _, current in group}
    errors: dict[str, str] = {}
    if request.method == "GET":
        form.version.data = str(row.version)
        form.change_note.data = row.change_note
    elif form.validate_on_submit():
        values = {name: request.form.get(name, "")[:200] for name in values}
        # Limits are numbers typed in the reader's notation; the interim terms are a comma-separated list.
        limits = {
            name: text if name.endswith("__conditional") else typed_number(text)
            for name, text in values.items()
        }
        try:
            with work(form.change_note.data or "specification draft edited"):
                services.update_draft(
                    db(), row, request.form.get("version", type=int), limits, form.change_note.data or ""
                )
        except Refused as e:
            # The limits are inputs of their own beside the form's fields: their errors show next to them.
            errors = {k: v for k, v in e.errors.items() if k in values}
            show_refusal(form, Refused({k: v for k, v in e.errors.items() if k not in values}, e.problems))
        else:
            flash(t("Draft %(spec)s saved. A second QA person approves it.", spec=row.label), "success")
            return redirect(url_for("release.spec", spec_id=row.id))
    return render_template(
        "release/spec_edit.html", row=row, form=form, fields=fields, values=values, errors=errors
    )


@bp.route("/specifications/<int:spec_id>/approve", methods=["POST"])
@requires("spec.manage")
def approve_spec(spec_id: int):
    row = get_or_404(SpecificationVersion, spec_id)
    form = ApproveSpecForm()
    done = posted(
        form,
        lambda: services.approve_specification(db(), row, g.user, form.signature_password.data),
        "specification approved",
    )
    if done.ok:
        flash(t("%(spec)s approved. Make it effective when the site is ready.", spec=row.label), "success")
        return redirect(url_for("release.spec", spec_id=row.id))
    return _spec_page(row, approve_form=form, refused=done.problems)


@bp.route("/specifications/<int:spec_id>/effective", methods=["POST"])
@requires("spec.manage")
def make_effective(spec_id: int):
    row = get_or_404(SpecificationVersion, spec_id)
    if step(ConfirmStepForm(), lambda: services.make_effective(db(), row), "specification made effective").ok:
        flash(t("%(spec)s is now effective for new lots.", spec=row.label), "success")
    return redirect(url_for("release.spec", spec_id=row.id))
