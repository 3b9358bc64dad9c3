"""A shipper's temperature logger file (CSV), read as people export it (DOMAIN.md §5: temperature
logger, range and excursions): one reading a line, a time and a temperature in °C, separated by a comma,
a semicolon or a tab; a header line is skipped. Times with an offset are taken as they are; times without
one are on the facility's clock (the hour repeated in autumn cannot be told apart, so it is refused).
Decimals with a point or a comma. Pure: no database, no Flask."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bank.clock import LocalTimeError, from_local
from bank.i18n import t
from bank.refusals import Problem

MAX_READINGS = 50_000
MAX_PROBLEMS = 10  # lines named in a refusal; the count of the others follows
_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_NUMBER = re.compile(r"^[+−-]?\d+(?:[.,]\d+)?$")


@dataclass(frozen=True)
class Reading:
    at: datetime  # aware UTC
    celsius: float


@dataclass(frozen=True)
class LoggerSummary:
    count: int
    first_at: datetime
    last_at: datetime
    minimum_c: float
    maximum_c: float
    above_limit: int  # readings above the storage limit (0 when the product states none)

    @property
    def hours(self) -> float:
        return (self.last_at - self.first_at).total_seconds() / 3600


def _time(text: str, zone: ZoneInfo) -> datetime:
    text = text.strip()
    m = _DAY_FIRST.fullmatch(text)
    if m:
        day, month, year, hour, minute, second = m.groups()
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    else:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return from_local(value, zone)


def _celsius(text: str) -> float:
    cleaned = text.strip().removesuffix("°C").removesuffix("C").removesuffix("°").strip()
    if not _NUMBER.match(cleaned):
        raise ValueError
    return float(cleaned.replace("−", "-").replace(",", "."))


def _rows(text: str) -> list[list[str]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]


def _line_problem(line: int, message) -> Problem:
    return Problem("custody.logger.line", message, t("line %(line)s", line=line), field="logger_file")


def _reading(row: list[str], zone: ZoneInfo, previous: Reading | None) -> Reading | str:
    """One line as a reading, or what is wrong with it."""
    if len(row) < 2:
        return t("a time and a temperature are expected, separated by a comma or a semicolon")
    try:
        at = _time(row[0], zone)
    except LocalTimeError as e:
        return e.args[0]
    except (ValueError, OverflowError):
        return t("'%(text)s' is not a date and time", text=row[0][:40])
    try:
        celsius = _celsius(row[1])
    except ValueError:
        return t("'%(text)s' is not a temperature in °C", text=row[1][:20])
    if not -200 <= celsius <= 60:
        return t("%(value)s °C is outside −200 to +60 °C", value=celsius)
    if previous is not None and at <= previous.at:
        return t("the time does not follow the line before")
    return Reading(at, celsius)


def _has_header(rows: list[list[str]]) -> bool:
    if not rows or len(rows[0]) < 2:
        return False
    try:
        _celsius(rows[0][1])
    except ValueError:
        return True
    return False


def parse_logger_csv(text: str, zone: ZoneInfo) -> tuple[list[Reading], list[Problem]]:
    """The readings of a logger file in time order, or every problem found (then no reading counts)."""
    rows = _rows(text)
    if _has_header(rows):
        rows = rows[1:]
    readings: list[Reading] = []
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=1):
        found = _reading(row, zone, readings[-1] if readings else None)
        if isinstance(found, Reading):
            readings.append(found)
        elif len(problems) < MAX_PROBLEMS:
            problems.append(
                _line_problem(number, t("Line %(line)s: %(problem)s.", line=number, problem=found))
            )
    bad = len(rows) - len(readings)
    if bad > MAX_PROBLEMS:
        problems.append(
            _line_problem(len(rows), t("And %(count)s more lines with a problem.", count=bad - MAX_PROBLEMS))
        )
    if not problems and len(readings) < 2:
        problems.append(
            Problem("custody.logger.empty", t("The file holds fewer than two readings."), field="logger_file")
        )
    if len(readings) > MAX_READINGS:
        problems.append(
            Problem(
                "custody.logger.too_long",
                t("The file holds more than %(count)s readings.", count=MAX_READINGS),
                field="logger_file",
            )
        )
    return (readings if not problems else []), problems


def summarise(readings: list[Reading], limit_c: float | None) -> LoggerSummary:
    temperatures = [r.celsius for r in readings]
    return LoggerSummary(
        len(readings),
        readings[0].at,
        readings[-1].at,
        min(temperatures),
        max(temperatures),
        0 if limit_c is None else sum(1 for c in temperatures if c > limit_c),
    )


def chart_points(readings: list[Reading], most: int = 400) -> list[tuple[float, float]]:
    """(hours since the first reading, °C), at most `most` points: each stretch keeps its highest and its
    lowest reading, so thinning never hides an excursion."""
    start = readings[0].at
    if len(readings) <= most:
        chosen = readings
    else:
        size = -(-len(readings) // (most // 2))
        chosen = []
        for i in range(0, len(readings), size):
            part = readings[i : i + size]
            low, high = min(part, key=lambda r: r.celsius), max(part, key=lambda r: r.celsius)
            chosen.extend(sorted({low, high}, key=lambda r: r.at))
    return [((r.at - start).total_seconds() / 3600, r.celsius) for r in chosen]
