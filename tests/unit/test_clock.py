"""Typed wall-clock times in Europe/Paris become UTC instants (issue 19): ordinary times, the hour the
clocks skip in spring (refused), the hour they repeat in autumn (refused unless `fold` says which)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bank.clock import AmbiguousLocalTime, NonexistentLocalTime, from_local, local_text

pytestmark = pytest.mark.requirement("ER-TIME")

PARIS = "Europe/Paris"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (datetime(2026, 12, 3, 9, 0), datetime(2026, 12, 3, 8, 0, tzinfo=UTC)),  # winter: CET, UTC+1
        (datetime(2026, 7, 3, 9, 0), datetime(2026, 7, 3, 7, 0, tzinfo=UTC)),  # summer: CEST, UTC+2
        (datetime(2026, 3, 29, 1, 59), datetime(2026, 3, 29, 0, 59, tzinfo=UTC)),  # just before the gap
        (datetime(2026, 3, 29, 3, 0), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),  # just after it
        (datetime(2026, 10, 25, 3, 0), datetime(2026, 10, 25, 2, 0, tzinfo=UTC)),  # after the repeat
    ],
)
def test_an_ordinary_paris_time_is_stored_as_its_utc_instant(typed, stored):
    assert from_local(typed, PARIS) == stored


def test_the_hour_skipped_in_spring_is_refused():
    with pytest.raises(NonexistentLocalTime, match="does not exist"):
        from_local(datetime(2026, 3, 29, 2, 30), PARIS)


def test_the_hour_repeated_in_autumn_is_refused_until_the_person_says_which():
    with pytest.raises(AmbiguousLocalTime) as caught:
        from_local(datetime(2026, 10, 25, 2, 30), PARIS)
    assert caught.value.choices == [(0, "first (CEST)"), (1, "second (CET)")]
    assert from_local(datetime(2026, 10, 25, 2, 30), PARIS, fold=0) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert from_local(datetime(2026, 10, 25, 2, 30), PARIS, fold=1) == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )


def test_a_time_typed_with_its_offset_is_taken_as_it_is():
    typed = datetime(2026, 10, 25, 2, 30, tzinfo=timezone(timedelta(hours=1)))
    assert from_local(typed, PARIS) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_a_stored_time_reads_on_the_paris_clock_with_its_zone():
    assert local_text(datetime(2026, 12, 3, 9, 15, tzinfo=UTC), PARIS) == "2026-12-03 10:15 CET"
    assert (
        local_text(datetime(2026, 7, 3, 7, 0, 5, tzinfo=UTC), PARIS, seconds=True)
        == "2026-07-03 09:00:05 CEST"
    )
    assert local_text(None, PARIS) == ""
