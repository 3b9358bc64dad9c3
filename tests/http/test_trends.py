"""Trends of a release test across lots (issue 21, continued process verification): values in time order
with the specification limits and mean ± 3σ, a lot out of trend marked although within specification,
in the SVG and in the table beside it."""

from __future__ import annotations

import re

from bank.clock import today
from release.trends import control_limits
from tests.factories import release as fr

CIRCLE = re.compile(r'<circle cx="[\d.]+" cy="[\d.]+" r="([\d.]+)"[^>]*fill: rgb\(([^)]*)\)')


def test_mean_and_sigma_come_from_the_moving_range_so_one_drifting_lot_stands_out():
    values = [95.0, 96.0, 95.0, 96.0, 95.0, 80.0]
    limits = control_limits(values)
    assert round(limits.mean, 2) == 92.83 and round(limits.sigma, 2) == round(19 / 5 / 1.128, 2)
    assert not limits.lower <= 80.0 <= limits.upper
    assert all(limits.lower <= v <= limits.upper for v in values[:-1])
    assert control_limits([95.0, 96.0]) is None


def test_viability_trend_marks_the_lot_out_of_trend_within_specification(session, tech, qa, login_as):
    values = ["95", "96", "95", "96", "95", "80"]  # 80 % passes the ≥ 70 % specification
    lots = []
    for value in values:
        lot = fr.qc_lot(session, tech.user, qa.user, qa.user, containers=1)
        fr.enter(session, tech.user, lot, "VIABILITY", value, "%", performed_on=today())
        lots.append(lot)
    page = qa.get("/release/trends", query_string={"product": "AT-MSC-ALLO", "test": "VIABILITY", "last": 6})
    html = page.get_data(as_text=True)
    table = html[html.index('data-testid="trend-numbers"') :]
    shown = re.findall(
        r"<tr(?: class=\"table-danger\" data-out-of-trend)?><td>(\d+)</td><td>(\w+)</td>", table
    )
    assert [din for _, din in shown] == [lot.din for lot in lots]
    assert table.count("data-out-of-trend") == 1 and "OUT OF TREND" in table
    assert re.search(rf"data-out-of-trend><td>6</td><td>{lots[-1].din}</td>", table)
    svg = html[html.index("<svg") : html.index("</svg>")]
    circles = CIRCLE.findall(svg)
    assert len(circles) == 6
    assert [r for r, _ in circles].count("3.2") == 1 and circles[-1][0] == "3.2"  # the last one, marked
    for words in ("min 70", "mean + 3σ", "mean − 3σ", "Lots in time order"):
        assert words in svg
    assert "Mean 92.83" in html


def test_trends_page_lists_only_numeric_tests(qa):
    html = qa.get("/release/trends", query_string={"product": "AT-MSC-ALLO"}).get_data(as_text=True)
    assert 'value="VIABILITY"' in html and 'value="STERILITY"' not in html
