"""Blinding (DOMAIN.md §5): what a user may read about the treatment behind a dose. In a blinded
protocol a user without the 'unblinded' permission reads the same words for active and placebo doses
(product, treatment, cells); every view of the treatment by an unblinded user and every emergency
unblinding is an audit event (action 'view')."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.audit import record_event
from bank.esign import sign
from bank.i18n import t
from bank.models import User
from bank.permissions import UNBLINDED
from bank.refusals import FORM, Problem, Refused, refuse_if
from bank.refusals import masked as masked_problems
from bank.uow import current_actor
from doses.models import Allocation, Patient, ProtocolVersion, Unblinding
from doses.rules import (
    Presentation,
    arm_for_dose,
    blinded_treatment_label,
    expected_presentation,
    presentation_problems,
    visible_product_code,
)
from doses.rules.protocol import Protocol
from doses.rules.words import millions
from doses.services.randomisation import sequence_of
from doses.states import UNBLINDING_MEANING
from lots.models import Container, Lot, ProductType

MASKED = t("masked")


def masked(protocol: Protocol, permissions) -> bool:
    """True when this user must not see the treatment of this protocol's doses."""
    return protocol.blinded and UNBLINDED not in permissions


@dataclass(frozen=True)
class DoseText:
    """The words a user reads about one dose: identical for both arms when masked."""

    treatment: str
    product: str
    cells: str
    containers: tuple[str, ...] = ()


def allocation_arm(allocation: Allocation) -> str:
    """'placebo' when the dose's containers are placebo, else 'active' (what was really allocated)."""
    return "placebo" if any(c.lot.product_type.is_placebo for c in allocation.containers) else "active"


def visible_code(protocol: Protocol, container: Container) -> str:
    """The product code printed on and shown for a container: a blinded protocol's one trial code for
    both arms (its own division kept), else the container's real code."""
    if protocol.blinded:
        return visible_product_code(protocol, container.division)
    return container.product_code


def container_text(protocol: Protocol, container: Container, permissions) -> str:
    """A container's identifier (DIN + product code) as this user may read it: masked users of a
    blinded protocol read the protocol's product code, so the code cannot tell the arm."""
    if masked(protocol, permissions):
        return f"{container.lot.din} {visible_code(protocol, container)}"
    return container.identifier


def dose_text(protocol: Protocol, allocation: Allocation, permissions) -> DoseText:
    hidden = masked(protocol, permissions)
    arm = allocation_arm(allocation)
    treatment = blinded_treatment_label(protocol, arm, allocation.dose_number, not hidden)
    containers = tuple(container_text(protocol, c, permissions) for c in allocation.containers)
    if hidden:
        return DoseText(treatment, protocol.blinded_product.name, MASKED, containers)
    products = sorted({c.lot.product_type.name for c in allocation.containers})
    cells = sum(c.cells for c in allocation.containers)
    return DoseText(
        treatment, ", ".join(products), t("%(cells)s × 10⁶ viable cells", cells=millions(cells)), containers
    )


def latest_product(session: Session, key: str | None) -> ProductType | None:
    if key is None:
        return None
    return session.scalar(
        select(ProductType).where(ProductType.key == key).order_by(ProductType.version.desc()).limit(1)
    )


def _presentation(product: ProductType, volume_ml: float, container_type: str) -> Presentation:
    return Presentation(
        float(volume_ml), container_type, product.storage_temperature, product.shelf_life_days
    )


def presentation_check(session: Session, protocol: Protocol, container: Container) -> list[Problem]:
    """Problems of a container of a blinded protocol whose visible presentation differs from the
    protocol's (doses.rules.blinding): its label or report would tell the arm, so it is never printed."""
    if not protocol.blinded:
        return []
    active = latest_product(session, protocol.product_key)
    expected = expected_presentation(protocol, _presentation(active, 0, ""))
    actual = _presentation(container.lot.product_type, container.volume_ml, container.container_type)
    return presentation_problems(
        protocol, expected, actual, t("Container %(container)s", container=container.identifier)
    )


def blinded_protocols_using(session: Session, product_key: str) -> list[Protocol]:
    """The active blinded protocols whose placebo is this product."""
    rows = session.scalars(select(ProtocolVersion).where(ProtocolVersion.status == "active"))
    return [p for p in (r.protocol() for r in rows) if p.blinded and p.placebo_product_key == product_key]


def placebo_formulation_problems(session: Session, lot: Lot, volume_ml, container_type) -> list[Problem]:
    """Receiver of bank.signals.formulation_requested: placebo containers must be filled exactly like the
    active product of every blinded protocol the placebo serves (volume, container type, storage and
    expiry rule), or a blinded person could tell the arms apart."""
    product = lot.product_type
    if not product.is_placebo or volume_ml is None or container_type is None:
        return []
    out: list[Problem] = []
    for protocol in blinded_protocols_using(session, product.key):
        active = latest_product(session, protocol.product_key)
        if active is None:
            continue
        expected = expected_presentation(protocol, _presentation(active, 0, ""))
        out += presentation_problems(
            protocol,
            expected,
            _presentation(product, volume_ml, container_type),
            t("Placebo lot %(din)s", din=lot.din_display),
        )
    return out


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
        record_event(
            session,
            "view",
            "patients",
            patient.id,
            {"treatment": [None, "[shown]"]},
            reason=f"unblinded view: {where}",
        )


def emergency_unblind(
    session: Session, patient: Patient, user: User, password: str, reason: str | None
) -> str:
    """Reveal the sequence of one subject in an emergency: reason and e-signature ('Emergency
    unblinding') required, recorded as an Unblinding and an audit 'view' event. Returns the sequence."""
    protocol = patient.protocol_version.protocol()
    if not protocol.blinded:
        raise Refused(
            {FORM: t("%(protocol)s is open-label: there is nothing to unblind.", protocol=protocol.code)}
        )
    refuse_if(
        {"reason": t("Say why the treatment must be known (emergency).")}
        if not (reason or "").strip()
        else {}
    )
    sequence = sequence_of(session, patient)
    if sequence is None:
        raise Refused({FORM: t("%(subject)s has no randomised sequence yet.", subject=patient.subject_id)})
    signature = sign(
        session,
        user,
        password,
        UNBLINDING_MEANING,
        "patients",
        patient.id,
        {"subject_id": patient.subject_id, "reason": reason.strip()},
    )
    session.add(
        Unblinding(patient_id=patient.id, user_id=user.id, reason=reason.strip(), signature_id=signature.id)
    )
    session.flush()
    actor = current_actor(session)
    record_event(
        session,
        "view",
        "patients",
        patient.id,
        {"treatment": [None, f"[shown to {actor.name}]"]},
        reason=f"emergency unblinding: {reason.strip()}",
    )
    return sequence


def sequence_text(protocol: Protocol, sequence: str) -> list[tuple[int, str]]:
    """(dose number, 'MSC' | 'Placebo') for each dose of an unblinded sequence."""
    return [
        (n, "MSC" if arm_for_dose(sequence, n) == "active" else "Placebo")
        for n in range(1, protocol.number_of_doses + 1)
    ]
