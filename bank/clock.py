"""The one clock: every stored time is an aware UTC datetime; `today` is the UTC calendar day. People
type and read times in the facility's zone: `from_local` turns a typed wall-clock time into UTC (refusing
the hour skipped in spring and asking which of the hour repeated in autumn), `local_text` shows one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bank.i18n import t


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The evaluation date of rules: the UTC calendar day, the same clock as every stored time."""
    return utcnow().date()


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC: a naive one is taken as UTC (machine times, never a person's typing:
    that goes through `from_local`)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def zone_of(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


class LocalTimeError(ValueError):
    """A typed wall-clock time that does not name one instant in the zone."""


class NonexistentLocalTime(LocalTimeError):
    """The hour the clocks skip (spring forward): that time never happened."""


class AmbiguousLocalTime(LocalTimeError):
    """The hour the clocks repeat (fall back): the person must say which. `choices` are (fold, text)."""

    def __init__(self, message: str, choices: list[tuple[int, str]]):
        super().__init__(message)
        self.choices = choices


def _abbreviation(value: datetime) -> str:
    return value.tzname() or value.strftime("%z")


def from_local(value: datetime, zone: ZoneInfo | str, fold: int | None = None) -> datetime:
    """The aware UTC instant of a time a person typed in `zone`. An aware value (an offset was typed)
    is converted as it is. A naive one is the wall clock of `zone`: a time in the hour skipped in spring
    raises NonexistentLocalTime; a time in the hour repeated in autumn raises AmbiguousLocalTime unless
    `fold` says which (0: the first, before the change; 1: the second, after it; zoneinfo's `fold`)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    tz = zone_of(zone)
    first, second = value.replace(tzinfo=tz, fold=0), value.replace(tzinfo=tz, fold=1)
    typed = f"{value:%Y-%m-%d %H:%M}"
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        after = first.astimezone(UTC).astimezone(tz)
        raise NonexistentLocalTime(
            t(
                "%(time)s does not exist in %(zone)s: the clocks skip that hour (changing to %(abbr)s). "
                "Type the time the clock showed.",
                time=typed,
                zone=tz.key,
                abbr=_abbreviation(after),
            )
        )
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    if fold is None:
        a, b = _abbreviation(first), _abbreviation(second)
        raise AmbiguousLocalTime(
            t(
                "%(time)s happens twice in %(zone)s (the clocks go back): say whether it is the first "
                "(%(first)s) or the second (%(second)s).",
                time=typed,
                zone=tz.key,
                first=a,
                second=b,
            ),
            [(0, t("first (%(abbr)s)", abbr=a)), (1, t("second (%(abbr)s)", abbr=b))],
        )
    return (second if fold else first).astimezone(UTC)


def to_local(value: datetime, zone: ZoneInfo | str) -> datetime:
    """A stored (aware) time on the wall clock of `zone`; a naive one is taken as UTC."""
    return as_utc(value).astimezone(zone_of(zone))


def local_text(
    value: datetime | None, zone: ZoneInfo | str, seconds: bool = False, day_first: bool = False
) -> str:
    """A time as people read it in `zone`, with the zone's abbreviation: "2026-12-03 10:15 CET", or with
    `day_first` (French) "03/12/2026 10:15 CET"."""
    if value is None:
        return ""
    local = to_local(value, zone)
    shown = f"{local:%d/%m/%Y %H:%M:%S}" if day_first else f"{local:%Y-%m-%d %H:%M:%S}"
    return shown[: 19 if seconds else 16] + f" {_abbreviation(local)}"


def utc_text(value: datetime | None, seconds: bool = True) -> str:
    """A time in UTC with an explicit suffix (audit exports, e-signature manifestations on PDFs)."""
    if value is None:
        return ""
    return f"{as_utc(value):%Y-%m-%d %H:%M:%S}"[: 19 if seconds else 16] + " UTC"
