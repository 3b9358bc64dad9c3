"""Safety holds on doses: a donor look-back or a late release result puts every allocated or issued
dose of the containers concerned on hold and names the patients affected (including those already
given a dose, who must be followed up by the investigator)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.models import User
from bank.status import change_status
from bank.uow import acting_with
from doses.models import AllocatedContainer, Allocation
from doses.rules import lift_hold_problems
from doses.states import ALLOCATION_WORKFLOW, HOLDABLE
from lots.models import Container
from lots.services import containers_of, lots_of_donor
from release.services import lot_is_released


def allocations_of_containers(session: Session, container_ids: list[int]) -> list[Allocation]:
    """Every allocation not deallocated that holds (or held, when given) one of these containers."""
    if not container_ids:
        return []
    return list(
        session.scalars(
            select(Allocation)
            .join(AllocatedContainer, AllocatedContainer.allocation_id == Allocation.id)
            .where(
                AllocatedContainer.container_id.in_(container_ids), AllocatedContainer.released_at.is_(None)
            )
            .distinct()
            .order_by(Allocation.id)
        )
    )


def hold_doses(session: Session, container_ids: list[int], reason: str) -> list[str]:
    """Hold every allocated or issued dose of these containers; one line per patient dose affected."""
    lines = []
    # A safety hold follows from a recorded result, not from a choice of whoever recorded it: the
    # transition is taken with 'dose.allocate' for this block only, still attributed to them.
    with acting_with(session, "dose.allocate"):
        for allocation in allocations_of_containers(session, container_ids):
            subject = f"{allocation.patient.subject_id} dose {allocation.dose_number}"
            if allocation.status in HOLDABLE:
                allocation.held_from, allocation.hold_reason = allocation.status, reason
                change_status(session, allocation, ALLOCATION_WORKFLOW, "on_hold", reason=reason)
                lines.append(f"{subject}: dose put on hold (was {allocation.held_from})")
            elif allocation.status == "administered":
                lines.append(
                    f"{subject}: ALREADY ADMINISTERED on {allocation.administered_at:%Y-%m-%d} — "
                    "inform the investigator"
                )
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


def lift_dose_hold(
    session: Session, allocation: Allocation, user: User, password: str, reason: str | None
) -> None:
    """QA returns a held dose to where it was (signed with the meaning ALLOCATION_WORKFLOW states); refused
    while any of its containers is on hold or its lot is not released."""
    problems = lift_hold_problems(
        allocation.status,
        [(c.identifier, not c.on_hold and lot_is_released(session, c.lot)) for c in allocation.containers],
    )
    target = allocation.held_from or "allocated"
    content = {"allocation": allocation.id, "from": "on_hold", "to": target, "reason": (reason or "").strip()}
    allocation.held_from, allocation.hold_reason = None, None
    change_status(
        session,
        allocation,
        ALLOCATION_WORKFLOW,
        target,
        password=password,
        content=content,
        signer=user,
        reason=reason,
        problems=problems,
    )
    session.flush()


def held_containers(session: Session, allocation: Allocation) -> list[Container]:
    return [c for c in allocation.containers if c.on_hold]
