"""What can be done on a lot now, and why not: the lot page offers an action only when these rules (the
same ones the services apply) find nothing against it, and shows a blocked one disabled with its reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bank.i18n import t
from bank.refusals import Problem
from lots.rules import check_bench_open, check_hold_lift, status_word
from lots.states import NOT_DERIVABLE


@dataclass(frozen=True)
class LotFacts:
    din: str
    status: str
    held_from: str | None
    tier: str
    is_placebo: bool
    is_harvest_lot: bool
    has_isolation: bool
    next_passage: int
    max_passage: int
    last_passage_verified: bool | None  # None: no passage in force
    cells_left: float | None  # cells of the last verified passage not yet in containers
    unverified: tuple[str, ...]
    under_lookback: bool
    formulated_containers: int


@dataclass(frozen=True)
class LotAction:
    key: str  # isolation, passage, formulate, submit, hold, lift_hold, derive
    label: str
    problems: tuple[Problem, ...] = ()

    @property
    def possible(self) -> bool:
        return not self.problems


def _bench(facts: LotFacts) -> list[LotAction]:
    closed = tuple(check_bench_open(facts.din, facts.status))
    actions = []
    if facts.is_harvest_lot and not facts.has_isolation:
        actions.append(LotAction("isolation", t("Record isolation"), closed))
    if not facts.is_placebo:
        why = list(closed)
        if facts.is_harvest_lot and not facts.has_isolation:
            why.append(
                Problem("lots.passage.no_isolation", t("Record the isolation before the first passage."))
            )
        if facts.next_passage > facts.max_passage:
            why.append(
                Problem(
                    "lots.passage.max_passage",
                    t(
                        "P%(number)s would be beyond the validated maximum P%(max)s.",
                        number=facts.next_passage,
                        max=facts.max_passage,
                    ),
                    evidence=f"P{facts.next_passage} > P{facts.max_passage}",
                )
            )
        actions.append(LotAction("passage", t("Record passage"), tuple(why)))
    why = list(closed)
    if not facts.is_placebo:
        if facts.last_passage_verified is None:
            why.append(
                Problem("lots.formulation.no_passage", t("No passage recorded: nothing to formulate yet."))
            )
        elif not facts.last_passage_verified:
            why.append(Problem("lots.formulation.unverified", t("The last passage is not verified yet.")))
        elif not facts.cells_left or facts.cells_left <= 0:
            why.append(
                Problem("lots.formulation.no_cells", t("Every cell of the last passage is in containers."))
            )
    actions.append(LotAction("formulate", t("Formulate containers"), tuple(why)))
    return actions


def lot_actions(
    facts: LotFacts, steps: Mapping[str, list[Problem]], qc_problems: list[Problem]
) -> list[LotAction]:
    """Every action of the lot page with what stops it now (empty: possible). `steps` is the workflow's
    part (bank.status.possible_steps: target → problems), `qc_problems` lots.rules.check_ready_for_qc."""
    actions = _bench(facts)
    if "awaiting_qc" in steps:
        actions.append(
            LotAction("submit", t("Submit for QC"), tuple(steps["awaiting_qc"]) + tuple(qc_problems))
        )
    if "on_hold" in steps:
        actions.append(LotAction("hold", t("Put on hold"), tuple(steps["on_hold"])))
    if facts.status == "on_hold" and facts.held_from in steps:
        why = tuple(steps[facts.held_from]) + tuple(check_hold_lift(facts.under_lookback))
        actions.append(LotAction("lift_hold", t("Lift hold"), why))
    if not facts.is_placebo and facts.tier != "dose":
        why = []
        if facts.status in NOT_DERIVABLE:
            why.append(
                Problem(
                    "lots.derive.parent_status",
                    t("Nothing may be derived from a lot %(status)s.", status=status_word(facts.status)),
                )
            )
        if facts.unverified:
            why.append(
                Problem(
                    "lots.derive.unverified",
                    t("Verify the entries first: %(entries)s.", entries=list(facts.unverified)),
                )
            )
        actions.append(LotAction("derive", t("Derive a lot"), tuple(why)))
    return actions
