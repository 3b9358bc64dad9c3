"""The executed batch record as QA and inspectors read it: a released lot's PDF read back with every
step, result (superseded too, with the retest reason), deviation and signature; page N of M and the
content digest in every footer; the printed copy checked against the records, passing, then failing
once the records change."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from bank.uow import unit_of_work
from bank.users import actor_for
from lots import services as lot_services
from lots.models import Lot
from release import services
from tests.factories import lots as lf
from tests.factories import release as fr
from tests.support import PASSWORD

DIGEST = re.compile(r"SHA-256 ?: ([0-9a-f]{64})")  # the footer says it in the reader's language


def read_pdf(client, lot) -> tuple[list[str], str]:
    resp = client.client.get(f"/release/lots/{lot.id}/batch-record.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages]
    return pages, " ".join(" ".join(pages).split())


def released_with_history(session, tech, qa, qa2):
    """A lot released after a closed deviation, a stored container and a retested viability."""
    lot = fr.qc_lot(session, tech, qa, qa)
    box = lf.box(session, tech)
    with unit_of_work(session, actor_for(tech), "stored"):
        lot_services.store_lot_containers(session, lot, box, 1, 1)
    with unit_of_work(session, actor_for(tech), "deviation"):
        deviation = lot_services.record_deviation(
            session, lot, description="Incubator alarm 2 h", impact="Temperature stayed within 36-38 °C"
        )
    with unit_of_work(session, actor_for(qa), "deviation closed"):
        lot_services.close_deviation(session, deviation, qa, PASSWORD, "Alarm threshold corrected")
    made = fr.complete_results(session, tech, qa, lot, overrides={"VIABILITY": ("68", "%", None)})
    first = made["VIABILITY"]
    retest = fr.enter(
        session,
        tech,
        lot,
        "VIABILITY",
        "91",
        "%",
        retest_of_id=first.id,
        retest_reason="Counting chamber error",
    )
    fr.verify(session, qa, retest)
    fr.release(session, qa2, lot)
    return lot, deviation, first, retest


def test_released_lot_batch_record_shows_every_step_result_deviation_and_signature(session, tech, qa, qa2):
    lot, deviation, first, retest = released_with_history(session, tech.user, qa.user, qa2.user)
    pages, flat = read_pdf(qa, lot)
    session.rollback()
    session.expire_all()
    lot = session.get(Lot, lot.id)

    assert "Executed batch record" in flat and lot.din_display in flat and lot.check_char in flat
    assert "Donor and eligibility determination" in flat and "Eligibility determinations" in flat
    assert "Clinique Pasteur, Toulouse" in flat  # the harvest
    assert "Isolation" in flat and "P0" in flat and "P1" in flat
    for c in lot_services.containers_of(session, lot):
        assert (
            c.identifier in flat
            and f"{c.box.location}, row {c.position_row}, column {c.position_col}" in flat
        )
    assert deviation.number in flat and "Incubator alarm 2 h" in flat and "Alarm threshold corrected" in flat
    assert "Deviation closed" in flat
    for r in services.results_of(session, lot):
        assert f"#{r.id}" in flat, r.test_code
    assert f"SUPERSEDED by result #{retest.id}" in flat
    assert f"Retest of result #{first.id}: Counting chamber error" in flat
    assert services.lot_specification(session, lot).label in flat
    assert "Released for clinical use" in flat
    assert "[check]" not in flat  # the reference data's internal marker is never printed
    assert tech.user.full_name in flat and qa.user.full_name in flat and qa2.user.full_name in flat
    assert "SIGNATURE NOT VALID" not in flat
    assert "Status history of lot" in flat and "awaiting QC" in flat  # the lot's path to release
    digests = {m for page in pages for m in DIGEST.findall(page)}
    assert len(digests) == 1
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page and DIGEST.search(page), number


def test_printed_copy_checks_and_fails_once_the_records_change(session, tech, qa, qa2):
    lot, *_ = released_with_history(session, tech.user, qa.user, qa2.user)
    pages, _flat = read_pdf(qa, lot)
    printed = DIGEST.search(pages[-1]).group(1)

    shown = f"{lot.din[:5]} {lot.din[5:7]} {lot.din[7:]} {lot.check_char}"  # typed as printed
    ok = qa.get("/release/batch-records/check", query_string={"din": shown, "digest": printed})
    assert 'data-testid="digest-match"' in ok.get_data(as_text=True)
    forged = printed[:-1] + ("0" if printed[-1] != "0" else "1")
    bad = qa.get("/release/batch-records/check", query_string={"din": lot.din, "digest": forged})
    assert 'data-testid="digest-mismatch"' in bad.get_data(as_text=True)

    with unit_of_work(session, actor_for(tech.user), "deviation after release"):
        lot_services.record_deviation(
            session, session.get(Lot, lot.id), description="Label smudged", impact="none"
        )
    stale = qa.get("/release/batch-records/check", query_string={"din": lot.din, "digest": printed})
    assert 'data-testid="digest-mismatch"' in stale.get_data(as_text=True)
    _pages, again = read_pdf(qa, lot)
    assert "Label smudged" in again and printed not in again


def test_derived_lot_record_carries_its_parent_lots(session, tech, qa):
    parent = lf.grown_lot(session, tech.user, qa.user)
    with unit_of_work(session, actor_for(tech.user), "derived"):
        child = lot_services.derive_lot(session, parent, fin=lf.FIN, tier="working")
    lf.passage(session, tech.user, qa.user, child, 2.0e6, 1.6e7)
    _pages, flat = read_pdf(qa, child)
    assert parent.din_display in flat and child.din_display in flat
    assert flat.index(parent.din_display) < flat.index(child.din_display)  # harvest lot first
    assert "P0" in flat and "P1" in flat and "P2" in flat


def test_unknown_din_is_refused_next_to_its_field(qa):
    page = qa.get("/release/batch-records/check", query_string={"din": "X9999 26 999999", "digest": "0" * 64})
    assert "No lot with DIN X999926999999." in page.get_data(as_text=True)


def test_blinded_clinical_staff_never_get_a_batch_record(session, tech, qa, login_as):
    lot = lf.grown_lot(session, tech.user, qa.user)
    clinical = login_as("clinical")
    resp = clinical.client.get(f"/release/lots/{lot.id}/batch-record.pdf")
    assert resp.mimetype != "application/pdf" and lot.din not in resp.get_data(as_text=True)


def test_the_digest_does_not_depend_on_the_language_it_is_printed_in(session, tech, qa, qa2):
    lot, *_ = released_with_history(session, tech.user, qa.user, qa2.user)
    english, _flat = read_pdf(qa, lot)
    qa.get("/")
    assert qa.post("/language", {"language": "fr", "back": "/"}).status_code == 302
    french, _flat = read_pdf(qa, lot)
    assert "Page 1" in english[0]
    assert DIGEST.search(english[0]).group(1) == DIGEST.search(french[0]).group(1)


def test_placebo_lot_record_says_it_has_no_donor_and_lists_its_release(session, staff, login_as):
    from tests.factories import doses as fd

    lot = fd.placebo_lot(session, staff)
    qa = login_as("qa")
    pages, flat = read_pdf(qa, lot)
    assert "No donor: placebo lot (suspension media)." in flat
    assert "Harvest" not in flat and "Growth curve" not in flat
    assert "Released for clinical use" in flat
    assert (
        "[check]" not in flat
    )  # the reference data's internal marker is never printed and f"Page {len(pages)} of {len(pages)}" in flat
