"""Corrections of critical bench entries (isolation, passages) that keep the original (21 CFR 11.10(e),
EU GMP Annex 11 §9): who may correct or void an entry, when a second person must confirm it, and when
what was signed on top of the lot must be reviewed again."""

from __future__ import annotations

from dataclasses import dataclass

from bank.i18n import t
from bank.refusals import Problem
from lots.states import FINISHED


@dataclass(frozen=True)
class EntryFacts:
    label: str  # "P2", "the isolation"
    entered_by_id: int | None
    verified: bool
    in_force: bool
    correction_pending: bool


def check_correction_request(entry: EntryFacts, actor_id: int) -> list[Problem]:
    """May `actor_id` correct or void this entry now? Before verification only its author may (the
    change takes effect at once); after verification anyone may ask, and the change takes effect once a
    second person confirms it (needs_second_person). Returns every problem."""
    problems = []
    if not entry.in_force:
        problems.append(
            Problem(
                "lots.correction.not_in_force",
                t(
                    "%(entry)s was already corrected or voided: correct the entry in force.",
                    entry=entry.label,
                ),
                evidence="in_force=False",
            )
        )
    if entry.correction_pending:
        problems.append(
            Problem(
                "lots.correction.pending",
                t(
                    "A correction of %(entry)s is waiting for a second person's confirmation.",
                    entry=entry.label,
                ),
                evidence="pending",
            )
        )
    if not entry.verified and entry.entered_by_id != actor_id:
        problems.append(
            Problem(
                "lots.correction.author_only",
                t(
                    "%(entry)s is not verified yet: only the person who entered it may correct it.",
                    entry=entry.label,
                ),
                evidence=f"entered_by={entry.entered_by_id}; user={actor_id}",
            )
        )
    return problems


def needs_second_person(entry: EntryFacts) -> bool:
    """A verified entry changes only with a second person's confirmation of the change."""
    return entry.verified


def check_correction_confirmation(
    requested_by_id: int | None, confirmer_id: int, pending: bool
) -> list[Problem]:
    """The confirmation of a correction to a verified entry: once, by someone other than who asked."""
    if not pending:
        msg = t("This correction is not waiting for a confirmation.")
        return [Problem("lots.correction.not_pending", msg)]
    if requested_by_id == confirmer_id:
        return [
            Problem(
                "lots.correction.four_eyes",
                t("You asked for this correction: a second person must confirm it."),
                evidence=f"user={confirmer_id}",
            )
        ]
    return []


def signed_on_top(status: str, held_from: str | None) -> bool:
    """A lot released or rejected (also while on hold from there) carries QA's signature over its entries:
    a correction under it must be reviewed again."""
    return status in FINISHED or (held_from in FINISHED)
