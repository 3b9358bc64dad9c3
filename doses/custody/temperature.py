"""A custody event's temperature record: the shipper's logger file drawn once with bank.charts (SVG on the
custody page, the same drawing in the custody report), the storage limit as a line, readings above it
marked, and a plain table of readings beside it (thinned, always with the lowest and the highest)."""

from __future__ import annotations

from dataclasses import dataclass

from bank import charts
from bank.i18n import t
from bank.languages import local_time, number_text
from doses.custody.models import LoggerFile
from doses.custody.rules.logger import Reading, chart_points, summarise
from doses.custody.services import logger_readings, storage_limit_of

TABLE_ROWS = 24


@dataclass(frozen=True)
class TemperatureRecord:
    file: LoggerFile
    readings: list[Reading]
    limit_c: float | None

    @property
    def summary(self):
        return summarise(self.readings, self.limit_c)

    def chart(self) -> charts.Chart:
        points = chart_points(self.readings)
        marked = frozenset(
            i for i, (_, c) in enumerate(points) if self.limit_c is not None and c > self.limit_c
        )
        references = []
        if self.limit_c is not None:
            references.append(
                charts.Reference(
                    t("storage limit %(limit)s °C", limit=self.limit_c).localized(), self.limit_c
                )
            )
        return charts.Chart(
            title=t("Temperature record, logger file %(name)s", name=self.file.filename).localized(),
            x_label=t("Hours since the first reading").localized(),
            y_label="°C",
            points=points,
            references=references,
            marked=marked,
            number=number_text,
        )

    def svg(self):
        return charts.svg(self.chart())

    def columns(self) -> list[str]:
        return [t("Time").localized(), t("Hours").localized(), "°C"]

    def rows(self) -> list[list[str]]:
        start, chosen = self.readings[0].at, _sample(self.readings)
        return [
            [
                local_time(r.at),
                number_text(round((r.at - start).total_seconds() / 3600, 2)),
                number_text(r.celsius),
            ]
            for r in chosen
        ]


def _sample(readings: list[Reading]) -> list[Reading]:
    if len(readings) <= TABLE_ROWS:
        return readings
    step = (len(readings) - 1) / (TABLE_ROWS - 3)
    picked = {readings[round(i * step)] for i in range(TABLE_ROWS - 2)}
    picked |= {min(readings, key=lambda r: r.celsius), max(readings, key=lambda r: r.celsius)}
    return sorted(picked, key=lambda r: r.at)


def temperature_record(row: LoggerFile, event) -> TemperatureRecord:
    return TemperatureRecord(row, logger_readings(row), storage_limit_of(event))
