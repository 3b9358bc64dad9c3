"""Screens of biovigilance: the event register, recording an event against a patient, the event page
(follow-ups, investigation, look-forward for unblinded QA), the 2006/86/EC reports, follow-up visits, the
annual summary. Thin: form -> service -> redirect; a refusal is shown on the form and writes nothing."""

from __future__ import annotations

from flask import Flask, Response, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from bank.clock import today
from bank.esign import signature_valid, signatures_for
from bank.forms import ConfirmForm
from bank.i18n import N_, localize, t
from bank.languages import flash, local_time
from bank.lists import Export, SortColumn, listed, shown_status, shown_time
from bank.status import status_history
from bank.web import can, db, get_or_404, inline_pdf, posted, requires, submitted
from biovigilance import reports, rules, services
from biovigilance.blueprint import bp, event_input
from biovigilance.forms import CloseForm, EventForm, EventUpdateForm, FollowUpForm, HoldForm
from biovigilance.models import AdverseEvent
from biovigilance.states import EVENT_WORKFLOW, LOOK_FORWARD_HOLD_MEANING
from doses.models import Patient, ProtocolVersion


def init_app(app: Flask) -> None:
    from biovigilance import api  # noqa: F401  (JSON API routes)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append((N_("Adverse events"), "biovigilance.index", "event.view"))
    app.extensions.setdefault("bank.patient_panels", []).append(patient_panel)


def _protocol_codes() -> list[str]:
    return sorted(db().scalars(select(ProtocolVersion.code).distinct()))


EVENT_COLUMNS = (
    SortColumn("reference", N_("Reference"), AdverseEvent.id),
    SortColumn("onset", N_("Onset"), AdverseEvent.onset_at),
    SortColumn("serious", N_("Serious"), AdverseEvent.serious),
    SortColumn("imputability", N_("Imputability"), AdverseEvent.imputability),
    SortColumn("status", N_("Status"), AdverseEvent.status),
)
# The columns the register shows, as it shows them.
EVENT_EXPORT = Export(
    "adverse-events.csv",
    ("reference", "subject_id", "dose", "onset", "serious", "imputability", "status"),
    lambda e: (
        e.reference,
        e.patient.subject_id,
        e.allocation.dose_number if e.allocation else "",
        shown_time(e.onset_at),
        localize(t("yes") if e.serious else t("no")),
        localize(rules.IMPUTABILITY.get(e.imputability, e.imputability)),
        shown_status(e.status, EVENT_WORKFLOW),
    ),
)


@bp.route("/")
@requires("event.view")
def index():
    status = request.args.get("status", "")
    protocol = request.args.get("protocol", "")[:40]
    stmt = services.events_query(status if status in EVENT_WORKFLOW.states else None, protocol or None)
    # Every event as filtered in the CSV; newest first pages by key, another order by OFFSET.
    order, page = listed(stmt, EVENT_COLUMNS, AdverseEvent.id, EVENT_EXPORT, keyset=AdverseEvent.id)
    return render_template(
        "biovigilance/index.html",
        page=page,
        status=status,
        protocol=protocol,
        codes=_protocol_codes(),
        workflow=EVENT_WORKFLOW,
        imputability=rules.IMPUTABILITY,
        this_year=today().year,
        sorting=order,
    )


@bp.route("/patients/<int:patient_id>/events/new", methods=["GET", "POST"])
@requires("event.record")
def new_event(patient_id: int):
    patient = get_or_404(Patient, patient_id)
    doses = services.administered_doses(db(), patient)
    form = EventForm()
    form.allocation_id.choices = [("", _("no dose (not linked)"))] + [
        (
            a.id,
            _(
                "dose %(number)s, given %(when)s",
                number=a.dose_number,
                when=local_time(a.administered_at),
            ),
        )
        for a in doses
    ]
    if request.method == "GET" and doses:
        form.allocation_id.data = doses[-1].id
    done = posted(
        form,
        lambda: services.record_event(db(), patient, event_input(form, form.allocation_id.data)),
        "adverse event recorded",
    )
    if done.ok:
        event = done.value
        if event.held_at and can("unblinded"):
            flash(
                _(
                    "Event %(ref)s recorded. Serious and possibly related: the lot's remaining products are on hold and QA is alerted.",
                    ref=event.reference,
                ),
                "warning",
            )
        elif event.held_at:
            flash(
                _(
                    "Event %(ref)s recorded. Serious and possibly related: QA is alerted.",
                    ref=event.reference,
                ),
                "warning",
            )
        else:
            flash(_("Event %(ref)s recorded.", ref=event.reference), "success")
        return _back(event)
    return render_template(
        "biovigilance/new.html", form=form, patient=patient
    ), 200 if request.method == "GET" else 422


def _event_page(event: AdverseEvent, update_form=None, close_form=None, hold_form=None, code=200):
    session = db()
    found = services.look_forward(session, event) if can("unblinded") and can("event.hold") else None
    content = services.event_content(event)
    signatures = [
        (s, signature_valid(s, content)) for s in signatures_for(session, event.__tablename__, event.id)
    ]
    return render_template(
        "biovigilance/event.html",
        event=event,
        since=rules.time_since_infusion(
            event.onset_at, event.allocation.administered_at if event.allocation else None
        ),
        related=rules.is_related(event.imputability),
        words={
            "seriousness": rules.SERIOUSNESS,
            "grade": rules.GRADES,
            "outcome": rules.OUTCOMES,
            "imputability": rules.IMPUTABILITY,
        },
        updates=services.updates_of(session, event),
        history=status_history(session, event),
        workflow=EVENT_WORKFLOW,
        found=found,
        signatures=signatures,
        hold_meaning=LOOK_FORWARD_HOLD_MEANING,
        update_form=update_form or _update_form(event),
        close_form=close_form or CloseForm(),
        hold_form=hold_form or HoldForm(),
    ), code


def _back(event: AdverseEvent):
    return redirect(url_for("biovigilance.event", event_id=event.id))


def _update_form(event: AdverseEvent) -> EventUpdateForm:
    form = EventUpdateForm(formdata=None)
    form.description.data = event.description
    form.seriousness.data = event.seriousness_list
    form.grade.data = event.grade
    form.outcome.data = event.outcome
    form.imputability.data = event.imputability
    return form


@bp.route("/events/<int:event_id>")
@requires("event.view")
def event(event_id: int):
    return _event_page(get_or_404(AdverseEvent, event_id))


@bp.route("/events/<int:event_id>/update", methods=["POST"])
@requires("event.record")
def update_event(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    form = EventUpdateForm()
    if submitted(
        form,
        lambda: services.update_event(db(), event, event_input(form), form.note.data or ""),
        "adverse event follow-up",
    ):
        flash(_("Follow-up recorded."), "success")
        return _back(event)
    return _event_page(event, update_form=form, code=422)


@bp.route("/events/<int:event_id>/investigate", methods=["POST"])
@requires("event.investigate")
def investigate(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    form = ConfirmForm()
    if submitted(form, lambda: services.start_investigation(db(), event), "investigation opened"):
        flash(_("Investigation opened."), "success")
    return _back(event)


@bp.route("/events/<int:event_id>/close", methods=["POST"])
@requires("event.investigate")
def close(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    form = CloseForm()
    if submitted(
        form,
        lambda: services.close_investigation(
            db(),
            event,
            g.user,
            form.signature_password.data,
            form.conclusion.data or "",
            form.corrective_actions.data or "",
        ),
        "investigation closed",
    ):
        flash(_("Investigation closed and signed."), "success")
        return _back(event)
    return _event_page(event, close_form=form, code=422)


@bp.route("/events/<int:event_id>/hold", methods=["POST"])
@requires("event.hold")
def hold(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    if not can("unblinded"):
        return _event_page(event, code=403)
    form = HoldForm()
    done = posted(
        form,
        lambda: services.hold_look_forward(db(), event, g.user, form.signature_password.data),
        "look-forward hold",
    )
    if done.ok:
        flash(
            _("Every suspect product is on hold (%(count)s patient doses concerned).", count=len(done.value)),
            "warning",
        )
        return _back(event)
    return _event_page(event, hold_form=form, code=422)


@bp.route("/events/<int:event_id>/notification.pdf")
@requires("event.view")
def notification_report(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    return inline_pdf(reports.notification_pdf(db(), event), f"{event.reference}-notification.pdf")


@bp.route("/events/<int:event_id>/conclusions.pdf")
@requires("event.view")
def conclusions_report(event_id: int):
    event = get_or_404(AdverseEvent, event_id)
    if event.status != "closed":
        flash(_("The conclusions report is made once the investigation is closed and signed."), "warning")
        return _back(event)
    return inline_pdf(reports.conclusions_pdf(db(), event), f"{event.reference}-conclusions.pdf")


@bp.route("/patients/<int:patient_id>/follow-up", methods=["POST"])
@requires("event.record")
def record_follow_up(patient_id: int):
    patient = get_or_404(Patient, patient_id)
    form = follow_up_form(patient)
    if submitted(
        form,
        lambda: services.record_follow_up(
            db(), patient, form.label.data, form.visit_on.data, form.findings.data or ""
        ),
        "follow-up visit recorded",
    ):
        flash(_("Follow-up visit recorded."), "success")
        return redirect(url_for("doses.patient", patient_id=patient.id) + "#follow-up")
    return render_template(
        "biovigilance/follow_up.html",
        patient=patient,
        form=form,
        schedule=services.follow_up_schedule(db(), patient),
        today=today(),
    ), 422


def follow_up_form(patient: Patient) -> FollowUpForm:
    form = FollowUpForm()
    form.label.choices = [(f.label, f.label) for f in patient.protocol_version.protocol().follow_up]
    return form


def patient_panel(patient: Patient) -> Markup:
    """The patient page's follow-up and adverse events panel (registered in bank.patient_panels)."""
    if not can("event.view"):
        return Markup("")
    session = db()
    return Markup(
        render_template(
            "biovigilance/_patient_panel.html",
            patient=patient,
            schedule=services.follow_up_schedule(session, patient),
            today=today(),
            events=services.events_of_patient(session, patient),
            workflow=EVENT_WORKFLOW,
            form=follow_up_form(patient) if can("event.record") else None,
        )
    )


@bp.route("/summary")
@requires("event.investigate")
def summary():
    codes = _protocol_codes()
    protocol = request.args.get("protocol", codes[0] if codes else "")[:40]
    try:
        year = int(request.args.get("year", today().year))
    except ValueError:
        year = today().year
    year = min(max(year, 2000), 2100)
    result = services.annual_summary(db(), protocol, year)
    if request.args.get("format") == "pdf":
        return Response(reports.annual_summary_pdf(result), mimetype="application/pdf")
    return render_template(
        "biovigilance/summary.html", result=result, codes=codes, imputability=rules.IMPUTABILITY
    )
