"""Lot status changes: submit for QC, hold and lift, quarantine lift, and the donor look-back hold.

Every change goes through bank.status.change_status (history, permission, signature). Release and
rejection are taken by the release module with LOT_WORKFLOW.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.esign import sign
from bank.models import User
from bank.status import TransitionRefused, change_status
from donors.services import donor_use_facts
from lots.models import Container, Harvest, Lot
from lots.services.errors import FORM, LotError
from lots.services.processing import isolation_of, passages, unverified_entries
from lots.services.storage import containers_of
from lots.states import HOLD_LIFTED_MEANING, HOLDABLE, LOT_WORKFLOW


def qc_problems(session: Session, lot: Lot) -> list[str]:
    """Why the lot cannot go to QC yet (empty when it can)."""
    problems = [f"Entry waiting for second-person verification: {w}." for w in unverified_entries(session, lot)]
    is_harvest_lot = session.scalar(select(Harvest.id).where(Harvest.lot_id == lot.id)) is not None
    if is_harvest_lot and isolation_of(session, lot) is None:
        problems.append("The isolation is not recorded.")
    if not lot.product_type.is_placebo and not passages(session, lot):
        problems.append("No culture passage is recorded.")
    if not containers_of(session, lot):
        problems.append("No container is formulated.")
    return problems


def submit_for_qc(session: Session, lot: Lot) -> None:
    change_status(session, lot, LOT_WORKFLOW, "awaiting_qc", problems=qc_problems(session, lot))


def _hold_containers(session: Session, lot: Lot, reason: str) -> None:
    for container in containers_of(session, lot):
        container.on_hold, container.hold_reason = True, reason
    session.flush()


def hold_lot(session: Session, lot: Lot, reason: str) -> None:
    """Put the lot and every one of its containers on hold; it returns to its present state when lifted."""
    if lot.status not in HOLDABLE:
        raise TransitionRefused([f"A lot {LOT_WORKFLOW.label(lot.status)} cannot be put on hold."])
    lot.held_from = lot.status  # written in the same flush as the status (CHECK held_from)
    try:
        change_status(session, lot, LOT_WORKFLOW, "on_hold", reason=reason)
    except TransitionRefused:
        lot.held_from = None
        raise
    _hold_containers(session, lot, reason)


def lift_hold(session: Session, lot: Lot, user: User, password: str, reason: str) -> None:
    """Return a held lot to the state it was held from, with the signature 'Hold lifted'; refused while
    its donor is under look-back."""
    if lot.status != "on_hold":
        raise LotError({FORM: f"Lot {lot.din} is not on hold."})
    problems = []
    if lot.donor_id is not None and donor_use_facts(session, lot.donor_id).under_lookback:
        problems.append("The donor is under look-back: the hold stays until the look-back is closed.")
    if not (reason or "").strip():
        problems.append("a reason is required")
    if problems:
        raise TransitionRefused(problems)
    target = lot.held_from
    signature = sign(session, user, password, HOLD_LIFTED_MEANING, "lots", lot.id,
                     {"lot": lot.din, "from": "on_hold", "to": target, "reason": reason.strip()})
    lot.held_from = None
    change_status(session, lot, LOT_WORKFLOW, target, signature=signature, reason=reason)
    for container in containers_of(session, lot):
        container.on_hold, container.hold_reason = False, None
    session.flush()


def lift_quarantine(session: Session, lot: Lot) -> None:
    """End the donor-eligibility quarantine once the donor's eligibility is determined and signed."""
    if not lot.quarantined:
        raise LotError({FORM: f"Lot {lot.din} is not quarantined."})
    facts = donor_use_facts(session, lot.donor_id)
    if not facts.eligible_signed:
        raise LotError({FORM: f"Donor {facts.code} is {facts.status}: eligibility is not signed yet, "
                              "the lot stays quarantined (21 CFR 1271.60)."})
    lot.quarantined = False
    session.flush()


@contextmanager
def _on_behalf_of_lookback(session: Session):
    """A look-back hold is the consequence of a recorded donor result, not a choice of whoever entered
    it: the transition is taken with 'lot.hold' added for this call only, still attributed to them."""
    actor = session.info["actor"]
    session.info["actor"] = replace(actor, permissions=actor.permissions | {"lot.hold"})
    try:
        yield
    finally:
        session.info["actor"] = actor


def lots_of_donor(session: Session, donor_id: int) -> list[Lot]:
    """Every lot of the donor and every lot derived from them (derived lots carry the donor too; the
    parent walk covers any lot that might not)."""
    found = {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.donor_id == donor_id))}
    frontier = list(found)
    while frontier:
        children = list(session.scalars(select(Lot).where(Lot.parent_lot_id.in_(frontier))))
        frontier = [c.id for c in children if c.id not in found]
        found.update({c.id: c for c in children})
    return sorted(found.values(), key=lambda lot: lot.id)


def hold_for_lookback(session: Session, donor) -> None:
    """Receiver of bank.signals.donor_lookback_started: hold every lot of the donor and every container."""
    reason = f"Donor look-back: donor {donor.code}"
    with _on_behalf_of_lookback(session):
        for lot in lots_of_donor(session, donor.id):
            if lot.status in HOLDABLE:
                hold_lot(session, lot, reason)
            else:  # already held, or rejected: still make sure no container can be used
                _hold_containers(session, lot, reason)


def held_containers(session: Session, lot: Lot) -> list[Container]:
    return [c for c in containers_of(session, lot) if c.on_hold]
