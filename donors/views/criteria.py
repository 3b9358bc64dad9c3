"""Criteria set versions: list, view, draft a new version from an existing one, review and activate
with QA signatures, and see what a version would decide for every donor."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from bank.esign import signature_valid, signatures_for
from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import Export, SortColumn, shown_status, shown_time, whole_table
from bank.refusals import Refused
from bank.status import status_history
from bank.web import db, get_or_404, posted, requires, submitted
from donors import forms, services
from donors.blueprint import bp
from donors.models import CriteriaSetVersion
from donors.rules import editable_thresholds
from donors.rules.criteria import EVIDENCE_NAMES, LOOK_BACK_NAMES, PARAM_NAMES
from donors.services.criteria import parse

# One whole sentence per step (the step is a word of the sentence).
STEP_REFUSED = {
    "review": N_("Review refused: %(message)s"),
    "activate": N_("Activate refused: %(message)s"),
    "retire": N_("Retire refused: %(message)s"),
}


CRITERIA_COLUMNS = (
    SortColumn("version", N_("Version"), CriteriaSetVersion.number),
    SortColumn("status", N_("Status"), CriteriaSetVersion.status),
    SortColumn("created", N_("Created"), CriteriaSetVersion.created_at),
)
CRITERIA_EXPORT = Export(  # the table as shown
    "criteria-sets.csv",
    ("version", "status", "note", "created"),
    lambda v: (v.label, shown_status(v.status), localize(v.note), shown_time(v.created_at)),
)


@bp.route("/criteria")
@requires("donor.view")
def criteria_index():
    stmt = select(CriteriaSetVersion).order_by(CriteriaSetVersion.name, CriteriaSetVersion.number.desc())
    order, versions = whole_table(stmt, CRITERIA_COLUMNS, CriteriaSetVersion.id, CRITERIA_EXPORT)
    return render_template("donors/criteria_index.html", versions=versions, sorting=order)


@bp.route("/criteria/<int:version_id>")
@requires("donor.view")
def criteria_show(version_id: int):
    row = get_or_404(CriteriaSetVersion, version_id)
    content = services.content_for_signature(row)
    sigs = [(s, signature_valid(s, content)) for s in signatures_for(db(), row.__tablename__, row.id)]
    return render_template(
        "donors/criteria_show.html",
        row=row,
        cs=parse(row),
        signatures=sigs,
        history=status_history(db(), row),
        sign_form=forms.SignForm(),
        retire_form=forms.RetireForm(),
        evidence_names=EVIDENCE_NAMES,
        look_back_names=LOOK_BACK_NAMES,
        param_names=PARAM_NAMES,
    )


@bp.route("/criteria/<int:version_id>/draft", methods=["GET", "POST"])
@requires("criteria.manage")
def criteria_draft(version_id: int):
    source = get_or_404(CriteriaSetVersion, version_id)
    cs = parse(source)
    thresholds = editable_thresholds(cs)
    form = forms.draft_form(thresholds, cs.sample_days_before, cs.sample_days_after)

    def draft():
        values = {key: form[forms.threshold_field(key)].data for key, *_ in thresholds}
        try:
            return services.draft_new_version(
                db(), source, values, form.window_before.data, form.window_after.data, form.note.data, g.user
            )
        except Refused as e:  # thresholds are refused by key "RULE-ID.param": show them on their fields
            errors = {forms.threshold_field(k) if "." in k else k: v for k, v in e.errors.items()}
            raise Refused(errors, e.problems) from None

    done = posted(form, draft, "new criteria set version drafted")
    if done.ok:
        flash(_("Draft %(label)s created; another QA person reviews it.", label=done.value.label), "success")
        return redirect(url_for("donors.criteria_show", version_id=done.value.id))
    return render_template(
        "donors/form.html",
        form=form,
        title=_("New version from %(label)s", label=source.label),
        donor=None,
        submit=_("Create draft"),
        intro=_("Thresholds only; the list of criteria and markers stays that of the source."),
    )


@bp.route("/criteria/<int:version_id>/<step>", methods=["POST"])
@requires("criteria.manage")
def criteria_step(version_id: int, step: str):
    row = get_or_404(CriteriaSetVersion, version_id)
    if step not in ("review", "activate", "retire"):
        abort(404)
    form = forms.RetireForm() if step == "retire" else forms.SignForm()
    actions = {
        "review": lambda: services.review_version(db(), row, g.user, form.signature_password.data),
        "activate": lambda: services.activate_version(db(), row, g.user, form.signature_password.data),
        "retire": lambda: services.retire_draft(db(), row, form.reason.data),
    }
    if submitted(form, actions[step], form.reason.data if step == "retire" else None):
        flash(t("%(label)s: %(status)s.", label=row.label, status=t(row.status)), "success")
        return redirect(url_for("donors.criteria_show", version_id=row.id))
    messages = [e for f in form for e in f.errors] + list(form.form_errors)
    for message in messages:
        flash(t(STEP_REFUSED[step], message=message), "danger")
    return redirect(url_for("donors.criteria_show", version_id=row.id))


@bp.route("/criteria/<int:version_id>/reevaluate")
@requires("donor.determine")
def criteria_reevaluate(version_id: int):
    row = get_or_404(CriteriaSetVersion, version_id)
    return render_template("donors/reevaluate.html", row=row, results=services.reevaluate_all(db(), row))
