"""Facts named inside refusals as people read them (issue 24: no Python reprs, no field names): a
calendar day and a time in the reader's notation, a quantity without trailing zeros. Pure: the order of
day, month and year is the catalogue's (bank.i18n), so English reads 2026-12-03 and French 03/12/2026."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from bank.i18n import Text, t


def day_words(day: date) -> Text:
    """A calendar day: 2026-12-03 in English, 03/12/2026 in French."""
    year, month, dom = day.isoformat().split("-")
    return t("%(year)s-%(month)s-%(day)s", year=year, month=month, day=dom)


def utc_words(moment: datetime) -> Text:
    """A stored UTC time: 2026-12-03 14:05 UTC in English, 03/12/2026 14:05 UTC in French."""
    return t("%(day)s %(time)s UTC", day=day_words(moment.date()), time=moment.strftime("%H:%M"))


def amount(value: Decimal | float | int, places: int = 2) -> Decimal:
    """A measured quantity rounded for reading, without trailing zeros (14.00 EU reads 14, 0.60 reads
    0.6); shown with the reader's decimal mark."""
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    return Decimal(format(rounded.normalize(), "f"))


def millions(cells: Decimal | float | int) -> Decimal:
    """A cell count in millions (the "× 10⁶" people read on every dose)."""
    return amount(Decimal(str(cells)) / Decimal(1_000_000), 3)
