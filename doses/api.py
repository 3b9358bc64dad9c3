"""Patient and allocation endpoints of the JSON API, for the clinical sites' systems. Blinded doses read
the same for active and placebo unless the token's owner holds the unblinded permission."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select
from wtforms import SelectMultipleField
from wtforms.validators import Length, Optional

from bank.api import PAGE_QUERY, api_route, api_write, page_json
from bank.forms import entered
from bank.i18n import t
from bank.web import LIKE_ESCAPE, db, get_or_404, like_pattern, paginate
from doses import services
from doses.blueprint import ensure_protocols, local_datetime
from doses.forms import AllocateForm, PatientForm, WeightForm
from doses.models import Allocation, Patient
from doses.services import masked

MAX_CHOSEN = 20


class ApiAllocateForm(AllocateForm):
    # Empty: the first-expiry-first-out proposal. Ids: those containers, checked by the rules the screen's
    # choice is checked by (doses.services.allocate_dose).
    container_ids = SelectMultipleField(
        t("Containers chosen (ids); leave out for the first-expiry-first-out proposal"),
        coerce=int,
        validate_choice=False,
        validators=[
            Optional(),
            Length(max=MAX_CHOSEN, message=t("At most %(count)s containers.", count=MAX_CHOSEN)),
        ],
    )


CONTAINER_IDS = {
    "type": "array",
    "items": {"type": "integer", "minimum": 1},
    "maxItems": MAX_CHOSEN,
    "description": "Containers chosen (ids); leave out for the first-expiry-first-out proposal",
}


def _patient_choices(form) -> None:
    if g.get("actor") is not None:  # the public OpenAPI document only reads what is there
        ensure_protocols()
    rows = services.active_protocols(db())
    form.protocol_version_id.choices = [(r.id, f"{r.code} v{r.version}") for r in rows]
    form.site.choices = sorted({(s, s) for r in rows for s in r.protocol().sites})


def allocation_json(a: Allocation) -> dict:
    protocol = a.patient.protocol_version.protocol()
    text = services.dose_text(protocol, a, g.actor.permissions)
    return {
        "id": a.id,
        "patient_id": a.patient_id,
        "subject_id": a.patient.subject_id,
        "dose_number": a.dose_number,
        "planned_at": a.planned_at.isoformat(),
        "status": a.status,
        "treatment": text.treatment,
        "product": text.product,
        "cells": text.cells,
        "containers": list(text.containers),
        "administered_at": a.administered_at.isoformat() if a.administered_at else None,
    }


def patient_json(p: Patient, detail: bool = False) -> dict:
    data = {
        "id": p.id,
        "subject_id": p.subject_id,
        "protocol": p.protocol_version.code,
        "site": p.site,
        "sex": p.sex,
        "date_of_birth": p.date_of_birth.isoformat(),
        "status": p.status,
    }
    if detail:
        session = db()
        protocol = p.protocol_version.protocol()
        data["schedule"] = [
            {
                "dose_number": s.number,
                "due": s.due.isoformat(),
                "window_start": s.window_start.isoformat(),
                "window_end": s.window_end.isoformat(),
            }
            for s in services.patient_schedule(session, p)
        ]
        data["allocations"] = [allocation_json(a) for a in services.allocations_of(session, p)]
        if protocol.blinded and not masked(protocol, g.actor.permissions):
            data["sequence"] = services.sequence_of(session, p)
    return data


@api_route(
    "/patients",
    permission="patient.view",
    summary="List trial subjects (search by subject id)",
    query={**PAGE_QUERY, "q": {"type": "string", "maxLength": 40}},
)
def patients_list():
    stmt = select(Patient).order_by(Patient.id.desc())
    q = request.args.get("q", "").strip().upper()[:40]
    if q:
        stmt = stmt.where(Patient.subject_id.like(like_pattern(q), escape=LIKE_ESCAPE))
    return jsonify(page_json(paginate(stmt), patient_json))


def _patient_detail(p: Patient) -> dict:
    return patient_json(p, detail=True)


@api_write(
    "/patients",
    form=PatientForm,
    prepare=_patient_choices,
    permission="patient.enroll",
    reason="patient registered (API)",
    answer=_patient_detail,
    summary="Register a trial subject (no names); enrolment follows the signed checklist on screen",
)
def patients_register(form: PatientForm) -> Patient:
    weight_kg = (form.weight_kg.data or "").strip() or None
    return services.register_patient(db(), **entered(form, "weight_kg"), weight_kg=weight_kg)


@api_route(
    "/patients/<int:patient_id>",
    permission="patient.view",
    summary="One subject with the dose schedule and allocations",
)
def patients_show(patient_id: int):
    return jsonify(patient_json(get_or_404(Patient, patient_id), detail=True))


@api_write(
    "/patients/<int:patient_id>/weights",
    Patient,
    form=WeightForm,
    permission="patient.enroll",
    reason="weight recorded (API)",
    answer=_patient_detail,
    summary="Record a weight measurement (the dose and endotoxin limit use the current weight)",
)
def patients_weight(patient: Patient, form: WeightForm) -> Patient:
    services.record_weight(db(), patient, form.weight_kg.data, form.measured_on.data)
    return patient


@api_write(
    "/patients/<int:patient_id>/allocations",
    Patient,
    form=ApiAllocateForm,
    permission="dose.allocate",
    reason=lambda form, patient: f"dose {form.dose_number.data} allocated to {patient.subject_id} (API)",
    answer=allocation_json,
    extra_properties={"container_ids": CONTAINER_IDS},
    summary="Allocate containers to a scheduled dose: the first-expiry-first-out proposal, or the containers "
    "chosen in container_ids; a refusal names every reason with its rule id",
)
def patients_allocate(patient: Patient, form: ApiAllocateForm) -> Allocation:
    planned_at = local_datetime(form.planned_date.data, form.planned_time.data)
    chosen = form.container_ids.data or None
    # A refusal answers 409 with every problem (rule id, message, evidence), masked for blinded tokens.
    return services.allocate_dose(db(), patient, form.dose_number.data, planned_at, chosen)


@api_route("/allocations/<int:allocation_id>", permission="dose.view", summary="One allocated dose")
def allocations_show(allocation_id: int):
    return jsonify(allocation_json(get_or_404(Allocation, allocation_id)))
