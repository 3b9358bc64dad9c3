"""Corrections and voids of isolation and passage entries that keep the original (21 CFR 11.10(e)).

Before verification the author corrects or voids an entry at once (a corrected entry is verified like any
new one); after verification the change waits for a second person's confirmation. When it applies, the
original leaves force (shown struck through with who, when, why), passage numbers and the PD carried to
derived lots are recomputed from the entries in force, and a lot already released or rejected is flagged
for QA's re-review.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import today as utc_today
from bank.clock import utcnow
from bank.i18n import t
from bank.refusals import Problem, Refused, refuse_if
from bank.status import change_status, initial_status
from bank.uow import current_actor
from lots.models import Container, EntryCorrection, Harvest, Isolation, Lot, Passage
from lots.rules import (
    check_passage_allowed,
    cumulative_population_doublings,
    population_doublings,
)
from lots.rules.corrections import (
    EntryFacts,
    check_correction_confirmation,
    check_correction_request,
    needs_second_person,
    signed_on_top,
)
from lots.rules.plausibility import Findings, check_isolation_plausibility
from lots.services.processing import (
    IsolationValues,
    PassageValues,
    confirm_soft_limits,
    cumulative_pd,
    harvested_neighbour,
    isolation_neighbour,
    isolation_of,
    isolation_value_errors,
    new_isolation,
    new_passage,
    passage_plausibility,
    passage_value_errors,
    passages,
    seeded_neighbour,
)
from lots.states import CORRECTION_WORKFLOW

Entry = Isolation | Passage


def _kind(entry: Entry) -> str:
    return "isolation" if isinstance(entry, Isolation) else "passage"


def _label(entry: Entry) -> str:
    """The entry as messages name it ("P2", "isolation"); stored in English on the correction, shown
    translated (|tr)."""
    return t("isolation") if isinstance(entry, Isolation) else f"P{entry.number}"


def pending_correction(session: Session, entry: Entry) -> EntryCorrection | None:
    return session.scalar(
        select(EntryCorrection).where(
            EntryCorrection.kind == _kind(entry),
            EntryCorrection.original_id == entry.id,
            EntryCorrection.status == "pending",
        )
    )


def _start(session: Session, entry: Entry, reason: str | None) -> tuple[Lot, bool]:
    """Check who may change `entry` now; return its lot and whether a second person must confirm."""
    actor = current_actor(session)
    facts = EntryFacts(
        _label(entry),
        entry.entered_by_id,
        entry.verified,
        entry.in_force,
        pending_correction(session, entry) is not None,
    )
    problems = check_correction_request(facts, actor.id)
    refuse_if({"reason": t("Say why the entry is changed.")} if not (reason or "").strip() else {}, problems)
    return session.get(Lot, entry.lot_id), needs_second_person(facts)


def _record(session, lot, entry, replacement, reason: str, second: bool) -> EntryCorrection:
    correction = EntryCorrection(
        lot_id=lot.id,
        kind=_kind(entry),
        original_id=entry.id,
        replacement_id=replacement.id if replacement is not None else None,
        action="correct" if replacement is not None else "void",
        label=str(_label(entry)),
        reason=reason.strip(),
        status=CORRECTION_WORKFLOW.initial,
        second_person=second,
        requested_by_id=current_actor(session).id,
    )
    session.add(correction)
    initial_status(session, correction, CORRECTION_WORKFLOW)
    if not second:
        _apply(session, correction, lot)
    return correction


# --- passages -------------------------------------------------------------------------------------


def _first_frozen_on(session: Session, lot: Lot) -> date | None:
    frozen = session.scalar(select(func.min(Container.frozen_at)).where(Container.lot_id == lot.id))
    return frozen.date() if frozen is not None else None


def _check_passage_values(
    session, lot, original: Passage, v: PassageValues, today: date
) -> tuple[list[Problem], Findings]:
    """The same checks as a new passage, against the entries in force on both sides of `original`."""
    refuse_if(passage_value_errors(v, today))
    chain = passages(session, lot)
    i = next(n for n, p in enumerate(chain) if p.id == original.id)
    isolation = isolation_of(session, lot)
    before = harvested_neighbour(chain[i - 1]) if i else (isolation and isolation_neighbour(isolation))
    after = seeded_neighbour(chain[i + 1]) if i + 1 < len(chain) else None
    frozen_on = _first_frozen_on(session, lot) if after is None else None
    findings = passage_plausibility(lot, v, before, after=after, frozen_on=frozen_on)
    corrected = population_doublings(v.seeded_cells, v.harvested_cells)
    pds = [corrected if p.id == original.id else p.population_doublings for p in chain]
    limits = check_passage_allowed(
        lot.product_type.limits(), chain[-1].number, cumulative_population_doublings(pds, lot.starting_pd)
    )
    return [*findings.refusals, *limits], findings


def correct_passage(
    session: Session,
    passage: Passage,
    *,
    reason: str | None,
    confirm_plausibility: bool = False,
    plausibility_comment: str | None = None,
    today: date | None = None,
    **typed,
) -> EntryCorrection:
    """Correct a passage entry with `reason`: a new entry with the corrected values replaces it (the
    original stays on record). Checked like a new passage, against its neighbours in force. `typed`: every
    field of PassageValues, as record_passage takes them."""
    lot, second = _start(session, passage, reason)
    v = PassageValues(**typed)
    hard, findings = _check_passage_values(session, lot, passage, v, today or utc_today())
    refuse_if(problems=hard)
    rules, comment = confirm_soft_limits(findings, confirm_plausibility, plausibility_comment)
    replacement = new_passage(
        session,
        lot,
        passage.number,
        v,
        in_force=False,
        plausibility_rules=rules,
        plausibility_comment=comment,
    )
    session.add(replacement)
    session.flush()
    return _record(session, lot, passage, replacement, reason, second)


def void_entry(session: Session, entry: Entry, *, reason: str | None) -> EntryCorrection:
    """Void an isolation or passage entered in error, with `reason` (the entry stays on record, struck
    through; later passages are renumbered). Refused for an isolation with passages in force and for the
    last passage once containers were filled from it: correct those instead."""
    lot, second = _start(session, entry, reason)
    chain = passages(session, lot)
    if isinstance(entry, Isolation) and chain:
        raise Refused.rule(
            "lots.correction.isolation_has_passages",
            t("Passages were grown from this isolation: correct its values instead of voiding it."),
        )
    if isinstance(entry, Passage) and chain and chain[-1].id == entry.id and _first_frozen_on(session, lot):
        raise Refused.rule(
            "lots.correction.containers_made",
            t(
                "Containers were filled from %(entry)s: correct its values instead of voiding it.",
                entry=_label(entry),
            ),
        )
    return _record(session, lot, entry, None, reason, second)


# --- isolation ------------------------------------------------------------------------------------


def correct_isolation(
    session: Session,
    isolation: Isolation,
    *,
    reason: str | None,
    cell_count: float | None,
    viability_pct: float | None,
    isolated_on: date | None,
    operator: str,
    today: date | None = None,
) -> EntryCorrection:
    """Correct an isolation entry with `reason` (checked against the harvest and the first passage)."""
    lot, second = _start(session, isolation, reason)
    harvest = session.scalar(select(Harvest).where(Harvest.lot_id == lot.id))
    v = IsolationValues(cell_count, viability_pct, isolated_on, operator)
    refuse_if(isolation_value_errors(v, harvest, today or utc_today()))
    chain = passages(session, lot)
    first = seeded_neighbour(chain[0]) if chain else None
    refuse_if(problems=check_isolation_plausibility(isolated_on, float(cell_count), first).refusals)
    replacement = new_isolation(session, lot, v, in_force=False)
    session.add(replacement)
    session.flush()
    return _record(session, lot, isolation, replacement, reason, second)


# --- confirmation and application -----------------------------------------------------------------


def confirm_correction(session: Session, correction: EntryCorrection) -> None:
    """A second person confirms the correction of a verified entry (never who asked for it); the
    corrected values count as verified by them, and the correction applies."""
    actor = current_actor(session)
    refuse_if(
        problems=check_correction_confirmation(
            correction.requested_by_id, actor.id, correction.status == "pending"
        )
    )
    correction.confirmed_by_id, correction.confirmed_at = actor.id, utcnow()
    replacement = _entry(session, correction.kind, correction.replacement_id)
    if replacement is not None:
        replacement.verified_by_id, replacement.verified_at = actor.id, correction.confirmed_at
    _apply(session, correction, session.get(Lot, correction.lot_id))


def _entry(session: Session, kind: str, ident: int | None) -> Entry | None:
    if ident is None:
        return None
    return session.get(Isolation if kind == "isolation" else Passage, ident)


def _apply(session: Session, correction: EntryCorrection, lot: Lot) -> None:
    original = _entry(session, correction.kind, correction.original_id)
    original.in_force = False
    session.flush()  # out of force before the replacement takes its number (unique among entries in force)
    replacement = _entry(session, correction.kind, correction.replacement_id)
    if replacement is not None:
        if isinstance(replacement, Passage):
            replacement.number = original.number  # renumbered meanwhile by another correction
        replacement.in_force = True
    correction.applied_at = utcnow()
    change_status(session, correction, CORRECTION_WORKFLOW, "applied", reason=correction.reason)
    recompute(
        session, lot, f"{correction.label} {'corrected' if replacement else 'voided'}: {correction.reason}"
    )
    correction.rereview = lot.rereview_since is not None and signed_on_top(lot.status, lot.held_from)
    session.flush()


def recompute(session: Session, lot: Lot, why: str) -> None:
    """Renumber the passages in force from the lot's first number, flag a lot under a QA signature for
    re-review, and carry the cumulative PD and the numbering on to every derived lot."""
    for n, p in enumerate(passages(session, lot)):
        if p.number != lot.first_passage + n:
            p.number = lot.first_passage + n
            session.flush()  # one at a time, downwards: numbers stay unique among entries in force
    if signed_on_top(lot.status, lot.held_from):
        lot.rereview_since, lot.rereview_reason = utcnow(), why
    session.flush()
    chain = passages(session, lot)
    for child in session.scalars(select(Lot).where(Lot.parent_lot_id == lot.id).order_by(Lot.id)):
        child.starting_pd = cumulative_pd(session, lot)
        child.first_passage = chain[-1].number + 1 if chain else lot.first_passage
        session.flush()
        recompute(session, child, f"parent lot {lot.din}: {why}")


def corrections_of(session: Session, lot: Lot) -> list[EntryCorrection]:
    return list(
        session.scalars(
            select(EntryCorrection).where(EntryCorrection.lot_id == lot.id).order_by(EntryCorrection.id)
        )
    )


def close_rereview(session: Session, lot: Lot, reason: str | None) -> None:
    """QA records that the corrected entries under its signature were reviewed again (reason kept in the
    audit trail with the change)."""
    if lot.rereview_since is None:
        raise Refused.rule(
            "lots.rereview.none", t("Lot %(din)s has no correction waiting for re-review.", din=lot.din)
        )
    refuse_if({"reason": t("Say what the re-review found.")} if not (reason or "").strip() else {})
    lot.rereview_since, lot.rereview_reason = None, None
    session.flush()
