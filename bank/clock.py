"""The one clock: every stored time is an aware UTC datetime; `today` is the UTC calendar day."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The evaluation date of rules: the UTC calendar day, the same clock as every stored time."""
    return utcnow().date()


def as_utc(value: datetime | None) -> datetime | None:
    """A stored or typed time as aware UTC: a naive one is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
