"""Plausibility of bench entries (DOMAIN.md §3: PD = log2(harvested / seeded)): dates in the order the
work is done (harvest → isolation → P0 → … → Pn → freezing), no growth faster than the product's
validated ceiling, and soft limits (negative PD, a steep viability drop) that an operator may confirm
with a comment. The numbers come from the product type's version (PlausibilityLimits), never from code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bank.i18n import t
from bank.refusals import Problem

CONFIRM_FIELD = "confirm_plausibility"
COMMENT_FIELD = "plausibility_comment"
# Float noise only (a count re-typed from the previous passage must not be refused by rounding).
CELL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class PlausibilityLimits:
    """From the product type's version: the largest plausible fold increase of viable cells per day of
    culture, and the drop of viability (percentage points, from the step before) that needs a comment."""

    max_fold_per_day: float
    viability_drop_pct: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_fold_per_day) and self.max_fold_per_day > 1):
            raise ValueError("max_fold_per_day must be a finite number above 1")
        if not 0 <= self.viability_drop_pct <= 100:
            raise ValueError("viability_drop_pct must be between 0 and 100")


@dataclass(frozen=True)
class Neighbour:
    """The step next to an entry in the lot's chain, as facts. Before an entry: the date its cells were
    harvested (or isolated), how many, and their viability. After an entry: the date the next step was
    seeded and how many cells it took."""

    label: str  # "the isolation", "P0"
    on: date
    cells: float | None = None
    viability_pct: float | None = None


@dataclass(frozen=True)
class Findings:
    """Hard limits broken (refused whatever is said) and soft ones (refused until confirmed with a
    comment). Every problem names the form field it concerns."""

    refusals: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def _cells(value: float, digits: int | None = None) -> str:
    """A cell count (or a fold) as the messages write it: "2.5e+06", the same in every language (a
    count in powers of ten is read, not parsed)."""
    return f"{value:.{digits}g}" if digits else f"{value:g}"


def fold_is_plausible(seeded: float, harvested: float, days: int, max_fold_per_day: float) -> bool:
    """harvested / seeded ≤ max_fold_per_day ** days, with a day the least a culture lasts (compared as
    logarithms: a typo of 10¹² cells cannot overflow)."""
    days = max(days, 1)
    return math.log(harvested / seeded) <= days * math.log(max_fold_per_day) + CELL_TOLERANCE


def _after_checks(add, harvested: float, harvested_on: date, after: Neighbour | None, frozen_on: date | None):
    if after is not None:
        if after.on < harvested_on:
            add(
                Problem(
                    "lots.plausibility.next_before_harvest",
                    t(
                        "%(step)s was seeded on %(day)s, before these cells were harvested.",
                        step=after.label,
                        day=after.on,
                    ),
                    evidence=f"harvested_on={harvested_on}; {after.label} seeded_on={after.on}",
                    field="harvested_on",
                )
            )
        if after.cells is not None and after.cells > harvested * (1 + CELL_TOLERANCE):
            add(
                Problem(
                    "lots.plausibility.next_seeded_more",
                    t(
                        "%(step)s was seeded with %(seeded)s cells, more than these %(harvested)s.",
                        step=after.label,
                        seeded=_cells(after.cells),
                        harvested=_cells(harvested),
                    ),
                    evidence=f"harvested={harvested:g}; {after.label} seeded={after.cells:g}",
                    field="harvested_cells",
                )
            )
    if frozen_on is not None and frozen_on < harvested_on:
        add(
            Problem(
                "lots.plausibility.frozen_before_harvest",
                t(
                    "The lot's containers were frozen on %(day)s, before this harvest.",
                    day=frozen_on,
                ),
                evidence=f"harvested_on={harvested_on}; frozen_on={frozen_on}",
                field="harvested_on",
            )
        )


def check_passage_plausibility(
    limits: PlausibilityLimits,
    *,
    seeded: float,
    harvested: float,
    viability_pct: float,
    seeded_on: date,
    harvested_on: date,
    before: Neighbour | None,
    after: Neighbour | None = None,
    frozen_on: date | None = None,
) -> Findings:
    """Plausibility of a passage whose values already passed validate_passage_entry.

    Refused: seeded before the step before it ended (P(n) seeded on or after P(n-1) harvested, P0 on or
    after the isolation), more cells seeded than the step before gave, a fold increase beyond
    max_fold_per_day ** days of culture (a day at least), and — for a correction — the next passage
    seeded before this harvest or with more cells, or containers frozen before it. To confirm: a negative
    PD (fewer cells harvested than seeded), viability dropped by more than viability_drop_pct points.
    """
    refusals: list[Problem] = []
    warnings: list[Problem] = []
    add = refusals.append
    if before is not None:
        if seeded_on < before.on:
            add(
                Problem(
                    "lots.plausibility.seeded_before_previous",
                    t(
                        "Cannot be seeded before %(step)s ended (%(day)s).",
                        step=before.label,
                        day=before.on,
                    ),
                    evidence=f"seeded_on={seeded_on}; {before.label}={before.on}",
                    field="seeded_on",
                )
            )
        if before.cells is not None and seeded > before.cells * (1 + CELL_TOLERANCE):
            add(
                Problem(
                    "lots.plausibility.seeded_more_than_available",
                    t(
                        "%(seeded)s cells seeded, more than the %(available)s that %(step)s gave.",
                        seeded=_cells(seeded),
                        available=_cells(before.cells),
                        step=before.label,
                    ),
                    evidence=f"seeded={seeded:g}; {before.label}={before.cells:g}",
                    field="seeded_cells",
                )
            )
    days = (harvested_on - seeded_on).days
    if not fold_is_plausible(seeded, harvested, days, limits.max_fold_per_day):
        fold, ceiling = harvested / seeded, limits.max_fold_per_day ** max(days, 1)
        add(
            Problem(
                "lots.plausibility.fold_increase",
                t(
                    "%(seeded)s → %(harvested)s cells is a %(fold)s-fold increase in %(days)s day(s): more than "
                    "the plausible %(ceiling)s-fold (%(per_day)s-fold a day).",
                    seeded=_cells(seeded),
                    harvested=_cells(harvested),
                    fold=_cells(fold, 3),
                    days=max(days, 1),
                    ceiling=_cells(ceiling, 3),
                    per_day=limits.max_fold_per_day,
                ),
                evidence=f"fold={fold:.6g}; days={days}; max_fold_per_day={limits.max_fold_per_day:g}",
                field="harvested_cells",
            )
        )
    _after_checks(add, harvested, harvested_on, after, frozen_on)
    if harvested < seeded:
        pd = math.log2(harvested / seeded)
        warnings.append(
            Problem(
                "lots.plausibility.negative_pd",
                t(
                    "Fewer cells harvested than seeded (PD %(pd)s): confirm the counts and say why.",
                    pd=Decimal(f"{pd:.2f}"),
                ),
                evidence=f"seeded={seeded:g}; harvested={harvested:g}; PD={pd:.4f}",
                field="harvested_cells",
            )
        )
    if before is not None and before.viability_pct is not None:
        drop = before.viability_pct - viability_pct
        if drop > limits.viability_drop_pct:
            warnings.append(
                Problem(
                    "lots.plausibility.viability_drop",
                    t(
                        "Viability fell %(drop)s points from %(step)s (%(before)s %% → %(after)s %%): confirm and "
                        "say why.",
                        drop=Decimal(f"{drop:.1f}"),
                        step=before.label,
                        before=float(before.viability_pct),
                        after=float(viability_pct),
                    ),
                    evidence=f"drop={drop:.2f}; threshold={limits.viability_drop_pct:g}",
                    field="viability_pct",
                )
            )
    return Findings(tuple(refusals), tuple(warnings))


def check_isolation_plausibility(isolated_on: date, cell_count: float, after: Neighbour | None) -> Findings:
    """Plausibility of an isolation against the first passage already recorded (for a correction): P0
    is seeded on or after the isolation, with no more cells than were isolated. (The harvest date is
    checked by validate_isolation_entry.)"""
    refusals: list[Problem] = []
    if after is not None:
        if after.on < isolated_on:
            refusals.append(
                Problem(
                    "lots.plausibility.next_before_isolation",
                    t(
                        "%(step)s was seeded on %(day)s, before this isolation.",
                        step=after.label,
                        day=after.on,
                    ),
                    evidence=f"isolated_on={isolated_on}; {after.label} seeded_on={after.on}",
                    field="isolated_on",
                )
            )
        if after.cells is not None and after.cells > cell_count * (1 + CELL_TOLERANCE):
            refusals.append(
                Problem(
                    "lots.plausibility.next_seeded_more",
                    t(
                        "%(step)s was seeded with %(seeded)s cells, more than the %(isolated)s isolated.",
                        step=after.label,
                        seeded=_cells(after.cells),
                        isolated=_cells(cell_count),
                    ),
                    evidence=f"isolated={cell_count:g}; {after.label} seeded={after.cells:g}",
                    field="cell_count",
                )
            )
    return Findings(tuple(refusals), ())


def check_freezing_date(frozen_on: date, last: Neighbour | None) -> list[Problem]:
    """Cryopreservation comes after the last passage's harvest (frozen on or after that day)."""
    if last is None or frozen_on >= last.on:
        return []
    return [
        Problem(
            "lots.plausibility.frozen_before_harvest",
            t(
                "Cannot be frozen before %(step)s was harvested (%(day)s).",
                step=last.label,
                day=last.on,
            ),
            evidence=f"frozen_on={frozen_on}; {last.label} harvested_on={last.on}",
            field="frozen_at",
        )
    ]


def confirmation_errors(
    warnings: tuple[Problem, ...], confirmed: bool, comment: str | None
) -> dict[str, str]:
    """Soft limits pass only when the operator ticks the confirmation and writes why; {} when there is
    nothing to confirm or it is confirmed."""
    if not warnings:
        return {}
    errors = {}
    if not confirmed:
        errors[CONFIRM_FIELD] = t("Check the flagged values; tick to confirm they are right.")
    if not (comment or "").strip():
        errors[COMMENT_FIELD] = t("Say why the flagged values are right (stored with the entry).")
    return errors
