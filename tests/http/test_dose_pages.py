"""Doses pages through the forms, as trial staff use them: protocols, registration and the signed
checklist, randomisation upload, weights, allocation dose by dose for the three trials, impossible
input refused next to its field, and blinding on every page and export."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bank.models import AuditEntry
from bank.refusals import MASKED_RULE
from doses import services
from doses.models import Allocation, Patient
from tests.factories import doses as fd
from tests.support import PASSWORD, client_for

TODAY = fd.TODAY


def text(resp) -> str:
    return resp.get_data(as_text=True)


def register(
    web, session, code, *, donor=None, dob="1980-05-01", first=TODAY, weight="70", weighed=TODAY, subject=None
):
    row = fd.protocol_row(session, code)
    subject = subject or fd.subject_id(code)
    resp = web.post(
        "/doses/patients/new",
        {
            "protocol_version_id": row.id,
            "subject_id": subject,
            "site": row.protocol().sites[0],
            "sex": "F",
            "date_of_birth": dob,
            "first_dose_on": first.isoformat(),
            "donor_code": donor.code if donor else "",
            "weight_kg": weight,
            "weight_measured_on": weighed.isoformat(),
        },
    )
    return resp, subject


def fresh(session) -> None:
    """End the test session's read transaction (SQLite snapshot) so it sees what the app committed."""
    session.commit()
    session.expire_all()


def patient_by_subject(session, subject) -> Patient:
    fresh(session)
    return session.scalar(select(Patient).where(Patient.subject_id == subject))


def sign_checklist(web, patient, code, edss="4.0"):
    web.get(f"/doses/patients/{patient.id}/checklist")
    data = {
        "evaluation_date": TODAY.isoformat(),
        "edss": edss,
        "diagnosis_date": (TODAY - timedelta(days=5 * 365)).isoformat(),
        "signature_password": PASSWORD,
    }
    from doses.services import field_name

    data.update({field_name(k): v for k, v in fd.yes_answers(code).items()})
    return web.post(f"/doses/patients/{patient.id}/checklist", data)


def enrol_by_forms(web, session, code, **kw) -> Patient:
    resp, subject = register(web, session, code, **kw)
    assert resp.status_code == 302, text(resp)[:3000]
    patient = patient_by_subject(session, subject)
    assert sign_checklist(web, patient, code).status_code == 302
    fresh(session)
    assert patient.status == "enrolled"
    return patient


def upload_list(web, protocol_id, rows) -> object:
    body = "subject_id,sequence\n" + "".join(f"{s},{q}\n" for s, q in rows)
    web.get(f"/doses/protocols/{protocol_id}/randomisation")
    return web.post(
        f"/doses/protocols/{protocol_id}/randomisation",
        {"file": (io.BytesIO(body.encode()), "list.csv")},
        content_type="multipart/form-data",
    )


def allocate_by_forms(web, patient, dose, day, expect_ok=True):
    url = f"/doses/patients/{patient.id}/allocate"
    web.get(url)
    form = {
        "dose_number": str(dose),
        "planned_date": day.isoformat(),
        "planned_time": "10:00",
        "action": "propose",
    }
    resp = web.post(url, form)
    page = text(resp)
    m = re.search(r'name="container_ids" type="hidden" value="([0-9,]*)"', page) or re.search(
        r'id="container_ids" name="container_ids" type="hidden" value="([0-9,]*)"', page
    )
    ids = m.group(1) if m else ""
    if not expect_ok:
        return resp
    assert resp.status_code == 200 and ids, page[page.find("<main") :][:3000]
    resp = web.post(url, dict(form, action="allocate", container_ids=ids))
    assert resp.status_code == 302, text(resp)[:3000]
    web.get(resp.headers["Location"])  # like a browser: the flash message is shown there
    return int(resp.headers["Location"].rsplit("/", 1)[1])


def administer_by_forms(web, allocation_id, day, receiver):
    """Administration is the last custody event: issue from storage, thaw, administer — each scanned
    (the label's Data Matrix: DIN and product code) and countersigned by the receiving person."""
    from bank.isbt128 import encode_din, encode_product
    from doses.models import Allocation as A

    session = web.client.application.extensions["bank.sessions"]()
    allocation = session.get(A, allocation_id)
    container = allocation.containers[0]
    scan = encode_din(container.lot.din) + encode_product(container.product_code)
    subject = allocation.patient.subject_id
    session.close()
    for hour, event in ((8, "issued_from_storage"), (9, "thawed"), (10, "administered")):
        web.get(f"/custody/doses/{allocation_id}")
        resp = web.post(
            f"/custody/doses/{allocation_id}/events",
            {
                "scanned_code": scan,
                "event": event,
                "occurred_at": f"{day.isoformat()}T{hour:02d}:30",
                "place": "Day unit",
                "signature_password": PASSWORD,
                "receiver_username": receiver.username,
                "receiver_password": PASSWORD,
                "subject_id_checked": subject,
            },
        )
        assert resp.status_code == 302, text(resp)[:2000]


# --- protocols, permissions -----------------------------------------------------------------------


def test_protocol_pages_show_route_dose_schedule_blinding_sites_and_checklist(app, staff, session):
    web = client_for(app, staff.clinician)
    page = text(web.get("/doses/protocols?q=MAESTRO"))
    assert "MAESTRO-4MS" in page and "MESEMS" not in page.split('data-testid="protocols"')[1]
    row = fd.protocol_row(session, "MAESTRO-4MS")
    page = text(web.get(f"/doses/protocols/{row.id}"))
    for expected in (
        "IT",
        "45–55 × 10⁶ viable cells per dose",
        "K = 0.2",
        "Rennes University Hospital",
        "± 7 days",
        "MAESTRO-I02",
        "computed: age (years) 18–55",
        "open-label",
    ):
        assert expected in page, expected
    assert web.get(f"/doses/protocols/{row.id}/randomisation").status_code == 403  # blinded user


def test_technician_sees_doses_but_not_patients(app, staff):
    web = client_for(app, staff.tech)
    assert web.get("/doses/doses").status_code == 200
    assert web.get("/doses/patients").status_code == 403
    assert web.get("/doses/patients/new").status_code == 403


# --- impossible input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"weight": "0"}, "Weight must be greater than 0 kg."),
        ({"dob": (TODAY + timedelta(days=2)).isoformat()}, "Date of birth is in the future."),
        ({"dob": "31/02/1980"}, "Not a valid date value"),
        ({"subject": "Marie Curie"}, "no names"),
        ({"weight": "1e999"}, "Weight"),
    ],
)
def test_impossible_registration_is_refused_next_to_the_field_and_changes_nothing(
    app, staff, session, changes, message
):
    web = client_for(app, staff.clinician)
    fd.protocol_row(session, "MAESTRO-4MS")
    before = session.scalar(select(func.count()).select_from(Patient))
    resp, _ = register(web, session, "MAESTRO-4MS", **changes)
    fresh(session)
    assert resp.status_code == 422 and message in text(resp)
    assert 'class="invalid-feedback d-block"' in text(resp)
    assert session.scalar(select(func.count()).select_from(Patient)) == before


def test_weight_zero_and_dose_beyond_protocol_are_refused_on_their_fields(app, staff, session):
    web = client_for(app, staff.clinician)
    patient = enrol_by_forms(web, session, "MAESTRO-4MS")
    web.get(f"/doses/patients/{patient.id}")
    resp = web.post(
        f"/doses/patients/{patient.id}/weights", {"weight_kg": "0", "measured_on": TODAY.isoformat()}
    )
    assert resp.status_code == 422 and "Weight must be greater than 0 kg." in text(resp)
    resp = allocate_by_forms(web, patient, 4, TODAY, expect_ok=False)
    assert resp.status_code == 422 and "Dose number must be 1 to 3 for MAESTRO-4MS." in text(resp)
    resp = web.post(
        f"/doses/patients/{patient.id}/allocate",
        {"dose_number": "abc", "planned_date": "x", "action": "allocate", "container_ids": "1"},
    )
    assert resp.status_code == 422
    fresh(session)
    assert (
        session.scalar(
            select(func.count()).select_from(Allocation).where(Allocation.patient_id == patient.id)
        )
        == 0
    )


# --- the three trials through the forms -----------------------------------------------------------


def test_maestro_three_injections_allocated_dose_by_dose(app, staff, session):
    fd.cell_lot(session, staff, n=3)
    web = client_for(app, staff.clinician)
    start = TODAY - timedelta(days=182)
    patient = enrol_by_forms(web, session, "MAESTRO-4MS", first=start, weighed=start - timedelta(days=1))
    for dose, day in ((1, start), (2, start + timedelta(days=91)), (3, TODAY)):
        if dose > 1:
            web.post(
                f"/doses/patients/{patient.id}/weights", {"weight_kg": "69.5", "measured_on": day.isoformat()}
            )
        if dose == 3:  # too early: 30 days before its window
            early = allocate_by_forms(web, patient, 3, TODAY - timedelta(days=30), expect_ok=False)
            assert "outside its window" in text(early)
        allocation_id = allocate_by_forms(web, patient, dose, day)
        if dose < 3:
            administer_by_forms(web, allocation_id, day, staff.pharmacist)
    page = text(web.get(f"/doses/patients/{patient.id}"))
    assert page.count('data-status="administered"') == 2 and page.count('data-status="allocated"') == 1


def test_mesems_and_ssc_blinded_schedules_allocated_dose_by_dose(app, staff, session):
    own = fd.lf.screened_donor(session, staff.tech, autologous=True)
    fd.cell_lot(session, staff, key="BM-MSC-AUTO", donor=own, n=1, cells=1.0e8)
    fd.cell_lot(session, staff, n=1, cells=7.0e7)
    fd.placebo_lot(session, staff, n=2)
    web = client_for(app, staff.clinician)
    unblinded = client_for(app, staff.pharmacist)
    start = TODAY - timedelta(days=168)
    mesems = enrol_by_forms(web, session, "MESEMS", donor=own, first=start, weighed=start)
    ssc = enrol_by_forms(
        web, session, "MSC-AT-SSc", first=TODAY - timedelta(days=91), weighed=TODAY - timedelta(days=91)
    )
    for patient, sequence in ((mesems, "MSC-PLACEBO"), (ssc, "MSC-PLACEBO")):
        resp = upload_list(unblinded, patient.protocol_version_id, [(patient.subject_id, sequence)])
        assert resp.status_code == 302, text(resp)[:2000]
    for patient, first in ((mesems, start), (ssc, TODAY - timedelta(days=91))):
        administer_by_forms(web, allocate_by_forms(web, patient, 1, first), first, staff.pharmacist)
        web.post(
            f"/doses/patients/{patient.id}/weights", {"weight_kg": "70", "measured_on": TODAY.isoformat()}
        )
        allocate_by_forms(web, patient, 2, TODAY)
    page = text(unblinded.get(f"/doses/patients/{mesems.id}"))
    assert "MSC-PLACEBO" in page and page.count(">Placebo<") + page.count("Placebo</td>") >= 1


def test_randomisation_upload_is_all_or_nothing_and_for_unblinded_users_only(app, staff, session):
    row = fd.protocol_row(session, "MESEMS")
    assert (
        upload_list(client_for(app, staff.clinician), row.id, [("MESEMS-A-1", "MSC-PLACEBO")]).status_code
        == 403
    )
    web = client_for(app, staff.pharmacist)
    good = fd.subject_id("MESEMS")
    resp = upload_list(web, row.id, [(good, "MSC-PLACEBO"), ("Jane Doe", "MSC-PLACEBO")])
    assert resp.status_code == 422 and "Nothing imported" in text(resp) and "line 3" in text(resp)
    assert upload_list(web, row.id, [(good, "MSC-PLACEBO")]).status_code == 302


# --- blinding -------------------------------------------------------------------------------------


def _normalise(page: str, subjects, containers) -> str:
    """Remove what legitimately differs between two subjects' pages: their ids, container identifiers
    (accepted to differ), CSRF tokens, digests, storage names, every number (dates, ids)."""
    page = page[page.find("<main") :] if "<main" in page else page
    for s in subjects:
        page = page.replace(s, "SUBJECT")
    for c in containers:
        page = page.replace(c, "CONTAINER")
    page = re.sub(r'name="csrf_token"[^>]*>', "", page)
    # The DIN macro boxes each container's own check character (accepted to differ, like its DIN).
    page = re.sub(r'(title="check character">)[0-9A-Z*]<', r"\1C<", page)
    page = re.sub(r"digest [0-9a-f]+", "digest", page)
    page = re.sub(r"tank \S+", "tank", page)
    return re.sub(r"\d+", "#", page)


def test_blinded_user_cannot_tell_active_from_placebo_unblinded_user_can(app, staff, session):
    donors = [fd.lf.screened_donor(session, staff.tech, autologous=True) for _ in range(2)]
    for d in donors:
        fd.cell_lot(session, staff, key="BM-MSC-AUTO", donor=d, n=1, cells=1.0e8)
    fd.placebo_lot(session, staff, n=2)
    web = client_for(app, staff.clinician)
    pharmacist = client_for(app, staff.pharmacist)
    active = enrol_by_forms(web, session, "MESEMS", donor=donors[0])
    placebo = enrol_by_forms(web, session, "MESEMS", donor=donors[1])
    upload_list(
        pharmacist,
        active.protocol_version_id,
        [(active.subject_id, "MSC-PLACEBO"), (placebo.subject_id, "PLACEBO-MSC")],
    )
    ids = {p.id: allocate_by_forms(web, p, 1, TODAY) for p in (active, placebo)}
    fresh(session)
    allocations = {pid: session.get(Allocation, aid) for pid, aid in ids.items()}
    containers = [c.identifier for a in allocations.values() for c in a.containers]
    # What a blinded user reads: the protocol's product code with each container's own division (issue 16).
    containers += [
        services.container_text(a.patient.protocol_version.protocol(), c, frozenset())
        for a in allocations.values()
        for c in a.containers
    ]
    # The DIN macro shows the code apart from the DIN: the masked code, with the container's own division.
    containers += [
        services.visible_code(a.patient.protocol_version.protocol(), c)
        for a in allocations.values()
        for c in a.containers
    ]
    assert {a.containers[0].lot.product_type.key for a in allocations.values()} == {
        "BM-MSC-AUTO",
        "PLACEBO-MEDIA",
    }
    subjects = [active.subject_id, placebo.subject_id]

    def pages(client, p):
        a = ids[p.id]
        return {
            "patient": text(client.get(f"/doses/patients/{p.id}")),
            "allocation": text(client.get(f"/doses/allocations/{a}")),
            "list": text(client.get(f"/doses/doses?q={p.subject_id}")),
            "csv": text(client.get(f"/doses/doses.csv?q={p.subject_id}")),
        }

    blinded = {p.id: pages(web, p) for p in (active, placebo)}
    for name in ("patient", "allocation", "list", "csv"):
        a, b = (_normalise(blinded[p.id][name], subjects, containers) for p in (active, placebo))
        assert a == b, name
        for p in (active, placebo):
            low = (
                blinded[p.id][name].replace("(MSC or placebo)", "").lower()
            )  # the protocol's one product name names both arms
            assert "placebo" not in low and "bone-marrow" not in low and "bm-msc" not in low, (
                name,
                p.subject_id,
            )
    row = next(csv.DictReader(io.StringIO(blinded[placebo.id]["csv"])))
    assert (
        row["treatment"] == row["product"] == "MESEMS investigational product (MSC or placebo)"
        and row["cells"] == "masked"
    )
    # The unblinded pharmacist sees the treatment, and each view is an audit event.
    views_before = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "view")
    )
    seen = {p.id: pages(pharmacist, p) for p in (active, placebo)}
    assert "Placebo" in seen[placebo.id]["allocation"] and "MSC" in seen[active.id]["allocation"]
    assert "PLACEBO-MSC" in seen[placebo.id]["patient"]
    assert next(csv.DictReader(io.StringIO(seen[placebo.id]["csv"])))["treatment"] == "Placebo"
    fresh(session)
    assert (
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "view"))
        >= views_before + 8
    )


def test_masked_refusal_is_neutral_and_emergency_unblinding_is_signed(app, staff, session):
    donor = fd.lf.screened_donor(session, staff.tech, autologous=True)
    lot = fd.cell_lot(session, staff, key="BM-MSC-AUTO", donor=donor, n=1, cells=1.0e8)
    web = client_for(app, staff.clinician)
    patient = enrol_by_forms(web, session, "MESEMS", donor=donor)
    upload_list(
        client_for(app, staff.pharmacist), patient.protocol_version_id, [(patient.subject_id, "PLACEBO-MSC")]
    )
    url = f"/doses/patients/{patient.id}/allocate"
    web.get(url)
    container_id = fd.containers(session, lot)[0].id
    resp = web.post(
        url,
        {
            "dose_number": "1",
            "planned_date": TODAY.isoformat(),
            "planned_time": "10:00",
            "action": "allocate",
            "container_ids": str(container_id),
        },
    )
    page = text(resp)
    assert resp.status_code == 409 and f'data-rule="{MASKED_RULE}"' in page and "placebo" not in page.lower()
    web.get(f"/doses/patients/{patient.id}/unblind")
    resp = web.post(f"/doses/patients/{patient.id}/unblind", {"reason": "", "signature_password": PASSWORD})
    assert resp.status_code == 422 and "Say why" in text(resp)
    resp = web.post(
        f"/doses/patients/{patient.id}/unblind", {"reason": "anaphylaxis", "signature_password": "x"}
    )
    assert resp.status_code == 422 and "password incorrect" in text(resp)
    resp = web.post(
        f"/doses/patients/{patient.id}/unblind", {"reason": "anaphylaxis", "signature_password": PASSWORD}
    )
    assert resp.status_code == 200 and "dose 1: <strong>Placebo</strong>" in text(resp)
    assert "anaphylaxis" in text(web.get(f"/doses/patients/{patient.id}"))
