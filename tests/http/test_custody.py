"""Chain of custody through the forms, as staff record it: every hand-off scanned and signed by two
people; a wrong dose, a wrong check character and a string that is not ISBT 128 refused with a message
saying what is wrong and nothing recorded; only the next permitted event; an excursion puts the dose
on hold; the custody report read back with pypdf matches the database and its digest checks."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from bank import isbt128
from bank.models import AuditEntry, Signature
from doses.custody import reports
from doses.custody.models import CustodyEvent
from doses.models import Allocation
from lots.services.genealogy import trace_container
from tests.factories import custody as fc
from tests.factories import doses as fd
from tests.support import CUSTODY_CHAIN, PASSWORD, client_for, token_for

pytestmark = pytest.mark.requirement("DOS-CUSTODY")


def fresh(session) -> None:
    session.commit()
    session.expire_all()


def page(resp) -> str:
    return resp.get_data(as_text=True)


def counts(session):
    fresh(session)
    return (
        session.scalar(select(func.count()).select_from(CustodyEvent)),
        session.scalar(select(func.count()).select_from(Signature)),
    )


def post_event(web, allocation, event, scan, receiver, **extra):
    web.get(f"/custody/doses/{allocation.id}")
    data = {
        "scanned_code": scan,
        "event": event,
        "place": "Cell therapy unit, issue room",
        "signature_password": PASSWORD,
        "receiver_username": receiver.username,
        "receiver_password": PASSWORD,
    }
    data.update(extra)
    return web.post(f"/custody/doses/{allocation.id}/events", data)


def mod37_2(din: str) -> str:
    """ISO/IEC 7064 MOD 37-2 exactly as DOMAIN.md §5 writes it, independently of bank.isbt128."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
    s = 0
    for ch in din:
        s = ((s + alphabet.index(ch)) * 2) % 37
    return alphabet[(38 - s) % 37]


def test_check_characters_follow_mod_37_2_as_written_in_the_domain_reference(staff, session):
    # The worked examples of DOMAIN.md §7 first, then DINs that are not in it.
    assert [mod37_2(d) for d in ("G123417654321", "A999818123456", "W000009123456")] == ["A", "N", "G"]
    others = ["G123426000001", "W123425999999", "B0A0124000042", "Z9Z9999000001", "J1C2726123456"]
    lot = fd.cell_lot(session, staff, n=1)  # a DIN issued by the system today
    others.append(lot.din)
    for din in others:
        assert isbt128.check_character(din) == mod37_2(din), din
    assert lot.check_char == mod37_2(lot.din)


def test_full_custody_chain_recorded_by_two_people_with_refusals_on_the_way(app, staff, session):
    allocation = fc.open_dose(session, staff)
    other = fc.open_dose(session, staff)  # another patient's dose, on the same shelf
    container, stranger = allocation.containers[0], other.containers[0]
    din_scan, matrix_scan = container_scans(container)
    web = client_for(app, staff.tech)
    resp = web.get(f"/custody/doses/{allocation.id}")
    assert resp.status_code == 200
    assert re.search(
        r'<input[^>]*autofocus[^>]*name="scanned_code"|<input[^>]*name="scanned_code"[^>]*autofocus',
        page(resp),
    )

    assert post_event(web, allocation, "issued_from_storage", din_scan, staff.clinician).status_code == 302
    fresh(session)
    assert allocation.status == "issued" and container.box_id is None

    refusals = [
        (stranger_scan := container_scans(stranger)[1], "Patient mismatch"),
        (
            f"{container.lot.din[:5]} {container.lot.din[5:7]} {container.lot.din[7:]} "
            f"{wrong_check(container.lot.din)}",
            f"check character {wrong_check(container.lot.din)} does not match this DIN",
        ),
        ("HELLO-123", "Not a valid ISBT 128 code"),
        ("=G1234", "Not a valid ISBT 128 code"),  # a DIN bar code cut short
        ("=<S0002VA0", "This is the product code bar code"),
    ]
    for scan, message in refusals:
        before = counts(session)
        resp = post_event(web, allocation, "packed", scan, staff.clinician)
        assert resp.status_code == 422 and message in page(resp), (scan, page(resp)[:200])
        assert 'data-field="scanned_code"' in page(resp)
        assert counts(session) == before, scan
    assert stranger_scan != matrix_scan

    before = counts(session)
    resp = post_event(web, allocation, "received_at_site", matrix_scan, staff.clinician)  # skips packing
    assert (
        resp.status_code == 422
        and "cannot follow" in page(resp)
        and "next permitted: Packed" in page(resp)  # the events as the Event list names them
    )
    resp = post_event(web, allocation, "packed", matrix_scan, staff.clinician, receiver_password="wrong")
    assert resp.status_code == 422 and "password incorrect" in page(resp)
    resp = post_event(web, allocation, "packed", matrix_scan, staff.tech)  # one person cannot be both
    assert resp.status_code == 422 and "someone else" in page(resp)
    assert counts(session) == before

    steps = [
        ("packed", matrix_scan, {}),
        (
            "shipped",
            din_scan,
            {
                "shipper": "World Courier",
                "logger_id": "LOG-7781",
                "temperature_min_c": "-190",
                "temperature_max_c": "-176",
            },
        ),
        (
            "received_at_site",
            f"{container.lot.din_display} {container.lot.check_char}",  # typed from the label
            {
                "logger_id": "LOG-7781",
                "temperature_min_c": "-188",
                "temperature_max_c": "-170",
                "condition_on_receipt": "Dry shipper intact, seal 0042 unbroken",
            },
        ),
        ("stored_at_site", matrix_scan, {}),
        ("thawed", matrix_scan, {}),
    ]
    for event, scan, extra in steps:
        resp = post_event(web, allocation, event, scan, staff.clinician, **extra)
        assert resp.status_code == 302, (event, page(resp)[:3000])

    def administer(wristband: str):
        """The bedside hand-off with the patient's wristband read as `wristband`."""
        return post_event(
            web, allocation, "administered", matrix_scan, staff.clinician, subject_id_checked=wristband
        )

    resp = administer(other.patient.subject_id)
    assert resp.status_code == 422 and "Patient mismatch: the wristband reads" in page(resp)
    assert administer(allocation.patient.subject_id).status_code == 302
    fresh(session)
    assert allocation.status == "administered" and container.status == "administered"
    events = list(
        session.scalars(
            select(CustodyEvent)
            .where(CustodyEvent.allocation_id == allocation.id)
            .order_by(CustodyEvent.sequence)
        )
    )
    assert [e.event for e in events] == list(CUSTODY_CHAIN)
    assert all(
        e.handed_over_by_id == staff.tech.id and e.received_by_id == staff.clinician.id for e in events
    )
    assert events[2].shipper == "World Courier" and events[3].condition_on_receipt.startswith("Dry shipper")
    resp = web.get(f"/custody/doses/{allocation.id}")
    assert 'data-testid="chain-closed"' in page(resp) and page(resp).count('data-testid="signature"') == 14
    assert post_event(web, allocation, "destroyed", matrix_scan, staff.clinician).status_code == 422

    # The report, read back, says what the database says.
    resp = web.client.get(f"/custody/doses/{allocation.id}/report.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    text = "\n".join(p.extract_text() for p in reader.pages)
    flat = " ".join(text.split())
    trace = trace_container(session, container)
    assert trace.donor.code in flat and allocation.patient.subject_id in flat
    assert "lipoaspirate" in flat and container.lot.din_display in flat and container.product_code in flat
    for e in events:
        assert e.handover_signature.meaning in flat and e.receipt_signature.meaning in flat
    assert staff.tech.full_name in flat and staff.clinician.full_name in flat
    assert "World Courier" in flat and "LOG-7781" in flat and "seal 0042 unbroken" in flat
    digest = re.search(r"Content SHA-256: ([0-9a-f]{64})", text).group(1)
    assert digest == reports.report_digest(session, allocation, masked=False)
    assert f"Page 1 of {len(reader.pages)}" in text
    web.get(f"/custody/doses/{allocation.id}")
    resp = web.post(f"/custody/doses/{allocation.id}/report/check", {"digest": digest})
    assert "<strong>matches</strong>" in page(resp)
    resp = web.post(f"/custody/doses/{allocation.id}/report/check", {"digest": "0" * 64})
    assert "<strong>does not match</strong>" in page(resp)


def container_scans(container) -> tuple[str, str]:
    """What a scanner types from the DIN bar code and from the Data Matrix of the container's label."""
    din = isbt128.encode_din(container.lot.din)
    matrix = isbt128.encode_compound(
        [din, isbt128.encode_product(container.product_code), isbt128.encode_expiry(container.expires_at)]
    )
    return din, matrix


def wrong_check(din: str) -> str:
    right = isbt128.check_character(din)
    return "A" if right != "A" else "B"


def test_a_temperature_excursion_puts_the_dose_on_hold(app, staff, session):
    allocation = fc.open_dose(session, staff)
    scan = container_scans(allocation.containers[0])[1]
    web = client_for(app, staff.tech)
    for event in ("issued_from_storage", "packed"):
        assert post_event(web, allocation, event, scan, staff.clinician).status_code == 302
    before = counts(session)
    shipment = dict(shipper="World Courier", logger_id="LOG-1")
    resp = post_event(web, allocation, "shipped", scan, staff.clinician, **shipment, excursion="y")
    # ticked without saying what happened
    assert resp.status_code == 422 and "Describe the excursion" in page(resp) and counts(session) == before
    resp = post_event(
        web,
        allocation,
        "shipped",
        scan,
        staff.clinician,
        **shipment,
        temperature_min_c="-185",
        temperature_max_c="-121",
    )  # above the ≤ −150 °C storage limit
    assert resp.status_code == 302
    fresh(session)
    shipped = session.scalar(
        select(CustodyEvent).where(
            CustodyEvent.allocation_id == allocation.id, CustodyEvent.event == "shipped"
        )
    )
    assert shipped.excursion and "-121 °C is above the storage limit -150 °C" in shipped.excursion_description
    assert allocation.status == "on_hold" and "Temperature excursion" in allocation.hold_reason
    resp = post_event(
        web,
        allocation,
        "received_at_site",
        scan,
        staff.clinician,
        logger_id="LOG-1",
        condition_on_receipt="intact",
    )
    assert resp.status_code == 422 and "on hold" in page(resp)
    resp = web.get(f"/custody/doses/{allocation.id}")
    assert 'data-testid="on-hold"' in page(resp)
    # A held dose may still be destroyed (two signatures), never moved towards the patient.
    assert post_event(web, allocation, "destroyed", scan, staff.clinician).status_code == 302
    fresh(session)
    assert allocation.containers[0].status == "destroyed"


def test_a_dins_shared_by_two_doses_needs_the_data_matrix(app, staff, session):
    lot = fd.cell_lot(session, staff, n=2, cells=5.0e7)
    first, second = fd.containers(session, lot)
    doses = []
    for c in (first, second):
        patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
        doses.append(fd.allocate(session, staff.clinician, patient, 1, fc.NOW, [c.id]))
    web = client_for(app, staff.tech)
    resp = post_event(web, doses[0], "issued_from_storage", isbt128.encode_din(lot.din), staff.clinician)
    assert resp.status_code == 422 and "scan the Data Matrix" in page(resp)
    resp = post_event(web, doses[0], "issued_from_storage", container_scans(second)[1], staff.clinician)
    assert resp.status_code == 422 and "Patient mismatch" in page(resp)
    assert (
        post_event(
            web, doses[0], "issued_from_storage", container_scans(first)[1], staff.clinician
        ).status_code
        == 302
    )


def test_custody_needs_the_permission_and_events_are_append_only(app, staff, session, make_user):
    allocation = fc.open_dose(session, staff)
    qa = make_user("qa")
    web = client_for(app, qa)  # QA may read doses but not take custody
    assert web.get(f"/custody/doses/{allocation.id}").status_code == 200
    assert (
        post_event(
            web,
            allocation,
            "issued_from_storage",
            container_scans(allocation.containers[0])[0],
            staff.clinician,
        ).status_code
        == 403
    )
    event = fc.record(session, staff.tech, staff.clinician, allocation, "issued_from_storage")
    from sqlalchemy import text as sql

    for statement in (
        "UPDATE custody_events SET place = 'elsewhere' WHERE id = :id",
        "DELETE FROM custody_events WHERE id = :id",
    ):
        with pytest.raises(Exception, match="append-only"):
            session.execute(sql(statement), {"id": event.id})
        session.rollback()
    fresh(session)
    audit = session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "allocations",
            AuditEntry.entity_id == str(allocation.id),
            AuditEntry.action == "sign",
        )
    ).all()
    assert any("countersigned_at_session_of" in (a.changes or "") for a in audit)


def test_api_records_and_lists_custody_events(app, staff, session):
    allocation = fc.open_dose(session, staff)
    web = client_for(app, staff.tech)
    token = token_for(web, "custody scanner")
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "scanned_code": "=G1234",
        "event": "issued_from_storage",
        "place": "Issue room",
        "signature_password": PASSWORD,
        "receiver_username": staff.clinician.username,
        "receiver_password": PASSWORD,
    }
    resp = api.post(f"/api/v1/doses/{allocation.id}/custody-events", json=body, headers=headers)
    assert resp.status_code == 422 and "Not a valid ISBT 128 code" in resp.json["errors"]["scanned_code"]
    body["scanned_code"] = container_scans(allocation.containers[0])[1]
    resp = api.post(f"/api/v1/doses/{allocation.id}/custody-events", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    assert resp.json["received_by"]["meaning"] == "Received from storage" and resp.json["signatures_valid"]
    resp = api.get(f"/api/v1/doses/{allocation.id}/custody-events", headers=headers)
    assert [e["event"] for e in resp.json["events"]] == ["issued_from_storage"]
    assert resp.json["next_permitted"] == ["packed", "thawed", "returned", "destroyed"]
    resp = api.get(f"/api/v1/doses/{allocation.id}/custody-report.pdf", headers=headers)
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    fresh(session)
    assert session.get(Allocation, allocation.id).status == "issued"


def test_blinded_users_get_a_masked_report_that_never_says_placebo(app, staff, session):
    active, placebo = fc.blinded_pair(session, staff)
    web = client_for(app, staff.clinician)  # blinded
    texts = {}
    for allocation in (active, placebo):
        fc.record(session, staff.tech, staff.clinician, allocation, "issued_from_storage")
        resp = web.client.get(f"/custody/doses/{allocation.id}/report.pdf")
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
        assert (
            "placebo" not in " ".join(text.split()).replace("(MSC or placebo)", "").lower()
            and "masked (blinded trial)" in text
        )
        assert "MESEMS investigational product (MSC or placebo)" in text
        digest = re.search(r"Content SHA-256: ([0-9a-f]{64})", text).group(1)
        web.get(f"/custody/doses/{allocation.id}")
        resp = web.post(f"/custody/doses/{allocation.id}/report/check", {"digest": digest})
        assert "<strong>matches</strong>" in page(resp) and "(blinded print)" in page(resp)
        texts[allocation.id] = text
    pharmacist = client_for(app, staff.pharmacist)  # unblinded: the genealogy, and the view is logged
    text = PdfReader(io.BytesIO(pharmacist.client.get(f"/custody/doses/{placebo.id}/report.pdf").data)).pages[
        0
    ]
    assert "none (placebo: suspension media)" in " ".join(text.extract_text().split())
    fresh(session)
    assert session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "view",
            AuditEntry.entity == "patients",
            AuditEntry.entity_id == str(placebo.patient_id),
        )
    )


def test_control_characters_are_refused_on_their_field_without_a_database_error(app, staff, session):
    allocation = fc.open_dose(session, staff)
    web = client_for(app, staff.tech)
    scan = container_scans(allocation.containers[0])[1]
    before = counts(session)
    for field, value in (
        ("place", "Room\x002"),
        ("receiver_username", "nurse\x00"),
        ("scanned_code", "\x00"),
    ):
        extra = {field: value}
        resp = post_event(
            web, allocation, "issued_from_storage", extra.pop("scanned_code", scan), staff.clinician, **extra
        )
        assert resp.status_code == 422 and "control character" in page(resp), field
    assert counts(session) == before
    assert web.get("/custody/?q=%00x").status_code == 400  # refused plainly (bank.app), never a 500
