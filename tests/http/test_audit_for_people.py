"""The audit trail as QA reads it (issue 21): record types chosen in plain words, a record's trail with
its children's rows, referenced records by name instead of ids, local time to the second, a sign-in
worded as a sign-in, and CSV and PDF exports that say what the screen says."""

from __future__ import annotations

import csv
import io
import re

from pypdf import PdfReader

from bank.uow import unit_of_work
from bank.users import actor_for
from lots import services as lot_services
from tests.factories import lots as lf

ENTITIES = re.compile(r'data-entity="([a-z_]+)"')
LOCAL_SECOND = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (CET|CEST|UTC)")


def entities(page) -> set[str]:
    return set(ENTITIES.findall(page.get_data(as_text=True)))


def test_record_types_are_chosen_from_a_list_in_plain_words(login_as):
    page = login_as("qa").get("/audit/").get_data(as_text=True)
    assert '<select class="form-select' in page or "<select" in page
    for table, words in (
        ("lots", "Lot"),
        ("donor_serology", "Serology test"),
        ("storage_boxes", "Storage box"),
    ):
        assert f'<option value="{table}">{words}</option>' in page


def test_donor_trail_includes_its_serology_answers_and_determination(session, login_as, make_user):
    tech, qa_user = make_user("technician"), make_user("qa")
    donor = lf.signed_donor(session, tech, qa_user)
    qa = login_as("qa")
    whole = entities(qa.get(f"/audit/?entity=donors&entity_id={donor.id}"))
    assert {"donors", "donor_answers", "donor_serology", "donor_determinations"} <= whole
    own = entities(qa.get(f"/audit/?entity=donors&entity_id={donor.id}&own_only=y"))
    assert own == {"donors"}


def test_lot_trail_names_the_box_and_shows_local_time_to_the_second(session, login_as, make_user):
    tech, verifier = make_user("technician"), make_user("qa")
    lot = lf.grown_lot(session, tech, verifier)
    box = lf.box(session, tech)
    lf.formulate(session, tech, lot, 2, "bag", 1.0e6, 5.0)
    with unit_of_work(session, actor_for(tech), "stored"):
        lot_services.store_lot_containers(session, lot, box, 1, 1)
    qa = login_as("qa")
    resp = qa.get(f"/audit/?entity=lots&entity_id={lot.id}")
    page = resp.get_data(as_text=True)
    assert {"lots", "harvests", "isolations", "passages", "containers"} <= entities(resp)
    assert f"<strong>box</strong>: — → {box.name}" in page and "box_id" not in page
    assert f"Lot {lot.din}" in page and LOCAL_SECOND.search(page)
    assert re.search(r"<td>created</td>|audit-action\">created<", page)

    rows = list(
        csv.reader(
            io.StringIO(qa.get(f"/audit/export.csv?entity=lots&entity_id={lot.id}").get_data(as_text=True))
        )
    )
    assert rows[0] == ["#", "When", "Who", "Action", "Record", "Changes (field: old → new)", "Reason"]
    assert any(f"box: — → {box.name}" in r[5] for r in rows[1:])
    assert all(LOCAL_SECOND.fullmatch(r[1]) for r in rows[1:])
    shown_ids = [r[0] for r in rows[1:]]
    assert shown_ids[: len(re.findall(r"<tr><td>(\d+)</td>", page))] == re.findall(
        r"<tr><td>(\d+)</td>", page
    )

    pdf = qa.client.get(f"/audit/export.pdf?entity=lots&entity_id={lot.id}")
    assert pdf.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert "Audit trail" in text and f"box: — -> {box.name}" in text and "Content SHA-256:" in text
    for row in rows[1:4]:
        assert row[4] in text


def test_a_sign_in_is_worded_as_a_sign_in_by_the_person(login_as):
    signed = login_as("technician")
    qa = login_as("qa")
    page = qa.get(f"/audit/?entity=users&entity_id={signed.user.id}").get_data(as_text=True)
    assert 'audit-action">signed in<' in page
    row = page[page.index('audit-action">signed in<') - 400 : page.index('audit-action">signed in<')]
    assert signed.user.full_name in row and "sign-in attempt" not in row


def test_a_record_is_found_by_its_name_as_well_as_its_number(session, login_as, make_user):
    tech, verifier = make_user("technician"), make_user("qa")
    lot = lf.grown_lot(session, tech, verifier)
    qa = login_as("qa")
    by_number = entities(qa.get(f"/audit/?entity=lots&entity_id={lot.id}"))
    typed = f"{lot.din[:5]} {lot.din[5:7]} {lot.din[7:]} {lot.check_char}"  # as printed on the label
    by_din = qa.get("/audit/", query_string={"entity": "lots", "entity_id": typed})
    assert entities(by_din) == by_number and {"lots", "passages"} <= by_number


def test_field_names_and_stored_words_read_in_french(session, login_as, make_user):
    """A French reader reads every field in French (one word per audited column, bank.audit_fields), yes
    and no for a stored True/False, a status as its workflow names it; the stored rows are unchanged."""
    tech, verifier = make_user("technician"), make_user("qa")
    lot = lf.grown_lot(session, tech, verifier)
    target = make_user("technician")
    qa = login_as("qa")
    french = {"Accept-Language": "fr"}

    page = qa.get(f"/audit/?entity=users&entity_id={target.id}", headers=french).get_data(as_text=True)
    assert f"<strong>nom complet</strong>: — → {target.full_name}" in page
    assert "<strong>actif</strong>: — → oui" in page
    assert "<strong>empreinte du mot de passe</strong>: — → [renseigné]" in page
    assert "<strong>créé le</strong>" in page
    assert "full name" not in page and "is active" not in page and "True" not in page

    page = qa.get(f"/audit/?entity=lots&entity_id={lot.id}&own_only=y", headers=french).get_data(as_text=True)
    assert "<strong>statut</strong>: — → en production" in page and "in_process" not in page

    rows = list(
        csv.reader(
            io.StringIO(
                qa.get(f"/audit/export.csv?entity=users&entity_id={target.id}", headers=french).get_data(
                    as_text=True
                )
            )
        )
    )
    assert any(f"nom complet: — → {target.full_name}" in r[5] and "actif: — → oui" in r[5] for r in rows[1:])

    # The same rows in English: the field's word, yes/no and the status label; the stored JSON unchanged.
    page = qa.get(f"/audit/?entity=users&entity_id={target.id}").get_data(as_text=True)
    assert f"<strong>full name</strong>: — → {target.full_name}" in page
    assert "<strong>active</strong>: — → yes" in page
    page = qa.get(f"/audit/?entity=lots&entity_id={lot.id}&own_only=y").get_data(as_text=True)
    assert "<strong>status</strong>: — → in process" in page
