"""Lot status changes: submit for QC, hold and lift, quarantine lift, and the donor look-back hold.

Every change goes through bank.status.change_status (table, permission, signature, history); the
decisions are in lots.rules. Release and rejection are taken by the release module with LOT_WORKFLOW.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.i18n import t
from bank.models import User
from bank.refusals import Problem, Refused, refuse_if
from bank.status import change_status, possible_steps
from bank.uow import acting_with
from donors.services import donor_use_facts
from lots.models import Container, Harvest, Lot
from lots.rules import check_hold_lift, check_holdable, check_quarantine_lift, check_ready_for_qc
from lots.rules.actions import LotAction, LotFacts, lot_actions
from lots.services.processing import isolation_of, passages, unverified_entries
from lots.services.storage import containers_of
from lots.states import HOLDABLE, LOT_WORKFLOW


def qc_problems(session: Session, lot: Lot) -> list[Problem]:
    """Why the lot cannot go to QC yet (empty when it can)."""
    is_harvest_lot = session.scalar(select(Harvest.id).where(Harvest.lot_id == lot.id)) is not None
    return check_ready_for_qc(
        unverified_entries(session, lot),
        is_harvest_lot,
        is_harvest_lot and isolation_of(session, lot) is not None,
        lot.product_type.is_placebo,
        len(passages(session, lot)),
        len(containers_of(session, lot)),
    )


def actions_of(session: Session, lot: Lot, permissions: frozenset[str]) -> list[LotAction]:
    """The lot page's actions with what stops each now (lots.rules.actions), from the same facts and rules
    the services apply: the workflow table (bank.status.possible_steps), QC readiness (check_ready_for_qc,
    as qc_problems), bench rules. Each fact is read once."""
    chain = passages(session, lot)
    last = chain[-1] if chain else None
    isolation = isolation_of(session, lot)
    is_harvest_lot = session.scalar(select(Harvest.id).where(Harvest.lot_id == lot.id)) is not None
    # Only lifting a hold asks about the donor's look-back.
    under_lookback = (
        lot.status == "on_hold"
        and lot.donor_id is not None
        and donor_use_facts(session, lot.donor_id).under_lookback
    )
    containers = containers_of(session, lot)
    unverified = (
        [t("isolation not verified")] if isolation is not None and not isolation.verified else []
    ) + [t("P%(number)s not verified", number=p.number) for p in chain if not p.verified]
    facts = LotFacts(
        din=lot.din,
        status=lot.status,
        held_from=lot.held_from,
        tier=lot.tier,
        is_placebo=lot.product_type.is_placebo,
        is_harvest_lot=is_harvest_lot,
        has_isolation=isolation is not None,
        next_passage=last.number + 1 if last else lot.first_passage,
        max_passage=lot.product_type.max_passage,
        last_passage_verified=None if last is None else last.verified,
        cells_left=None
        if last is None or not last.verified
        else last.harvested_cells - sum(c.cells for c in containers),
        unverified=tuple(unverified),
        under_lookback=under_lookback,
        formulated_containers=sum(1 for c in containers if c.status == "formulated"),
    )
    steps = dict(possible_steps(lot, LOT_WORKFLOW, permissions))
    qc = check_ready_for_qc(
        unverified,
        is_harvest_lot,
        is_harvest_lot and isolation is not None,
        lot.product_type.is_placebo,
        len(chain),
        len(containers),
    )
    return lot_actions(facts, steps, qc if "awaiting_qc" in steps else [])


def submit_for_qc(session: Session, lot: Lot) -> None:
    change_status(session, lot, LOT_WORKFLOW, "awaiting_qc", problems=qc_problems(session, lot))


def _hold_containers(session: Session, lot: Lot, reason: str) -> None:
    for container in containers_of(session, lot):
        container.on_hold, container.hold_reason = True, reason
    session.flush()


def hold_lot(session: Session, lot: Lot, reason: str) -> None:
    """Put the lot and every one of its containers on hold; it returns to its present state when lifted."""
    refuse_if(problems=check_holdable(lot.status))
    held_from = lot.status

    def remember(_signature) -> None:  # the CHECK 'held_from' ties it to the status: same flush
        lot.held_from = held_from

    change_status(session, lot, LOT_WORKFLOW, "on_hold", reason=reason, before_write=remember)
    _hold_containers(session, lot, reason)


def lift_hold(session: Session, lot: Lot, user: User, password: str, reason: str) -> None:
    """Return a held lot to the state it was held from, signed 'Hold lifted' by `user`; refused while its
    donor is under look-back."""
    if lot.status != "on_hold":
        raise Refused.rule(
            "lots.hold.not_held",
            t("Lot %(din)s is not on hold.", din=lot.din),
            evidence=f"status={lot.status}",
        )
    under_lookback = lot.donor_id is not None and donor_use_facts(session, lot.donor_id).under_lookback
    target = lot.held_from
    content = {"lot": lot.din, "from": "on_hold", "to": target, "reason": (reason or "").strip()}

    def clear_held_from(_signature) -> None:  # the CHECK 'held_from' ties it to the status: same flush
        lot.held_from = None

    change_status(
        session,
        lot,
        LOT_WORKFLOW,
        target,
        password=password,
        content=content,
        signer=user,
        reason=reason,
        problems=check_hold_lift(under_lookback),
        before_write=clear_held_from,
    )
    for container in containers_of(session, lot):
        container.on_hold, container.hold_reason = False, None
    session.flush()


def lift_quarantine(session: Session, lot: Lot) -> None:
    """End the donor-eligibility quarantine once the donor's eligibility is determined and signed."""
    if lot.quarantined:
        facts = donor_use_facts(session, lot.donor_id)
        refuse_if(
            problems=check_quarantine_lift(lot.din, True, facts.code, facts.status, facts.eligible_signed)
        )
    else:
        refuse_if(problems=check_quarantine_lift(lot.din, False, "", "", False))
    lot.quarantined = False
    session.flush()


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
    """Receiver of bank.signals.donor_lookback_started: hold every lot of the donor and every container.
    The hold is the consequence of a recorded donor result, not a choice of whoever entered it: taken
    with 'lot.hold' for this call only, still attributed to them."""
    reason = f"Donor look-back: donor {donor.code}"
    with acting_with(session, "lot.hold"):
        for lot in lots_of_donor(session, donor.id):
            hold_lot_and_containers(session, lot, reason)


def hold_lot_and_containers(session: Session, lot: Lot, reason: str) -> None:
    """Hold the lot when its state allows, and every one of its containers whatever its state (a lot
    already held or rejected still gets no usable container)."""
    if lot.status in HOLDABLE:
        hold_lot(session, lot, reason)
    else:
        _hold_containers(session, lot, reason)


def held_containers(session: Session, lot: Lot) -> list[Container]:
    return [c for c in containers_of(session, lot) if c.on_hold]
