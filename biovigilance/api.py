"""Biovigilance endpoints of the JSON API, so a clinical site's system can report adverse events, their
follow-ups and follow-up visits. The same services and rules as the screens; refusals are answered by
bank.api's one handler (422 input, 409 rule). The arm and the lot behind a dose are never given here."""

from __future__ import annotations

from flask import jsonify

from bank.api import api_route, api_write
from bank.clock import today
from bank.web import db, get_or_404
from biovigilance import services
from biovigilance.blueprint import event_input
from biovigilance.forms import EventForm, EventUpdateForm, FollowUpForm
from biovigilance.models import AdverseEvent
from doses.models import Patient


def event_json(event: AdverseEvent) -> dict:
    administered = event.allocation.administered_at if event.allocation else None
    return {
        "id": event.id,
        "reference": event.reference,
        "patient_id": event.patient_id,
        "subject_id": event.patient.subject_id,
        "allocation_id": event.allocation_id,
        "dose_number": event.allocation.dose_number if event.allocation else None,
        "onset_at": event.onset_at.isoformat(),
        "hours_since_infusion": round((event.onset_at - administered).total_seconds() / 3600, 1)
        if administered
        else None,
        "description": event.description,
        "seriousness": event.seriousness_list,
        "serious": event.serious,
        "grade": event.grade,
        "outcome": event.outcome,
        "imputability": event.imputability,
        "status": event.status,
        "held": event.held_at is not None,
        "updates": [
            {"recorded_at": u.recorded_at.isoformat(), "changes": u.changes, "note": u.note}
            for u in services.updates_of(db(), event)
        ],
    }


@api_write(
    "/patients/<int:patient_id>/adverse-events",
    Patient,
    form=EventForm,
    permission="event.record",
    reason="adverse event recorded (API)",
    answer=event_json,
    summary="Record an adverse event in a patient, linked to one of their administered doses (optional)",
)
def biovigilance_record_event(patient: Patient, form: EventForm) -> AdverseEvent:
    return services.record_event(db(), patient, event_input(form, form.allocation_id.data))


@api_route(
    "/adverse-events/<int:event_id>", permission="event.view", summary="One adverse event with its follow-ups"
)
def biovigilance_event(event_id: int):
    return jsonify(event_json(get_or_404(AdverseEvent, event_id)))


@api_write(
    "/adverse-events/<int:event_id>/updates",
    AdverseEvent,
    form=EventUpdateForm,
    permission="event.record",
    reason="adverse event follow-up (API)",
    answer=event_json,
    summary="Record a follow-up of an adverse event (new outcome, grade, imputability…) with a note",
)
def biovigilance_update_event(event: AdverseEvent, form: EventUpdateForm) -> AdverseEvent:
    services.update_event(db(), event, event_input(form), form.note.data or "")
    return event


def _schedule_json(patient: Patient) -> dict:
    return {
        "subject_id": patient.subject_id,
        "visits": [
            {
                "label": f.label,
                "due_on": f.due_on.isoformat(),
                "window_days": f.window_days,
                "recorded_on": f.recorded_on.isoformat() if f.recorded_on else None,
                "state": f.state(today()),
            }
            for f in services.follow_up_schedule(db(), patient)
        ],
    }


@api_route(
    "/patients/<int:patient_id>/follow-up",
    permission="event.view",
    summary="The patient's follow-up visits: due dates from the protocol and what was recorded",
)
def biovigilance_follow_up(patient_id: int):
    return jsonify(_schedule_json(get_or_404(Patient, patient_id)))


@api_write(
    "/patients/<int:patient_id>/follow-up",
    Patient,
    form=FollowUpForm,
    permission="event.record",
    reason="follow-up visit recorded (API)",
    answer=_schedule_json,
    summary="Record a follow-up visit the protocol schedules",
)
def biovigilance_record_follow_up(patient: Patient, form: FollowUpForm) -> Patient:
    services.record_follow_up(
        db(), patient, form.label.data or "", form.visit_on.data, form.findings.data or ""
    )
    return patient
