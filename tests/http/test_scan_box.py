"""The scan box (issue 18): every identifier the system prints finds its record — a DIN with or without
flags and check character, the label's Data Matrix, a DIN with its product code, a donor code, a subject
id; a scan that finds nothing keeps the user on their page with a message next to the box; flags are
verified by type (ST-001 §2.4.1, DOMAIN.md §5); a blinded user never lands on a masked record."""

from __future__ import annotations

import pytest

from bank import isbt128
from bank.refusals import MASKED_RECORD_MESSAGE
from donors.models import Donor
from tests.factories import doses as fd
from tests.support import WebClient


@pytest.fixture
def staff(make_user):
    return fd.Staff(make_user)


def client_for(app, user) -> WebClient:
    c = WebClient(app.test_client())
    c.login(user.username)
    return c


def scan(web, code, back="/doses/patients"):
    return web.client.get("/scan", query_string={"code": code, "back": back})


def landed(resp) -> str:
    assert resp.status_code == 302, resp.status_code
    return resp.headers["Location"]


@pytest.fixture
def lot_of_two(session, staff):
    lot = fd.cell_lot(session, staff, n=2)
    return lot, fd.containers(session, lot)


def test_every_printed_form_of_a_container_din_opens_that_container(app, staff, lot_of_two):
    lot, (first, second) = lot_of_two
    web = client_for(app, staff.tech)
    din, check = lot.din, lot.check_char
    spaced = f"{din[:5]} {din[5:7]} {din[7:]}"
    matrix = isbt128.encode_compound(
        [isbt128.encode_din(din, isbt128.type3_flags(din)), isbt128.encode_product(second.product_code)]
    )
    for code in (
        matrix,  # the label's Data Matrix, type 3 flags
        f"{din} {second.product_code}",  # the identifier as the container page prints it
        f"{spaced} {check} {second.product_code}",  # typed from the eye-readable label
        f"={din}00=<{second.product_code}",  # DIN and product code bar codes read in one go
    ):
        assert landed(scan(web, code)).endswith(f"/lots/containers/{second.id}"), code


@pytest.mark.parametrize("form", ["bare", "check", "spaced", "flags", "barcode"])
def test_a_lot_din_opens_the_lot(app, staff, lot_of_two, form):
    lot, _ = lot_of_two
    din = lot.din
    code = {
        "bare": din,
        "check": din + lot.check_char,
        "spaced": f"{din[:5]} {din[5:7]} {din[7:]} 00 {lot.check_char}",
        "flags": din + isbt128.type3_flags(din),
        "barcode": f"={din}00",
    }[form]
    assert landed(scan(client_for(app, staff.tech), code)).endswith(f"/lots/{lot.id}")


def test_donor_code_and_subject_id_open_their_records(app, session, staff, lot_of_two):
    lot, _ = lot_of_two
    patient = fd.registered_patient(session, staff.clinician, "MAESTRO-4MS")
    tech, clinician = client_for(app, staff.tech), client_for(app, staff.clinician)
    donor = session.get(Donor, lot.donor_id)
    assert landed(scan(tech, donor.code.lower())).endswith(f"/donors/{donor.id}")
    assert landed(scan(clinician, patient.subject_id)).endswith(f"/doses/patients/{patient.id}")


@pytest.mark.parametrize(
    "code,says",
    [
        ("NO-SUCH-THING", "No record carries NO-SUCH-THING"),
        ("G123417654321B", "check character"),
        ("=G12341765432171", "type 3"),  # a wrong type-3 flag pair (the DIN's is 70)
        ("", "Scan or type a code first"),
    ],
)
def test_a_scan_that_finds_nothing_stays_on_the_page_with_a_message_by_the_box(app, staff, code, says):
    web = client_for(app, staff.tech)
    resp = scan(web, code, back="/lots/?q=abc")
    assert landed(resp).endswith("/lots/?q=abc")
    page = web.client.get("/lots/?q=abc").get_data(as_text=True)
    box = page.split('data-testid="scan-box"')[1].split("</form>")[0]
    assert 'data-testid="scan-message"' in box and says in box
    assert "<main" in page and 'data-testid="scan-message"' not in page.split("<main")[1]


def test_the_way_back_is_a_path_of_this_site_only(app, staff):
    web = client_for(app, staff.tech)
    assert landed(scan(web, "NOTHING", back="//evil.example/")).endswith("/")
    assert "evil" not in landed(scan(web, "NOTHING", back="https://evil.example/"))


def test_a_blinded_user_scanning_a_free_container_gets_the_neutral_masked_answer(app, session, staff):
    lot = fd.placebo_lot(session, staff, n=2)
    free = fd.containers(session, lot)[0]
    web = client_for(app, staff.clinician)  # blinded: lot and container pages are masked for them
    resp = scan(web, f"{lot.din} {free.product_code}", back="/doses/patients")
    assert landed(resp).endswith("/doses/patients")
    page = web.client.get("/doses/patients").get_data(as_text=True)
    assert MASKED_RECORD_MESSAGE in page
    assert "Placebo" not in page and "suspension media" not in page
    direct = web.client.get(f"/lots/containers/{free.id}")
    assert direct.status_code == 403 and MASKED_RECORD_MESSAGE in direct.get_data(as_text=True)
