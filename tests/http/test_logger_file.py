"""Issue 21: a custody temperature record when the shipper's logger file (CSV) is attached to a custody
event — drawn once (SVG on the custody page, the same drawing in the custody report) with a table of its
numbers beside it; a bad file is refused next to the field, naming the lines, and nothing is kept."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from doses.custody.models import CustodyEvent, LoggerFile
from tests.factories import custody as fc
from tests.support import OpenApiClient, client_for, token_for

pytestmark = pytest.mark.requirement("DOS-CUSTODY")

GOOD = (
    "Date;Température (°C)\n"
    "03/12/2026 09:00;-185,5\n"
    "03/12/2026 10:00;-184,0\n"
    "03/12/2026 11:00;-149,5\n"
    "03/12/2026 12:00;-183,0\n"
)


def fresh(session) -> None:
    session.commit()
    session.expire_all()


def _shipped(session, staff):
    allocation = fc.open_dose(session, staff)
    fc.record(session, staff.tech, staff.pharmacist, allocation, "issued_from_storage")
    event = fc.record(session, staff.pharmacist, staff.tech, allocation, "packed")
    return allocation, event


def _files(session) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(LoggerFile))


def test_a_logger_file_is_drawn_on_the_custody_page_and_in_the_report(app, staff, session):
    allocation, event = _shipped(session, staff)
    web = client_for(app, staff.pharmacist)
    url = f"/custody/doses/{allocation.id}"
    web.get(url)
    resp = web.post(
        f"{url}/logger",
        {
            "event_number": str(event.sequence),
            "logger_file": (io.BytesIO(GOOD.encode()), "shipper-LOG-0042.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    page = web.get(resp.headers["Location"]).get_data(as_text=True)
    record = page[page.index('data-testid="temperature-record"') :]
    assert "<svg" in record and "shipper-LOG-0042.csv" in record
    assert "4 readings over 3 h, -185.5 to -149.5 °C" in record
    assert "1 readings above the storage limit (-150 °C)" in record  # MAESTRO-4MS stored at ≤ −150 °C
    numbers = record[record.index('data-testid="temperature-numbers"') :]
    for cell in ("2026-12-03 09:00 CET", "-185.5", "2026-12-03 11:00 CET", "-149.5"):
        assert cell in numbers
    # the points of the chart are the readings: 4 markers on the curve, the one above the limit marked
    assert len(re.findall(r"<circle", record.split("</svg>")[0])) >= 4

    report = web.client.get(f"{url}/report.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(report.data)).pages).split())
    assert "Temperature record of event 2" in text and "-149.5" in text and "2026-12-03 11:00" in text
    # a second file for the same event is refused, the first one stays
    resp = web.post(
        f"{url}/logger",
        {"event_number": str(event.sequence), "logger_file": (io.BytesIO(GOOD.encode()), "again.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and _files(session) >= 1


@pytest.mark.parametrize(
    "content, words",
    [
        ("time;°C\n2026-12-03T08:00Z;-185\nnot a time;-180\n2026-12-03T10:00Z;-185\n", "Line 2"),
        ("time;°C\n2026-12-03T08:00Z;-185\n", "fewer than two readings"),
        ("", "Choose the logger"),
    ],
)
def test_a_bad_logger_file_is_refused_next_to_the_field_and_nothing_is_kept(
    app, staff, session, content, words
):
    allocation, event = _shipped(session, staff)
    before = _files(session)
    web = client_for(app, staff.pharmacist)
    web.get(f"/custody/doses/{allocation.id}")
    resp = web.post(
        f"/custody/doses/{allocation.id}/logger",
        {"event_number": str(event.sequence), "logger_file": (io.BytesIO(content.encode()), "logger.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert re.search(rf'data-field="logger_file">[^<]*{words}', resp.get_data(as_text=True))
    assert _files(session) == before


def test_the_api_attaches_a_logger_file_as_csv_text(app, staff, session):
    allocation, event = _shipped(session, staff)
    api = OpenApiClient(app.test_client(), token_for(client_for(app, staff.pharmacist)))
    resp = api.call("api_custody_logger_file", {"filename": "log.csv", "csv": GOOD}, event_id=event.id)
    assert resp.status_code == 201, resp.json
    assert resp.json["readings"] == 4 and resp.json["maximum_c"] == -149.5
    resp = api.call("api_custody_logger_file", {"csv": GOOD}, event_id=event.id)
    assert resp.status_code == 409 and resp.json["problems"][0]["rule_id"] == "custody.logger.attached"
    fresh(session)
    assert session.get(CustodyEvent, event.id) is not None
