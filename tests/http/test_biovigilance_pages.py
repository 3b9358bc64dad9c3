"""Issue 22 through the screens and the API, as clinical and QA staff use them: an adverse event recorded
from the patient page, impossible input refused next to the field, the look-forward shown to unblinded
QA only, the signed hold and closing, the 2006/86/EC reports read back, follow-up visits, the API."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from biovigilance.models import AdverseEvent
from tests.factories import doses as fd
from tests.support import PASSWORD, OpenApiClient, client_for, token_for

pytestmark = pytest.mark.requirement("BIO-EVENTS")

TODAY = fd.TODAY


def text(resp) -> str:
    return resp.get_data(as_text=True)


def fresh(session) -> None:
    session.commit()
    session.expire_all()


def _given(session, staff, days_ago=30, n=2):
    lot = fd.cell_lot(session, staff, n=n)
    patient, allocation = fd.maestro_dose(session, staff, lot, days_ago)
    return lot, patient, allocation


def _form(allocation, **kw):
    onset = (TODAY - timedelta(days=29)).isoformat() + "T15:00"
    data = {
        "allocation_id": str(allocation.id),
        "onset_at": onset,
        "description": "Fever and headache",
        "grade": "3",
        "outcome": "recovering",
        "imputability": "possible",
        "seriousness": ["hospitalisation"],
    }
    data.update(kw)
    return data


def _count(session) -> int:
    fresh(session)
    return session.scalar(select(func.count()).select_from(AdverseEvent))


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"onset_at": "2000-01-01T10:00"}, "onset_at", "before the infusion"),
        ({"grade": "9"}, "grade", "1 to 5"),
        ({"imputability": "certainly"}, "imputability", "scale"),
        ({"description": ""}, "description", "Describe"),
    ],
)
def test_impossible_input_is_refused_next_to_the_field(session, staff, app, change, field, words):
    _, patient, allocation = _given(session, staff)
    web = client_for(app, staff.clinician)
    before = _count(session)
    web.get(f"/biovigilance/patients/{patient.id}/events/new")
    resp = web.post(f"/biovigilance/patients/{patient.id}/events/new", _form(allocation, **change))
    assert resp.status_code == 422
    assert re.search(rf'data-field="{field}">[^<]*{words}', text(resp)), text(resp)[-3000:]
    assert _count(session) == before


def test_a_serious_reaction_from_the_patient_page_to_the_signed_conclusions(session, staff, app):
    lot, patient, allocation = _given(session, staff)
    clinician = client_for(app, staff.clinician)
    page = text(clinician.get(f"/doses/patients/{patient.id}"))
    assert "Follow-up visits" in page and "Record an adverse event" in page and "M12" in page
    clinician.get(f"/biovigilance/patients/{patient.id}/events/new")
    resp = clinician.post(f"/biovigilance/patients/{patient.id}/events/new", _form(allocation))
    assert resp.status_code == 302, text(resp)[-2000:]
    event_page = text(clinician.get(resp.headers["Location"]))
    assert "QA is alerted" in event_page and lot.din not in event_page  # the blinded clinician reads no lot
    assert "Look-forward" not in event_page
    fresh(session)
    event = session.scalars(select(AdverseEvent).order_by(AdverseEvent.id.desc())).first()
    assert event.held_at is not None

    qa = client_for(app, staff.qa)
    home = text(qa.get("/"))  # QA is alerted: a notification and the item on the work queue
    assert f"Serious adverse reaction {event.reference} in subject {patient.subject_id}" in home
    assert f"Serious adverse event {event.reference} in {patient.subject_id}" in home
    page = text(qa.get(f"/biovigilance/events/{event.id}"))
    assert "Look-forward" in page and fd.containers(session, lot)[1].identifier in page
    resp = qa.post(f"/biovigilance/events/{event.id}/hold", {"signature_password": "wrong"})
    assert resp.status_code == 422
    resp = qa.post(f"/biovigilance/events/{event.id}/hold", {"signature_password": PASSWORD})
    assert resp.status_code == 302
    qa.post(f"/biovigilance/events/{event.id}/investigate", {})
    resp = qa.post(
        f"/biovigilance/events/{event.id}/close",
        {"conclusion": "", "corrective_actions": "", "signature_password": PASSWORD},
    )
    assert resp.status_code == 422 and "conclusion" in text(resp)
    resp = qa.post(
        f"/biovigilance/events/{event.id}/close",
        {
            "conclusion": "Aseptic meningitis; lot sterile on retest",
            "corrective_actions": "Injection SOP reviewed",
            "signature_password": PASSWORD,
        },
    )
    assert resp.status_code == 302

    # Each document and what it must say.
    sections = {
        "notification": (
            "Rapid notification of a suspected serious adverse reaction",
            "Reporting establishment",
            "Report identification",
            "Reporting date",
            "Individual affected",
            "Date and place of human application",
            "Unique donation identification number",
            "Date of the suspected serious adverse reaction",
            "Type of tissues and cells involved",
            "Type of suspected serious adverse reaction",
            lot.din,
            patient.subject_id,
        ),
        "conclusions": (
            "Conclusions of a serious adverse reaction investigation",
            "Confirmation date",
            "Confirmation of the serious adverse reaction",
            "Change of type of serious adverse reaction",
            "Clinical outcome",
            "Outcome of the investigation and final conclusions",
            "Recommendations for preventive and corrective actions",
            "Aseptic meningitis",
            "Investigation closed",
        ),
    }
    for document, expected in sections.items():
        printed = _pdf_text(qa.client.get(f"/biovigilance/events/{event.id}/{document}.pdf"))
        for section in expected:
            assert section in printed, (document, section)


def _pdf_text(resp) -> str:
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.get_data()))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_the_annual_summary_page_and_pdf(session, staff, app):
    _, patient, allocation = _given(session, staff)
    qa = client_for(app, staff.qa)
    year = (TODAY - timedelta(days=29)).year
    page = text(qa.get(f"/biovigilance/summary?protocol=MAESTRO-4MS&year={year}"))
    assert "Annual summary of adverse events" in page and "definite (certain)" in page
    assert "Annual summary of adverse events" in _pdf_text(
        qa.client.get(f"/biovigilance/summary?protocol=MAESTRO-4MS&year={year}&format=pdf")
    )
    assert client_for(app, staff.clinician).get("/biovigilance/summary").status_code == 403


def test_the_api_records_events_follow_ups_and_visits(session, staff, app):
    _, patient, allocation = _given(session, staff, days_ago=370)
    api = OpenApiClient(app.test_client(), token_for(client_for(app, staff.clinician)))
    onset = (TODAY - timedelta(days=369)).isoformat() + "T09:00+01:00"
    resp = api.call(
        "api_biovigilance_record_event",
        {
            "allocation_id": allocation.id,
            "onset_at": onset,
            "description": "Back pain",
            "grade": 1,
            "outcome": "recovered",
            "imputability": "unlikely",
        },
        patient_id=patient.id,
    )
    assert resp.status_code == 201, resp.json
    event = resp.json
    assert event["hours_since_infusion"] is not None and "lot" not in str(event).lower()
    resp = api.call(
        "api_biovigilance_update_event",
        {
            "description": "Back pain",
            "grade": 1,
            "outcome": "recovered",
            "imputability": "excluded",
            "note": "Resolved",
        },
        event_id=event["id"],
    )
    assert resp.status_code == 201 and len(resp.json["updates"]) == 1
    resp = api.call(
        "api_biovigilance_record_event",
        {**{"onset_at": onset}, "grade": 8, "outcome": "x"},
        patient_id=patient.id,
    )
    assert resp.status_code in (409, 422)
    visits = api.call("api_biovigilance_follow_up", patient_id=patient.id).json["visits"]
    assert visits[0]["label"] == "M12" and visits[0]["state"] == "due"
    resp = api.call(
        "api_biovigilance_record_follow_up",
        {"label": "M12", "visit_on": TODAY.isoformat()},
        patient_id=patient.id,
    )
    assert resp.status_code == 201 and resp.json["visits"][0]["state"] == "recorded"


def test_a_french_clinician_records_and_reads_the_event_in_french(session, staff, app):
    _, patient, allocation = _given(session, staff)
    web = client_for(app, staff.clinician)
    web.post("/language", {"language": "fr", "back": "/"})
    page = text(web.get(f"/biovigilance/patients/{patient.id}/events/new"))
    assert "Imputabilité aux cellules" in page and "Imputability to the cells" not in page
    resp = web.post(f"/biovigilance/patients/{patient.id}/events/new", _form(allocation, grade="9"))
    assert re.search(r'data-field="grade">[^<]*Le grade va de 1 à 5', text(resp))
    resp = web.post(
        f"/biovigilance/patients/{patient.id}/events/new", _form(allocation, seriousness=[], grade="1")
    )
    page = text(web.get(resp.headers["Location"]))
    assert "Survenue" in page and "possible" in page and "non grave" in page


def test_the_reports_print_times_in_the_readers_notation(session, staff, app):
    """Issue 19 for the 2006/86/EC forms: a French reader's notification gives the onset and the
    reporting date as 03/12/2026 15:00 CET, an English reader's as 2026-12-03 15:00 CET."""
    _, patient, allocation = _given(session, staff)
    clinician = client_for(app, staff.clinician)
    resp = clinician.post(f"/biovigilance/patients/{patient.id}/events/new", _form(allocation))
    assert resp.status_code == 302, text(resp)[-2000:]
    fresh(session)
    event = session.scalars(select(AdverseEvent).order_by(AdverseEvent.id.desc())).first()
    onset = TODAY - timedelta(days=29)
    qa = client_for(app, staff.qa)
    english = _pdf_text(qa.client.get(f"/biovigilance/events/{event.id}/notification.pdf"))
    assert re.search(rf"{onset.isoformat()} 15:00 CES?T", english), english
    qa.post("/language", {"language": "fr", "back": "/"})
    french = _pdf_text(qa.client.get(f"/biovigilance/events/{event.id}/notification.pdf"))
    assert re.search(rf"{onset:%d/%m/%Y} 15:00 CES?T", french), french
    assert onset.isoformat() not in french
    year = onset.year
    summary = _pdf_text(qa.client.get(f"/biovigilance/summary?protocol=MAESTRO-4MS&year={year}&format=pdf"))
    assert f"{onset:%d/%m/%Y} 15:00" in summary and onset.isoformat() not in summary
