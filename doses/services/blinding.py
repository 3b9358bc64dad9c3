"""Blinding (DOMAIN.md §5): what a user may read about the treatment behind a dose. In a blinded
protocol a user without the 'unblinded' permission reads the same words for active and placebo doses
(product, treatment, cells); every view of the treatment by an unblinded user and every emergency
unblinding is an audit event (action 'view')."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bank.audit import record_event
from bank.esign import sign
from bank.models import User
from bank.permissions import UNBLINDED
from bank.refusals import FORM, Problem, Refused, refuse_if
from bank.refusals import masked as masked_problems
from bank.uow import current_actor
from doses.models import Allocation, Patient, Unblinding
from doses.protocols import Protocol
from doses.rules import arm_for_dose, blinded_treatment_label
from doses.services.randomisation import sequence_of
from doses.states import UNBLINDING_MEANING

MASKED = "masked"


def masked(protocol: Protocol, permissions) -> bool:
    """True when this user must not see the treatment of this protocol's doses."""
    return protocol.blinded and UNBLINDED not in permissions


@dataclass(frozen=True)
class DoseText:
    """The words a user reads about one dose: identical for both arms when masked."""

    treatment: str
    product: str
    cells: str


def allocation_arm(allocation: Allocation) -> str:
    """'placebo' when the dose's containers are placebo, else 'active' (what was really allocated)."""
    return "placebo" if any(c.lot.product_type.is_placebo for c in allocation.containers) else "active"


def dose_text(protocol: Protocol, allocation: Allocation, permissions) -> DoseText:
    hidden = masked(protocol, permissions)
    arm = allocation_arm(allocation)
    treatment = blinded_treatment_label(protocol, arm, allocation.dose_number, not hidden)
    if hidden:
        return DoseText(treatment, treatment, MASKED)
    products = sorted({c.lot.product_type.name for c in allocation.containers})
    cells = sum(c.cells for c in allocation.containers)
    return DoseText(treatment, ", ".join(products), f"{cells / 1e6:g} × 10⁶ viable cells")


def planned_treatment(session: Session, patient: Patient, dose_number: int, permissions) -> str:
    """What the randomisation says for a dose, as this user may read it ('' when not randomised)."""
    protocol = patient.protocol_version.protocol()
    sequence = sequence_of(session, patient)
    if sequence is None:
        return ""
    return blinded_treatment_label(protocol, sequence, dose_number, not masked(protocol, permissions))


def visible_problems(problems, protocol: Protocol, permissions) -> list[Problem]:
    """The problems of a proposal as this user may read them: in a blinded protocol, for a masked user,
    every problem that could reveal the treatment becomes one neutral problem (bank.refusals.masked), so
    neither its text nor its count tells the arm. Refusals raised as Refused are masked the same way by
    the screen and API mappings."""
    problems = list(problems)
    return masked_problems(problems, permissions) if masked(protocol, permissions) else problems


def log_treatment_view(session: Session, patients: list[Patient], where: str) -> None:
    """Audit that an unblinded user was shown the treatment of these subjects (one event each)."""
    for patient in patients:
        record_event(session, "view", "patients", patient.id, {"treatment": [None, "[shown]"]},
                     reason=f"unblinded view: {where}")


def emergency_unblind(session: Session, patient: Patient, user: User, password: str, reason: str | None) -> str:
    """Reveal the sequence of one subject in an emergency: reason and e-signature ('Emergency
    unblinding') required, recorded as an Unblinding and an audit 'view' event. Returns the sequence."""
    protocol = patient.protocol_version.protocol()
    if not protocol.blinded:
        raise Refused({FORM: f"{protocol.code} is open-label: there is nothing to unblind."})
    refuse_if({"reason": "Say why the treatment must be known (emergency)."} if not (reason or "").strip() else {})
    sequence = sequence_of(session, patient)
    if sequence is None:
        raise Refused({FORM: f"{patient.subject_id} has no randomised sequence yet."})
    signature = sign(session, user, password, UNBLINDING_MEANING, "patients", patient.id,
                     {"subject_id": patient.subject_id, "reason": reason.strip()})
    session.add(Unblinding(patient_id=patient.id, user_id=user.id, reason=reason.strip(), signature_id=signature.id))
    session.flush()
    actor = current_actor(session)
    record_event(session, "view", "patients", patient.id, {"treatment": [None, f"[shown to {actor.name}]"]},
                 reason=f"emergency unblinding: {reason.strip()}")
    return sequence


def sequence_text(protocol: Protocol, sequence: str) -> list[tuple[int, str]]:
    """(dose number, 'MSC' | 'Placebo') for each dose of an unblinded sequence."""
    return [(n, "MSC" if arm_for_dose(sequence, n) == "active" else "Placebo")
            for n in range(1, protocol.number_of_doses + 1)]
