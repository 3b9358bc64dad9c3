"""Storage use per tank, rack and box: positions used of the positions there, for planning the tanks
(drawn with bank.charts, its numbers in a table beside it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank import charts
from bank.i18n import t
from lots.models import Container, StorageBox


@dataclass(frozen=True)
class Use:
    level: str  # "tank", "rack" or "box"
    site: str
    tank: str
    rack: str | None
    box: StorageBox | None
    used: int
    capacity: int

    @property
    def label(self) -> str:
        if self.level == "tank":
            return t("%(site)s › tank %(tank)s", site=self.site, tank=self.tank).localized()
        if self.level == "rack":
            return t("rack %(rack)s", rack=self.rack).localized()
        return t("box %(box)s", box=self.box.name).localized()

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.capacity if self.capacity else 0.0


def storage_use(session: Session) -> list[Use]:
    """Every tank, then its racks, each rack followed by its boxes (two statements)."""
    used = dict(
        session.execute(
            select(Container.box_id, func.count())
            .where(Container.box_id.is_not(None))
            .group_by(Container.box_id)
        ).all()
    )
    boxes = session.scalars(
        select(StorageBox).order_by(StorageBox.site, StorageBox.tank, StorageBox.rack, StorageBox.name)
    ).all()
    rows: list[Use] = []
    tanks: dict[tuple[str, str], list[StorageBox]] = {}
    for b in boxes:
        tanks.setdefault((b.site, b.tank), []).append(b)
    for (site, tank), in_tank in tanks.items():
        size = sum(b.row_count * b.col_count for b in in_tank)
        rows.append(Use("tank", site, tank, None, None, sum(used.get(b.id, 0) for b in in_tank), size))
        racks: dict[str, list[StorageBox]] = {}
        for b in in_tank:
            racks.setdefault(b.rack, []).append(b)
        for rack, in_rack in racks.items():
            size = sum(b.row_count * b.col_count for b in in_rack)
            rows.append(Use("rack", site, tank, rack, None, sum(used.get(b.id, 0) for b in in_rack), size))
            rows += [
                Use("box", site, tank, rack, b, used.get(b.id, 0), b.row_count * b.col_count) for b in in_rack
            ]
    return rows


def use_bars(rows: list[Use]) -> charts.Bars:
    """The tanks and racks as bars (boxes are in the table: a tank may hold hundreds)."""
    shown = [r for r in rows if r.level != "box"]
    return charts.Bars(
        t("Storage use").localized(),
        [
            t("tank %(tank)s", tank=r.tank).localized()
            if r.level == "tank"
            else t("› rack %(rack)s", rack=r.rack).localized()
            for r in shown
        ],
        [r.used for r in shown],
        [r.capacity for r in shown],
    )
