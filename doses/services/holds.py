"""Safety holds on doses: a donor look-back or a late release result puts every allocated or issued
dose of the containers concerned on hold and names the patients affected (including those already
given a dose, who must be followed up by the investigator)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.esign import sign
from bank.models import User
from bank.status import TransitionRefused, change_status
from doses.models import AllocatedContainer, Allocation
from doses.services.errors import DoseError
from doses.states import ALLOCATION_WORKFLOW, HOLD_LIFTED_MEANING, HOLDABLE
from lots.models import Container
from lots.services import containers_of, lots_of_donor
from release.services import lot_is_released


@contextmanager
def _on_behalf_of_safety_hold(session: Session):
    """A safety hold follows from a recorded result, not from a choice of whoever recorded it: the
    transition is taken with 'dose.allocate' added for this call only, still attributed to them."""
    actor = session.info["actor"]
    session.info["actor"] = replace(actor, permissions=actor.permissions | {"dose.allocate"})
    try:
        yield
    finally:
        session.info["actor"] = actor


def allocations_of_containers(session: Session, container_ids: list[int]) -> list[Allocation]:
    """Every allocation not deallocated that holds (or held, when given) one of these containers."""
    if not container_ids:
        return []
    return list(session.scalars(
        select(Allocation).join(AllocatedContainer, AllocatedContainer.allocation_id == Allocation.id)
        .where(AllocatedContainer.container_id.in_(container_ids), AllocatedContainer.released_at.is_(None))
        .distinct().order_by(Allocation.id)))


def hold_doses(session: Session, container_ids: list[int], reason: str) -> list[str]:
    """Hold every allocated or issued dose of these containers; one line per patient dose affected."""
    lines = []
    with _on_behalf_of_safety_hold(session):
        for allocation in allocations_of_containers(session, container_ids):
            subject = f"{allocation.patient.subject_id} dose {allocation.dose_number}"
            if allocation.status in HOLDABLE:
                allocation.held_from, allocation.hold_reason = allocation.status, reason
                change_status(session, allocation, ALLOCATION_WORKFLOW, "on_hold", reason=reason)
                lines.append(f"{subject}: dose put on hold (was {allocation.held_from})")
            elif allocation.status == "administered":
                lines.append(f"{subject}: ALREADY ADMINISTERED on {allocation.administered_at:%Y-%m-%d} — "
                             "inform the investigator")
            else:
                lines.append(f"{subject}: already on hold")
    session.flush()
    return lines


def hold_for_late_result(session: Session, lot) -> list[str]:
    """Receiver of bank.signals.late_result_found: hold the lot's doses, return the patients affected."""
    ids = [c.id for c in containers_of(session, lot)]
    return hold_doses(session, ids, f"Late release result on lot {lot.din}")


def hold_for_donor_lookback(session: Session, donor) -> None:
    """Receiver of bank.signals.donor_lookback_started: hold every dose derived from the donor."""
    ids = [c.id for lot in lots_of_donor(session, donor.id) for c in containers_of(session, lot)]
    hold_doses(session, ids, f"Donor look-back: donor {donor.code}")


def lift_dose_hold(session: Session, allocation: Allocation, user: User, password: str, reason: str | None) -> None:
    """QA returns a held dose to where it was (signature 'Allocation hold lifted'); refused while any of
    its containers is on hold or its lot is not released."""
    if allocation.status != "on_hold":
        raise DoseError({"form": "This dose is not on hold."})
    problems = []
    for c in allocation.containers:
        if c.on_hold or not lot_is_released(session, c.lot):
            problems.append(f"Container {c.identifier} is still held or its lot is not released.")
    if not (reason or "").strip():
        problems.append("a reason is required")
    if problems:
        raise TransitionRefused(problems)
    target = allocation.held_from
    signature = sign(session, user, password, HOLD_LIFTED_MEANING, "allocations", allocation.id,
                     {"allocation": allocation.id, "from": "on_hold", "to": target, "reason": reason.strip()})
    allocation.held_from, allocation.hold_reason = None, None
    change_status(session, allocation, ALLOCATION_WORKFLOW, target, signature=signature, reason=reason)
    session.flush()


def held_containers(session: Session, allocation: Allocation) -> list[Container]:
    return [c for c in allocation.containers if c.on_hold]
