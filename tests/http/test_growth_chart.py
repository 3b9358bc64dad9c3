"""The growth curve of a lot with known passages (issue 21): the same points, drawn once with reportlab's
graphics, on the lot page (inline SVG) and in the executed batch record (PDF), each with the table of its
numbers beside it; the PD limit of the product is drawn; unverified passages stay off the curve."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from bank import charts
from bank.clock import to_local
from bank.languages import facility_zone
from lots import services as lot_services
from lots.growth import growth_curve
from tests.factories import lots as lf

CIRCLE = re.compile(r'<circle cx="([\d.]+)" cy="([\d.]+)"')


def expected_points(session, lot) -> list[tuple[int, float]]:
    """Days since the harvest and cumulative PD, worked out here from the passages as entered."""
    day_zero = to_local(lot_services.harvest_of(session, lot).collected_at, facility_zone()).date()
    passages = lot_services.passages(session, lot)
    points, total = [((passages[0].seeded_on - day_zero).days, 0.0)], 0.0
    for p in passages:
        total += p.population_doublings
        points.append(((p.harvested_on - day_zero).days, total))
    return points


def test_growth_curve_shows_the_expected_points_on_the_lot_page_and_in_the_batch_record(
    session, tech, qa, app
):
    lot = lf.grown_lot(session, tech.user, qa.user)  # P0 and P1, 4 PD each, verified
    lf.passage(session, tech.user, None, lot, 2.0e6, 1.6e7)  # P2 entered, not verified: off the curve
    with app.test_request_context():
        expected = expected_points(session, lot)[:3]
        assert [v for _, v in expected] == [0.0, 4.0, 8.0]
        curve = growth_curve(session, lot)
        at = charts.scale(curve.chart())
    page = qa.get(f"/lots/{lot.id}").get_data(as_text=True)
    svg = page[page.index("<svg") : page.index("</svg>")]
    drawn = [(float(x), float(y)) for x, y in CIRCLE.findall(svg)]
    assert drawn == [tuple(round(c, 1) for c in at(day, pd)) for day, pd in expected]
    # Independent of the scale: heights in proportion to the PD, positions across in proportion to days.
    (x0, y0), (x1, y1), (x2, y2) = drawn
    assert abs((y2 - y0) - 2 * (y1 - y0)) < 0.2
    assert abs((x2 - x0) * expected[1][0] - (x1 - x0) * expected[2][0]) < 0.5
    assert "PD limit 30" in svg and "Days since harvest" in svg
    table = page[page.index('data-testid="growth-numbers"') :]
    for (day, pd), label in zip(expected, ("start", "P0", "P1"), strict=True):
        assert re.search(rf"<td>{label}</td><td>{day}</td><td>[^<]+</td><td>{pd:.2f}</td>", table), label
    assert "Passages waiting for verification, not on the curve yet: 1." in page

    pdf = qa.client.get(f"/release/lots/{lot.id}/batch-record.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Growth curve" in text and "PD limit 30" in text and "Days since harvest" in text
    for day, pd in expected[1:]:
        assert re.search(rf"P[01] {day} \S+ {pd:.2f}", text), (day, pd)
