"""Dose pages: allocation (first-expiry-first-out proposal, then allocation re-checked under lock), one
dose with its containers and history, de-allocation with a reason, administration, holds, and the dose
list with its CSV export. A masked user reads the same words for active and placebo doses everywhere."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from sqlalchemy import func, select

from bank.i18n import N_, t
from bank.languages import flash
from bank.lists import (
    ExportedBy,
    SortColumn,
    csv_download,
    listed,
    shown_status,
    shown_time,
    sorting,
)
from bank.refusals import Problem, Refused
from bank.status import status_history
from bank.web import db, get_or_404, requires, show_refusal, submitted, work
from doses import services
from doses.blueprint import (
    bp,
    dose_shown,
    is_masked,
    local_datetime,
    log_unblinded_view,
    protocol_codes,
    subject_filters,
)
from doses.forms import AllocateForm, DeallocateForm, LiftHoldForm
from doses.models import AllocatedContainer, Allocation, Patient, ProtocolVersion
from doses.states import ALLOCATION_STATES, ALLOCATION_WORKFLOW
from lots.models import Container, Lot


def _listed(form, refused: Refused) -> list[Problem]:
    """The allocation form shows input errors and problems about a field next to that field
    (bank.web.show_refusal) and lists the others with their rule ids and evidence. Problems that would
    reveal a blinded arm are masked for users without the unblinded permission."""
    shown = refused.visible_to(g.actor.permissions)
    show_refusal(form, Refused(shown.errors, [p for p in shown.problems if p.field]))
    return [p for p in shown.problems if not p.field]


@bp.route("/patients/<int:patient_id>/allocate", methods=["GET", "POST"])
@requires("dose.allocate")
def allocate(patient_id: int):
    patient = get_or_404(Patient, patient_id)
    protocol = patient.protocol_version.protocol()
    form = AllocateForm()
    if request.method == "GET":
        form.dose_number.data = request.args.get("dose", type=int)
        form.planned_date.data = _date_arg(request.args.get("date"))
    proposal, problems, code = [], [], 200
    if request.method == "POST" and form.validate():
        try:
            planned_at = local_datetime(form.planned_date.data, form.planned_time.data)
            if request.form.get("action") == "allocate":
                ids = [int(i) for i in (form.container_ids.data or "").split(",") if i.strip().isdigit()]
                with work(f"dose {form.dose_number.data} allocated to {patient.subject_id}"):
                    allocation = services.allocate_dose(
                        db(), patient, form.dose_number.data, planned_at, ids or None
                    )
                flash(t("Dose %(number)s allocated.", number=allocation.dose_number), "success")
                return redirect(url_for("doses.allocation", allocation_id=allocation.id))
            # A proposal writes nothing: its problems are read, not raised (only impossible input is).
            selection, by_identifier = services.propose(db(), patient, form.dose_number.data, planned_at)
            proposal = [by_identifier[f.container_id] for f in selection.containers]
            visible = services.visible_problems(selection.problems, protocol, g.actor.permissions)
            problems = _listed(form, Refused(problems=visible))
            form.container_ids.data = ",".join(str(c.id) for c in proposal)
        except Refused as e:
            problems, code = _listed(form, e), e.status
    elif request.method == "POST":
        code = 422
    return render_template(
        "doses/allocate.html",
        patient=patient,
        p=protocol,
        form=form,
        proposal=proposal,
        problems=problems,
        masked=is_masked(protocol),
    ), code


def _date_arg(value):
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _allocation_page(allocation: Allocation, forms=None, code=200):
    history = status_history(db(), allocation)
    forms = forms or {}
    return render_template(
        "doses/allocation.html",
        **dose_shown(allocation, f"dose #{allocation.id}"),
        history=history,
        deallocate_form=forms.get("deallocate") or DeallocateForm(),
        lift_form=forms.get("lift") or LiftHoldForm(),
    ), code


@bp.route("/allocations/<int:allocation_id>")
@requires("dose.view")
def allocation(allocation_id: int):
    return _allocation_page(get_or_404(Allocation, allocation_id))


@bp.route("/allocations/<int:allocation_id>/deallocate", methods=["POST"])
@requires("dose.allocate")
def deallocate(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    form = DeallocateForm()
    if submitted(form, lambda: services.deallocate(db(), allocation, form.reason.data), form.reason.data):
        flash(t("Dose deallocated; its containers are free again."), "success")
        return redirect(url_for("doses.allocation", allocation_id=allocation.id))
    return _allocation_page(allocation, {"deallocate": form}, 422)


@bp.route("/allocations/<int:allocation_id>/lift-hold", methods=["POST"])
@requires("lot.hold")
def lift_hold(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    form = LiftHoldForm()
    if submitted(
        form,
        lambda: services.lift_dose_hold(
            db(), allocation, g.user, form.signature_password.data, form.reason.data
        ),
        form.reason.data,
    ):
        flash(t("Hold lifted."), "success")
        return redirect(url_for("doses.allocation", allocation_id=allocation.id))
    return _allocation_page(allocation, {"lift": form}, 422)


def _doses_query():
    """The dose list as filtered: `(stmt, filters)` (doses.blueprint.subject_filters)."""
    stmt = (
        select(Allocation)
        .join(Patient, Allocation.patient_id == Patient.id)
        .join(ProtocolVersion, Patient.protocol_version_id == ProtocolVersion.id)
        .order_by(Allocation.id.desc())
    )
    return subject_filters(stmt, Allocation.status, ALLOCATION_STATES)


# Never the treatment, the product or the cells: an order by them would tell a blinded reader the arms.
DOSE_COLUMNS = (
    SortColumn("subject", N_("Subject"), Patient.subject_id),
    SortColumn("protocol", N_("Protocol"), ProtocolVersion.code),
    SortColumn("number", N_("No."), Allocation.dose_number),
    SortColumn("planned", N_("Planned"), Allocation.planned_at),
    SortColumn("status", N_("Status"), Allocation.status),
)


@bp.route("/doses")
@requires("dose.view")
def doses():
    stmt, filters = _doses_query()
    # Newest first pages by key; another order chosen in a header pages by OFFSET.
    order, page = listed(stmt, DOSE_COLUMNS, Allocation.id, ExportedBy(_doses_csv), keyset=Allocation.id)
    rows = [
        (a, services.dose_text(a.patient.protocol_version.protocol(), a, g.actor.permissions))
        for a in page.items
    ]
    log_unblinded_view(list({a.patient.id: a.patient for a in page.items}.values()), "dose list")
    return render_template(
        "doses/doses.html",
        page=page,
        rows=rows,
        **filters,
        codes=protocol_codes(),
        statuses=ALLOCATION_STATES,
        workflow=ALLOCATION_WORKFLOW,
        sorting=order,
    )


@bp.route("/doses.csv")
@requires("dose.view")
def export():
    """The dose list as CSV (same filters and order; the list's own ?export=csv is the same file)."""
    stmt, _filters = _doses_query()
    return _doses_csv(sorting(*DOSE_COLUMNS).apply(stmt, Allocation.id))


# Each dose reads its containers (and its arm, masked or not): a longer export is narrowed with the
# filters first, as before issue 24.
DOSE_EXPORT_LIMIT = 5000


def _doses_csv(stmt):
    """What the list shows, every dose as filtered: masked columns read the same for active and placebo
    (services.dose_text with the reader's permissions), and reading them unblinded is audited."""
    items = list(db().scalars(stmt.limit(DOSE_EXPORT_LIMIT)))
    rows = []
    for a in items:
        text = services.dose_text(a.patient.protocol_version.protocol(), a, g.actor.permissions)
        words = shown_status(a.status, ALLOCATION_WORKFLOW)
        rows.append(
            (
                a.id,
                a.patient.subject_id,
                a.patient.protocol_version.label,
                a.dose_number,
                shown_time(a.planned_at),
                text.treatment,
                text.product,
                text.cells,
                " | ".join(text.containers),
                f"{words} {a.hold_reason}" if a.hold_reason else words,
                shown_time(a.allocated_at),
            )
        )
    log_unblinded_view(list({a.patient.id: a.patient for a in items}.values()), "dose export (CSV)")
    header = (
        "allocation",
        "subject_id",
        "protocol",
        "dose_number",
        "planned",
        "treatment",
        "product",
        "cells",
        "containers",
        "status",
        "allocated",
    )
    return csv_download("doses.csv", header, rows)


def resolve_scan(session, scan):
    """Scan box: a subject id opens the patient; a container's DIN (with its product code or a blinded
    label's trial code, matched by division) opens the dose that holds it — the page a blinded user may
    read, where the lot and container pages are masked for them."""
    if scan.isbt is None:
        if len(scan.text) > 40:
            return None
        patient_id = session.scalar(
            select(Patient.id).where(func.upper(Patient.subject_id) == scan.text.upper())
        )
        return url_for("doses.patient", patient_id=patient_id) if patient_id else None
    if not scan.din:
        return None
    stmt = (
        select(AllocatedContainer.allocation_id)
        .join(Container, Container.id == AllocatedContainer.container_id)
        .join(Lot, Lot.id == Container.lot_id)
        .where(Lot.din == scan.din, AllocatedContainer.released_at.is_(None))
    )
    if scan.product_code:
        stmt = stmt.where(Container.division == scan.product_code[6:])
    held = set(session.scalars(stmt))
    return url_for("doses.allocation", allocation_id=held.pop()) if len(held) == 1 else None
