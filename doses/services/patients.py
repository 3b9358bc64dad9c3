"""Patients and enrolment: pseudonymous subjects (trial-site-number, never a name), weights, the
protocol's checklist (computed items computed, the rest attested and signed by the investigator),
and each patient's dose schedule."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import today
from bank.db import rows_of
from bank.i18n import t
from bank.models import User
from bank.refusals import refuse_if
from bank.status import change_status, initial_status
from donors.models import Donor
from doses.models import Allocation, EligibilityAttestation, Patient, ProtocolVersion, WeightMeasurement
from doses.rules import (
    ScheduledDose,
    checklist_input_errors,
    date_errors,
    evaluate_checklist,
    normalise_subject_id,
    registration_errors,
    schedule,
    subject_id_error,
    validate_weight,
)
from doses.rules.protocol import Origin, Protocol
from doses.states import PATIENT_WORKFLOW


def register_patient(
    session: Session,
    *,
    protocol_version_id: int | None,
    subject_id: str | None,
    site: str | None,
    sex: str | None,
    date_of_birth: date | None,
    first_dose_on: date | None,
    donor_code: str | None = None,
    weight_kg=None,
    weight_measured_on: date | None = None,
) -> Patient:
    """Register a subject (status screening) or raise Refused naming every input error. An autologous
    protocol needs the patient's own autologous donor record (its code), which no other patient has."""
    errors: dict[str, str] = {}
    row = session.get(ProtocolVersion, protocol_version_id) if protocol_version_id else None
    protocol = row.protocol() if row is not None and row.status == "active" else None
    if protocol is None:
        errors["protocol_version_id"] = t("Choose a current protocol.")
    subject_id = normalise_subject_id(subject_id)
    if protocol is not None and (problem := subject_id_error(protocol, subject_id)):
        errors["subject_id"] = problem
    elif session.scalar(select(Patient.id).where(Patient.subject_id == subject_id)):
        errors["subject_id"] = t("Subject %(subject)s is already registered.", subject=subject_id)
    errors.update(
        registration_errors(
            protocol,
            site=site,
            sex=sex,
            date_of_birth=date_of_birth,
            first_dose_on=first_dose_on,
            today=today(),
        )
    )
    donor = _own_donor(session, protocol, donor_code, errors)
    if weight_kg not in (None, ""):
        errors.update(validate_weight(weight_kg))
        errors.update(date_errors("weight_measured_on", weight_measured_on, date_of_birth, today()))
    refuse_if(errors)
    patient = Patient(
        subject_id=subject_id,
        protocol_version_id=row.id,
        site=site,
        sex=sex,
        date_of_birth=date_of_birth,
        first_dose_on=first_dose_on,
        donor_id=donor.id if donor else None,
    )
    session.add(patient)
    initial_status(session, patient, PATIENT_WORKFLOW)
    if weight_kg not in (None, ""):
        session.add(
            WeightMeasurement(
                patient_id=patient.id, weight_kg=float(weight_kg), measured_on=weight_measured_on
            )
        )
    session.flush()
    return patient


def _own_donor(
    session: Session, protocol: Protocol | None, donor_code: str | None, errors: dict
) -> Donor | None:
    code = "".join((donor_code or "").split()).upper()
    if protocol is None:
        return None
    if protocol.origin is not Origin.AUTOLOGOUS:
        if code:
            errors["donor_code"] = t(
                "%(protocol)s is allogeneic: leave the donor record empty.", protocol=protocol.code
            )
        return None
    donor = session.scalar(select(Donor).where(Donor.code == code)) if code else None
    if donor is None:
        errors["donor_code"] = t("An autologous protocol needs the patient's own donor record (code DN-…).")
    elif not donor.is_autologous:
        errors["donor_code"] = t(
            "Donor %(donor)s is an allogeneic donor, not an autologous donor-patient.", donor=code
        )
    elif session.scalar(select(Patient.subject_id).where(Patient.donor_id == donor.id)):
        errors["donor_code"] = t("Donor %(donor)s is already linked to another patient.", donor=code)
    else:
        return donor
    return None


def record_weight(
    session: Session, patient: Patient, weight_kg, measured_on: date | None
) -> WeightMeasurement:
    """A weight measurement; refused when not a plausible weight or dated in the future or before birth."""
    errors = dict(validate_weight(weight_kg))
    errors.update(date_errors("measured_on", measured_on, patient.date_of_birth, today()))
    refuse_if(errors)
    w = WeightMeasurement(patient_id=patient.id, weight_kg=float(weight_kg), measured_on=measured_on)
    session.add(w)
    session.flush()
    return w


def weights_of(session: Session, patient: Patient) -> list[WeightMeasurement]:
    return rows_of(
        session,
        WeightMeasurement,
        WeightMeasurement.measured_on.desc(),
        WeightMeasurement.id.desc(),
        patient_id=patient.id,
    )


def current_weight(session: Session, patient: Patient, on: date) -> WeightMeasurement | None:
    """The latest weight measured on or before `on` (the rules then judge whether it is recent enough)."""
    return session.scalar(
        select(WeightMeasurement)
        .where(WeightMeasurement.patient_id == patient.id, WeightMeasurement.measured_on <= on)
        .order_by(WeightMeasurement.measured_on.desc(), WeightMeasurement.id.desc())
        .limit(1)
    )


# --- enrolment --------------------------------------------------------------------------------------


def attest_eligibility(
    session: Session,
    patient: Patient,
    user: User,
    password: str,
    *,
    evaluation_date: date | None,
    edss: str | None,
    diagnosis_date: date | None,
    answers: dict[str, str | None],
) -> EligibilityAttestation:
    """The investigator's signed checklist (PATIENT_WORKFLOW's 'enrolled' or 'not_eligible', signed with the
    meaning its table states): the patient becomes enrolled when eligible, not eligible otherwise (each
    reason kept). Raises Refused on missing or impossible input, TransitionRefused when the table refuses
    (an enrolled patient), SignatureError on a wrong password; nothing changes then."""
    protocol = patient.protocol_version.protocol()
    edss = (edss or "").strip() or None
    errors, clean = checklist_input_errors(
        protocol,
        dob=patient.date_of_birth,
        evaluation_date=evaluation_date,
        edss=edss,
        diagnosis_date=diagnosis_date,
        answers=answers,
        today=today(),
    )
    refuse_if(errors)
    outcome = evaluate_checklist(
        protocol, patient.date_of_birth, evaluation_date, edss, diagnosis_date, clean
    )
    computed = [[c.id, c.met, c.evidence] for c in outcome.computed]
    decision = "eligible" if outcome.eligible else "not_eligible"
    content = {
        "subject_id": patient.subject_id,
        "protocol": patient.protocol_version.label,
        "evaluation_date": evaluation_date,
        "edss": edss,
        "diagnosis_date": diagnosis_date,
        "answers": clean,
        "computed": computed,
        "outcome": decision,
    }
    change = change_status(
        session,
        patient,
        PATIENT_WORKFLOW,
        "enrolled" if outcome.eligible else "not_eligible",
        password=password,
        content=content,
        signer=user,
        reason="; ".join(outcome.reasons) or "all checklist items met",
    )
    record = EligibilityAttestation(
        patient_id=patient.id,
        protocol_version_id=patient.protocol_version_id,
        evaluation_date=evaluation_date,
        edss=edss,
        diagnosis_date=diagnosis_date,
        answers=json.dumps(clean, sort_keys=True),
        computed=json.dumps(computed),
        outcome=decision,
        signature_id=change.signature_id,
    )
    session.add(record)
    session.flush()
    return record


def attestation_content(patient: Patient, record: EligibilityAttestation) -> dict:
    """What was signed, rebuilt from the record (for the signature's validity check on display)."""
    return {
        "subject_id": patient.subject_id,
        "protocol": patient.protocol_version.label,
        "evaluation_date": record.evaluation_date,
        "edss": record.edss,
        "diagnosis_date": record.diagnosis_date,
        "answers": record.answer_map(),
        "computed": record.computed_items(),
        "outcome": record.outcome,
    }


def attestations_of(session: Session, patient: Patient) -> list[EligibilityAttestation]:
    return rows_of(session, EligibilityAttestation, EligibilityAttestation.id.desc(), patient_id=patient.id)


# --- schedule -------------------------------------------------------------------------------------


def administered_dates(session: Session, patient: Patient) -> dict[int, date]:
    rows = session.scalars(
        select(Allocation).where(Allocation.patient_id == patient.id, Allocation.status == "administered")
    )
    return {a.dose_number: a.administered_at.date() for a in rows}


def patient_schedule(session: Session, patient: Patient) -> list[ScheduledDose]:
    """Due date and window of each dose: dose 1 on the planned date, later doses from dose 1's actual date."""
    protocol = patient.protocol_version.protocol()
    return schedule(protocol, patient.first_dose_on, administered_dates(session, patient))
