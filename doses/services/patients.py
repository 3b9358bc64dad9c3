"""Patients and enrolment: pseudonymous subjects (trial-site-number, never a name), weights, the
protocol's checklist (computed items computed, the rest attested and signed by the investigator),
and each patient's dose schedule."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.esign import sign
from bank.models import User
from bank.status import change_status, initial_status
from donors.models import Donor
from donors.services import today
from doses.models import Allocation, EligibilityAttestation, Patient, ProtocolVersion, WeightMeasurement
from doses.protocols import CriterionKind, Measure, Origin, Protocol
from doses.rules import (
    ChecklistItem,
    ScheduledDose,
    checklist_computed,
    schedule,
    validate_date_of_birth,
    validate_edss,
    validate_weight,
)
from doses.services.errors import FORM, DoseError, refuse_if
from doses.states import ATTESTED_MEANING, PATIENT_WORKFLOW

# After the protocol code: site code and subject number, e.g. MESEMS-TLS-007. Letters and digits only,
# so a name cannot be typed in by mistake beyond a short site code.
SUBJECT_TAIL = re.compile(r"^[A-Z0-9]{1,10}-[0-9]{1,6}$")
OLDEST_BIRTH = date(1900, 1, 1)
PLAN_AHEAD = timedelta(days=730)  # a first dose planned more than two years ahead is a typing error


def normalise_subject_id(value: str | None) -> str:
    return "".join((value or "").split()).upper()


def subject_id_error(protocol: Protocol, subject_id: str) -> str | None:
    prefix = protocol.code.upper() + "-"
    if not subject_id.startswith(prefix) or not SUBJECT_TAIL.match(subject_id[len(prefix):]):
        return f"Subject id is {protocol.code.upper()}-<site>-<number>, e.g. {prefix}TLS-001 (no names)."
    return None


def _date_errors(field: str, value: date | None, dob: date | None, required: bool = True) -> dict[str, str]:
    if value is None:
        return {field: "Required."} if required else {}
    if value > today():
        return {field: "Cannot be in the future."}
    if dob is not None and value < dob:
        return {field: "Cannot be before the date of birth."}
    return {}


def register_patient(session: Session, *, protocol_version_id: int | None, subject_id: str | None, site: str | None,
                     sex: str | None, date_of_birth: date | None, first_dose_on: date | None,
                     donor_code: str | None = None, weight_kg=None, weight_measured_on: date | None = None) -> Patient:
    """Register a subject (status screening) or raise DoseError naming every problem. An autologous
    protocol needs the patient's own autologous donor record (its code), which no other patient has."""
    errors: dict[str, str] = {}
    row = session.get(ProtocolVersion, protocol_version_id) if protocol_version_id else None
    protocol = row.protocol() if row is not None and row.status == "active" else None
    if protocol is None:
        errors["protocol_version_id"] = "Choose a current protocol."
    subject_id = normalise_subject_id(subject_id)
    if protocol is not None and (problem := subject_id_error(protocol, subject_id)):
        errors["subject_id"] = problem
    elif session.scalar(select(Patient.id).where(Patient.subject_id == subject_id)):
        errors["subject_id"] = f"Subject {subject_id} is already registered."
    if protocol is not None and site not in protocol.sites:
        errors["site"] = f"Choose a site of {protocol.code}: " + "; ".join(protocol.sites) + "."
    if sex not in ("F", "M"):
        errors["sex"] = "Choose F or M."
    if date_of_birth is None:
        errors["date_of_birth"] = "Required."
    elif date_of_birth < OLDEST_BIRTH:
        errors["date_of_birth"] = "Not plausible (before 1900)."
    else:
        errors.update(validate_date_of_birth(date_of_birth, today()))
    if first_dose_on is None:
        errors["first_dose_on"] = "Required."
    elif date_of_birth is not None and first_dose_on < date_of_birth:
        errors["first_dose_on"] = "Cannot be before the date of birth."
    elif first_dose_on > today() + PLAN_AHEAD:
        errors["first_dose_on"] = "More than two years ahead: check the date."
    donor = _own_donor(session, protocol, donor_code, errors)
    if weight_kg not in (None, ""):
        errors.update(validate_weight(weight_kg))
        errors.update(_date_errors("weight_measured_on", weight_measured_on, date_of_birth))
    refuse_if(errors)
    patient = Patient(subject_id=subject_id, protocol_version_id=row.id, site=site, sex=sex,
                      date_of_birth=date_of_birth, first_dose_on=first_dose_on,
                      donor_id=donor.id if donor else None)
    session.add(patient)
    initial_status(session, patient, PATIENT_WORKFLOW)
    if weight_kg not in (None, ""):
        session.add(WeightMeasurement(patient_id=patient.id, weight_kg=float(weight_kg), measured_on=weight_measured_on))
    session.flush()
    return patient


def _own_donor(session: Session, protocol: Protocol | None, donor_code: str | None, errors: dict) -> Donor | None:
    code = "".join((donor_code or "").split()).upper()
    if protocol is None:
        return None
    if protocol.origin is not Origin.AUTOLOGOUS:
        if code:
            errors["donor_code"] = f"{protocol.code} is allogeneic: leave the donor record empty."
        return None
    donor = session.scalar(select(Donor).where(Donor.code == code)) if code else None
    if donor is None:
        errors["donor_code"] = "An autologous protocol needs the patient's own donor record (code DN-…)."
    elif not donor.is_autologous:
        errors["donor_code"] = f"Donor {code} is an allogeneic donor, not an autologous donor-patient."
    elif session.scalar(select(Patient.subject_id).where(Patient.donor_id == donor.id)):
        errors["donor_code"] = f"Donor {code} is already linked to another patient."
    else:
        return donor
    return None


def record_weight(session: Session, patient: Patient, weight_kg, measured_on: date | None) -> WeightMeasurement:
    """A weight measurement; refused when not a plausible weight or dated in the future or before birth."""
    errors = dict(validate_weight(weight_kg))
    errors.update(_date_errors("measured_on", measured_on, patient.date_of_birth))
    refuse_if(errors)
    w = WeightMeasurement(patient_id=patient.id, weight_kg=float(weight_kg), measured_on=measured_on)
    session.add(w)
    session.flush()
    return w


def weights_of(session: Session, patient: Patient) -> list[WeightMeasurement]:
    return list(session.scalars(select(WeightMeasurement).where(WeightMeasurement.patient_id == patient.id)
                                .order_by(WeightMeasurement.measured_on.desc(), WeightMeasurement.id.desc())))


def current_weight(session: Session, patient: Patient, on: date) -> WeightMeasurement | None:
    """The latest weight measured on or before `on` (the rules then judge whether it is recent enough)."""
    return session.scalar(select(WeightMeasurement).where(WeightMeasurement.patient_id == patient.id,
                                                          WeightMeasurement.measured_on <= on)
                          .order_by(WeightMeasurement.measured_on.desc(), WeightMeasurement.id.desc()).limit(1))


# --- enrolment checklist --------------------------------------------------------------------------


def field_name(item_id: str) -> str:
    """Form field of an attested checklist item ('MESEMS-I04' → 'item_MESEMS_I04')."""
    return "item_" + item_id.replace("-", "_")


@dataclass(frozen=True)
class ChecklistOutcome:
    computed: list[ChecklistItem]
    eligible: bool
    reasons: list[str]


def evaluate_checklist(protocol: Protocol, dob: date, evaluation_date: date, edss, diagnosis_date: date | None,
                       answers: dict[str, str]) -> ChecklistOutcome:
    """Eligible when every computed item is met, every attested inclusion item is 'yes' and every
    exclusion item is 'no'; `reasons` names each item that is not."""
    computed = checklist_computed(protocol, dob, evaluation_date, edss, diagnosis_date)
    reasons = [f"{c.id}: {c.text} — {'not met' if c.met is False else 'cannot be computed'} ({c.evidence})"
               for c in computed if c.met is not True]
    for c in protocol.checklist:
        if c.computed:
            continue
        expected = "yes" if c.kind is CriterionKind.INCLUSION else "no"
        if answers.get(c.id) != expected:
            reasons.append(f"{c.id}: {c.text} — {'not met' if expected == 'yes' else 'applies'}")
    return ChecklistOutcome(computed, not reasons, reasons)


def attest_eligibility(session: Session, patient: Patient, user: User, password: str, *,
                       evaluation_date: date | None, edss: str | None, diagnosis_date: date | None,
                       answers: dict[str, str | None]) -> EligibilityAttestation:
    """The investigator's signed checklist ('Eligibility checklist attested'): the patient becomes
    enrolled when eligible, not eligible otherwise (each reason kept). Raises DoseError on missing or
    impossible input, SignatureError on a wrong password; nothing changes then."""
    protocol = patient.protocol_version.protocol()
    if patient.status == "enrolled":
        raise DoseError({FORM: f"{patient.subject_id} is already enrolled."})
    measures = {c.measure for c in protocol.checklist if c.computed}
    errors = _date_errors("evaluation_date", evaluation_date, patient.date_of_birth)
    edss = (edss or "").strip() or None
    if Measure.EDSS in measures and edss is None:
        errors["edss"] = "Required: this protocol has an EDSS range."
    elif edss is not None:
        errors.update(validate_edss(edss))
    if Measure.DISEASE_DURATION_YEARS in measures or diagnosis_date is not None:
        errors.update(_date_errors("diagnosis_date", diagnosis_date, patient.date_of_birth))
    clean: dict[str, str] = {}
    for c in protocol.checklist:
        if c.computed:
            continue
        value = answers.get(c.id)
        if value not in ("yes", "no"):
            errors[field_name(c.id)] = "Answer yes or no."
        else:
            clean[c.id] = value
    refuse_if(errors)
    outcome = evaluate_checklist(protocol, patient.date_of_birth, evaluation_date, edss, diagnosis_date, clean)
    computed = [[c.id, c.met, c.evidence] for c in outcome.computed]
    decision = "eligible" if outcome.eligible else "not_eligible"
    content = {"subject_id": patient.subject_id, "protocol": patient.protocol_version.label,
               "evaluation_date": evaluation_date, "edss": edss, "diagnosis_date": diagnosis_date,
               "answers": clean, "computed": computed, "outcome": decision}
    signature = sign(session, user, password, ATTESTED_MEANING, "patients", patient.id, content)
    record = EligibilityAttestation(patient_id=patient.id, protocol_version_id=patient.protocol_version_id,
                                    evaluation_date=evaluation_date, edss=edss, diagnosis_date=diagnosis_date,
                                    answers=json.dumps(clean, sort_keys=True), computed=json.dumps(computed),
                                    outcome=decision, signature_id=signature.id)
    session.add(record)
    change_status(session, patient, PATIENT_WORKFLOW, "enrolled" if outcome.eligible else "not_eligible",
                  signature=signature, reason="; ".join(outcome.reasons) or "all checklist items met")
    session.flush()
    return record


def attestation_content(patient: Patient, record: EligibilityAttestation) -> dict:
    """What was signed, rebuilt from the record (for the signature's validity check on display)."""
    return {"subject_id": patient.subject_id, "protocol": patient.protocol_version.label,
            "evaluation_date": record.evaluation_date, "edss": record.edss, "diagnosis_date": record.diagnosis_date,
            "answers": record.answer_map(), "computed": record.computed_items(), "outcome": record.outcome}


def attestations_of(session: Session, patient: Patient) -> list[EligibilityAttestation]:
    return list(session.scalars(select(EligibilityAttestation).where(EligibilityAttestation.patient_id == patient.id)
                                .order_by(EligibilityAttestation.id.desc())))


# --- schedule -------------------------------------------------------------------------------------


def administered_dates(session: Session, patient: Patient) -> dict[int, date]:
    rows = session.scalars(select(Allocation).where(Allocation.patient_id == patient.id,
                                                    Allocation.status == "administered"))
    return {a.dose_number: a.administered_at.date() for a in rows}


def patient_schedule(session: Session, patient: Patient) -> list[ScheduledDose]:
    """Due date and window of each dose: dose 1 on the planned date, later doses from dose 1's actual date."""
    protocol = patient.protocol_version.protocol()
    return schedule(protocol, patient.first_dose_on, administered_dates(session, patient))

