"""Trends of release results across lots (continued process verification, EU GMP Annex 15 §5.28 and
ICH Q10): the current result of one numeric test for every lot of a product, in time order, against the
specification limits and the process's own mean ± 3σ. σ is estimated from the average moving range
between consecutive lots (MR̄ / 1.128, the individuals chart), so a single drifting lot does not widen
the limits that should catch it; a value outside mean ± 3σ is out of trend, even when within specification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank import charts
from bank.i18n import N_, localize, t
from bank.languages import day_text, number_text
from lots.models import Lot, ProductType
from release.models import TestResult
from release.rules.specification import NumericTest
from release.rules.texts import known_text
from release.services import effective_specification

D2 = 1.128  # the moving range of two consecutive values is on average d2·σ (individuals chart)
MIN_POINTS = 3  # fewer lots than this give no meaningful mean ± 3σ
LAST_LOTS = 30  # the lots a trend shows by default: the process as it runs now


@dataclass(frozen=True)
class TrendPoint:
    number: int  # the lot's place in time order, from 1
    din: str
    performed_on: date
    value: float
    verdict: str
    out_of_trend: bool


@dataclass(frozen=True)
class Limits:
    mean: float
    sigma: float

    @property
    def lower(self) -> float:
        return self.mean - 3 * self.sigma

    @property
    def upper(self) -> float:
        return self.mean + 3 * self.sigma


def control_limits(values: list[float]) -> Limits | None:
    """Mean ± 3σ with σ from the average moving range; None below MIN_POINTS values."""
    if len(values) < MIN_POINTS:
        return None
    ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    return Limits(sum(values) / len(values), sum(ranges) / len(ranges) / D2)


@dataclass(frozen=True)
class Trend(charts.ChartWithTable):
    COLUMNS = (N_("No."), N_("Lot"), N_("Date"), N_("Value"), N_("Trend"))

    product_key: str
    test: NumericTest
    points: list[TrendPoint]
    limits: Limits | None

    def chart(self) -> charts.Chart:
        refs = []
        if self.test.min is not None:
            refs.append(charts.Reference(t("min %(value)s", value=self.test.min).localized(), self.test.min))
        if self.test.max is not None:
            refs.append(charts.Reference(t("max %(value)s", value=self.test.max).localized(), self.test.max))
        if self.limits is not None:
            grey, orange = "#6c757d", "#fd7e14"
            refs.append(charts.Reference(t("mean").localized(), self.limits.mean, grey, dashed=True))
            if self.limits.sigma > 0:  # identical values: the three lines would lie on each other
                refs += [
                    charts.Reference(t("mean − 3σ").localized(), self.limits.lower, orange, dashed=True),
                    charts.Reference(t("mean + 3σ").localized(), self.limits.upper, orange, dashed=True),
                ]
        return charts.Chart(
            title=t(
                "%(test)s of %(product)s lots", test=known_text(self.test.name), product=self.product_key
            ).localized(),
            x_label=t("Lots in time order").localized(),
            y_label=f"{localize(self.test.name)} ({self.test.unit})"
            if self.test.unit
            else localize(self.test.name),
            points=[(p.number, p.value) for p in self.points],
            references=refs,
            marked=frozenset(i for i, p in enumerate(self.points) if p.out_of_trend),
            number=number_text,
        )

    def rows(self) -> list[list[str]]:
        return [
            [
                str(p.number),
                p.din,
                day_text(p.performed_on),
                number_text(p.value),
                t("OUT OF TREND").localized() if p.out_of_trend else "—",
            ]
            for p in self.points
        ]


def numeric_tests(session: Session, product_key: str) -> list[NumericTest]:
    row = effective_specification(session, product_key)
    return [test for test in row.spec().tests if isinstance(test, NumericTest)] if row else []


def _number(text: str) -> float | None:
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def result_trend(session: Session, product_key: str, test: NumericTest, last: int = LAST_LOTS) -> Trend:
    """The current result of `test` of the `last` lots of `product_key` (any version) that have one,
    oldest first; mean ± 3σ over those lots."""
    rows = session.execute(
        select(TestResult, Lot.din)
        .join(Lot, Lot.id == TestResult.lot_id)
        .join(ProductType, ProductType.id == Lot.product_type_id)
        .where(
            ProductType.key == product_key,
            TestResult.test_code == test.code,
            TestResult.superseded_by_id.is_(None),
            TestResult.voided_at.is_(None),
        )
        .order_by(TestResult.performed_on.desc(), TestResult.id.desc())
        .limit(last)
    ).all()
    measured = [(r, din, v) for r, din in reversed(rows) if (v := _number(r.value)) is not None]
    limits = control_limits([v for _, _, v in measured])
    points = [
        TrendPoint(
            i,
            din,
            r.performed_on,
            v,
            r.verdict,
            limits is not None and not (limits.lower <= v <= limits.upper),
        )
        for i, (r, din, v) in enumerate(measured, start=1)
    ]
    return Trend(product_key, test, points, limits)
