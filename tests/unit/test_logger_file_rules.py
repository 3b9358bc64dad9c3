"""A shipper's logger file (CSV) read as people export it (issue 21; DOMAIN.md §5): ISO times with or
without an offset, French day-first times, semicolons and decimal commas; every bad line named; the hour
repeated in autumn refused; thinning for the chart keeps the extremes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from doses.custody.rules.logger import chart_points, parse_logger_csv, summarise

pytestmark = pytest.mark.requirement("DOS-CUSTODY")

PARIS = ZoneInfo("Europe/Paris")


def test_an_iso_file_with_a_header_and_offsets():
    text = (
        "time,temperature\n2026-12-03T08:00Z,-185.5\n2026-12-03T09:30+01:00,-184\n2026-12-03T10:00Z,-150.2\n"
    )
    readings, problems = parse_logger_csv(text, PARIS)
    assert not problems
    assert [r.at for r in readings] == [
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 8, 30, tzinfo=UTC),
        datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
    ]
    assert [r.celsius for r in readings] == [-185.5, -184.0, -150.2]


def test_a_french_export_with_semicolons_decimal_commas_and_the_facility_clock():
    text = "Date;Température (°C)\n03/12/2026 09:00;-185,5\n03/12/2026 09:30:15;-184,0\n03/12/2026 10:00;-149,5 °C\n"
    readings, problems = parse_logger_csv(text, PARIS)
    assert not problems
    assert readings[0].at == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # 09:00 Paris (CET) is 08:00 UTC
    assert [r.celsius for r in readings] == [-185.5, -184.0, -149.5]
    summary = summarise(readings, limit_c=-150.0)
    assert (summary.count, summary.minimum_c, summary.maximum_c, summary.above_limit) == (
        3,
        -185.5,
        -149.5,
        1,
    )
    assert summary.hours == 1.0


@pytest.mark.parametrize(
    "line, words",
    [
        ("yesterday;-150", "is not a date and time"),
        ("2026-12-03T10:00Z;cold", "is not a temperature"),
        ("2026-12-03T10:00Z;-250", "outside −200 to +60 °C"),
        ("2026-12-03T07:00Z;-180", "does not follow the line before"),
        ("2026-10-25T02:30;-180", "happens twice"),
        ("2026-12-03T10:00Z", "a time and a temperature are expected"),
    ],
)
def test_every_bad_line_is_named_and_no_reading_counts(line, words):
    text = f"2026-12-03T08:00Z;-185\n{line}\n2026-12-03T11:00Z;-185\n"
    readings, problems = parse_logger_csv(text, PARIS)
    assert readings == []
    assert any(words in str(p.message) and "Line 2" in str(p.message) for p in problems), problems
    assert all(p.field == "logger_file" for p in problems)


def test_a_file_without_two_readings_is_refused():
    readings, problems = parse_logger_csv("time;temperature\n2026-12-03T08:00Z;-185\n", PARIS)
    assert readings == [] and [p.rule_id for p in problems] == ["custody.logger.empty"]


def test_many_bad_lines_are_counted_not_all_listed():
    text = "time;°C\n" + "\n".join(f"bad line {i};x" for i in range(30))
    _, problems = parse_logger_csv(text, PARIS)
    assert len(problems) == 11 and "20 more lines" in str(problems[-1].message)


def test_thinning_for_the_chart_keeps_the_highest_reading():
    start = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    text = "\n".join(
        f"{datetime.fromtimestamp(start.timestamp() + 60 * i, UTC).isoformat()};{-180 if i != 777 else -120}"
        for i in range(2000)
    )
    readings, problems = parse_logger_csv(text, PARIS)
    assert not problems and len(readings) == 2000
    points = chart_points(readings, most=200)
    assert len(points) <= 200 and max(p[1] for p in points) == -120
    assert points[0][0] == 0.0 and points == sorted(points)
