"""A lot's growth curve: cumulative population doublings against days since the harvest, over the whole
lineage (a derived lot continues its parents' curve), with the product's PD limit. Verified passages in
force only, as for the cumulative PD the limits are checked on (lots.services.passage_lines)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bank import charts
from bank.clock import to_local
from bank.i18n import N_, t
from bank.languages import day_text, facility_zone, number_text
from lots.models import Lot
from lots.services import harvest_of, lineage, passage_lines


@dataclass(frozen=True)
class GrowthPoint:
    label: str  # "start", "P0", "P1"…
    day: int  # days since the harvest (or the first seeding, for a lot without a harvest)
    on: date
    cumulative_pd: float


@dataclass(frozen=True)
class GrowthCurve(charts.ChartWithTable):
    COLUMNS = (N_("Passage"), N_("Day"), N_("Date"), N_("Cumulative PD"))

    din: str
    points: list[GrowthPoint]
    pd_limit: float
    waiting: int  # passages in force still to be verified (not on the curve yet)

    def chart(self) -> charts.Chart:
        return charts.Chart(
            title=t("Growth curve of lot %(din)s", din=self.din).localized(),
            x_label=t("Days since harvest").localized(),
            y_label=t("Cumulative PD").localized(),
            points=[(p.day, p.cumulative_pd) for p in self.points],
            references=[charts.Reference(t("PD limit %(pd)s", pd=self.pd_limit).localized(), self.pd_limit)],
            number=number_text,
        )

    def rows(self) -> list[list[str]]:
        return [
            [
                t("start").localized() if p.label == "start" else p.label,
                str(p.day),
                day_text(p.on),
                number_text(p.cumulative_pd, 2),
            ]
            for p in self.points
        ]


def growth_curve(session: Session, lot: Lot, own_lines=None, own_harvest=None) -> GrowthCurve:
    """`own_lines`/`own_harvest`: the lot's passage lines and harvest when the caller has read them already
    (the lot page); a lot's lineage is read either way."""
    chain = list(reversed(lineage(session, lot)))  # harvest lot first
    lines = [
        (each, line)
        for each in chain
        for line in (own_lines if each is lot and own_lines is not None else passage_lines(session, each))
    ]
    harvest = own_harvest if chain[0] is lot and own_harvest is not None else harvest_of(session, chain[0])
    first = lines[0][1].passage.seeded_on if lines else None
    # The harvest day on the facility's calendar (stored in UTC: a night harvest is on the local day).
    day_zero = to_local(harvest.collected_at, facility_zone()).date() if harvest else first
    points: list[GrowthPoint] = []
    if first is not None and day_zero is not None:
        points.append(GrowthPoint("start", (first - day_zero).days, first, chain[0].starting_pd))
    waiting = 0
    for _each, line in lines:
        if line.cumulative_pd is None:
            waiting += 1
            continue
        p = line.passage
        points.append(
            GrowthPoint(f"P{p.number}", (p.harvested_on - day_zero).days, p.harvested_on, line.cumulative_pd)
        )
    return GrowthCurve(lot.din, points, lot.product_type.max_cumulative_pd, waiting)
