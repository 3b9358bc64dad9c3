"""Bench entries on screen and through the API (issue 18, lots): the confirmation round trip of a soft
limit, corrections shown struck through, the donor picker, material usability, lot actions only when
possible (blocked ones disabled with their reasons)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lots.models import EntryCorrection, Passage
from tests.factories import lots as f
from tests.support import OpenApiClient, field_error, fresh, token_for

pytestmark = pytest.mark.requirement("LOT-STEPS", "LOT-MATERIALS")

DAY = f.HARVEST_DAY


def grown(db_session, make_user, tech_user):
    return f.grown_lot(db_session, tech_user, make_user("technician"), qa=make_user("qa"))


def test_negative_pd_asks_for_a_confirmation_and_a_comment_then_stores_and_shows_it(
    login_as, make_user, db_session
):
    tech = login_as("technician")
    lot = grown(db_session, make_user, tech.user)
    page = tech.get(f"/lots/{lot.id}/passages/new").get_data(as_text=True)
    assert 'name="confirm_plausibility"' not in page, "asked for only once a value is flagged"
    html = tech.post(f"/lots/{lot.id}/passages/new", f.passage_form("2", "1", days=4)).get_data(as_text=True)
    assert "Fewer cells harvested than seeded (PD -1.00)" in field_error(html, "harvested_cells")
    assert 'data-testid="plausibility-confirmation"' in html and 'name="confirm_plausibility"' in html
    assert "tick to confirm" in html and "Say why the flagged values" in field_error(
        html, "plausibility_comment"
    )
    assert (
        not fresh(db_session)
        .scalars(select(Passage).where(Passage.lot_id == lot.id, Passage.number == 2))
        .all()
    )
    resp = tech.post(
        f"/lots/{lot.id}/passages/new",
        f.passage_form(
            "2", "1", days=4, confirm_plausibility="y", plausibility_comment="cells lost at trypsinisation"
        ),
    )
    assert resp.status_code == 302
    page = tech.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert "cells lost at trypsinisation" in page and 'data-testid="plausibility-comment"' in page


def test_the_api_takes_the_same_confirmation_fields(app, login_as, make_user, db_session):
    web = login_as("technician")
    lot = grown(db_session, make_user, web.user)
    api = OpenApiClient(app.test_client(), token_for(web))
    body = {k: v for k, v in f.passage_form("2e6", "1e6", days=4).items()}
    body.update(seeded_cells=2e6, harvested_cells=1e6, viability_pct=95, vessels=4)
    refused = api.call("api_lots_passage", body, lot_id=lot.id)
    assert refused.status_code == 409
    assert "lots.plausibility.negative_pd" in {p["rule_id"] for p in refused.json["problems"]}
    assert "confirm_plausibility" in refused.json["errors"]
    body.update(confirm_plausibility=True, plausibility_comment="recounted twice")
    done = api.call("api_lots_passage", body, lot_id=lot.id)
    assert done.status_code == 201 and done.json["plausibility_comment"] == "recounted twice"
    implausible = dict(body, harvested_cells=1e12, seeded_on=(DAY + timedelta(days=4)).isoformat())
    assert api.call("api_lots_passage", implausible, lot_id=lot.id).status_code == 409


def test_a_corrected_passage_shows_its_original_struck_through_with_who_and_why(
    login_as, make_user, db_session
):
    tech, tech2 = login_as("technician"), login_as("technician")
    lot = f.grown_lot(db_session, tech.user, tech2.user, qa=make_user("qa"))
    p1 = f.passage(db_session, tech.user, None, lot, 1.0e6, 4.0e6)  # P2, unverified: the author corrects it
    form = tech.get(f"/lots/passages/{p1.id}/correct").get_data(as_text=True)
    assert 'value="4"' in form and "× 10⁶" in form  # shown in millions beside the multiplier (issue 24)
    data = {
        "seeded_cells": "1",
        "harvested_cells": "3",
        "viability_pct": "95",
        "vessels": "4",
        "seeded_on": p1.seeded_on.isoformat(),
        "harvested_on": p1.harvested_on.isoformat(),
        "operator": "A. Tech",
    }
    html = tech.post(f"/lots/passages/{p1.id}/correct", data).get_data(as_text=True)
    assert "reason is required" in field_error(html, "reason")
    assert (
        tech.post(f"/lots/passages/{p1.id}/correct", dict(data, reason="typo in the count")).status_code
        == 302
    )
    page = tech.get(f"/lots/{lot.id}").get_data(as_text=True)
    struck = re.search(r'<tr data-entry="P2" data-in-force="no".*?</tr>', page, re.S).group(0)
    assert "<s>4.0" in struck or "<s>4" in struck
    assert "Corrected by" in struck and "typo in the count" in struck
    assert re.search(r'<tr data-entry="P2" data-in-force="yes"', page)
    # a verified entry: the correction waits for a second person, who confirms it on the lot page
    p0 = fresh(db_session).scalars(select(Passage).where(Passage.lot_id == lot.id, Passage.number == 0)).one()
    data0 = dict(
        data,
        seeded_cells="1",
        harvested_cells="32",
        seeded_on=p0.seeded_on.isoformat(),
        harvested_on=p0.harvested_on.isoformat(),
        reason="count re-read",
    )
    assert tech.post(f"/lots/passages/{p0.id}/correct", data0).status_code == 302
    pending = (
        fresh(db_session).scalars(select(EntryCorrection).where(EntryCorrection.original_id == p0.id)).one()
    )
    assert pending.status == "pending"
    page = tech2.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert 'data-testid="pending-correction"' in page
    assert tech2.post(f"/lots/corrections/{pending.id}/confirm").status_code == 302
    page = tech.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert 'data-testid="cumulative-pd">9.00<' in page  # P0 5 PD + P1 4 PD; P2 unverified


def test_donor_picker_finds_by_code_and_says_why_an_ineligible_donor_is_not_offered(
    login_as, make_user, db_session
):
    tech = login_as("technician")
    good = f.signed_donor(db_session, make_user("technician"), make_user("qa"))
    bad = f.signed_donor(db_session, make_user("technician"), make_user("qa"), "ineligible", weight_kg=45.0)
    items = tech.get(f"/lots/harvest/donors?q={good.code.lower()}").json["items"]
    assert items[0]["code"] == good.code and items[0]["usable"] is True
    items = tech.get(f"/lots/harvest/donors?q={bad.code}").json["items"]
    assert items[0]["usable"] is False and "ineligible" in items[0]["note"]
    assert tech.get("/lots/harvest/donors?q=%25").json["items"] == [] or all(
        "%" not in i["code"] for i in tech.get("/lots/harvest/donors?q=%25").json["items"]
    )
    page = tech.get("/lots/harvest").get_data(as_text=True)
    assert 'name="donor_code"' in page and 'list="donor-options"' in page and "donor-picker.js" in page
    assert tech.get("/lots/harvest/donor-picker.js").status_code == 200
    html = tech.post("/lots/harvest", {"donor_code": "DN-0000-0000"}).get_data(as_text=True)
    assert "No registered donor has the code DN-0000-0000" in field_error(html, "donor_code")
    assert login_as("clinical").get("/lots/harvest/donors?q=DN").status_code == 403


def test_materials_show_expired_expiring_and_rejected_and_forms_disable_unusable_ones(
    login_as, make_user, db_session
):
    tech = login_as("technician")
    maker = make_user("technician")
    expired = f.material_lot(db_session, maker, expiry=DAY - timedelta(days=1))
    soon = f.material_lot(db_session, maker, expiry=f.TODAY + timedelta(days=5))
    rejected = f.material_lot(db_session, maker, status="rejected")
    page = tech.get("/materials/?usability=expired").get_data(as_text=True)
    assert expired.lot_number in page and soon.lot_number not in page and 'data-usability="expired"' in page
    page = tech.get("/materials/?usability=expiring_soon").get_data(as_text=True)
    assert soon.lot_number in page and expired.lot_number not in page
    assert rejected.lot_number in tech.get("/materials/?usability=rejected").get_data(as_text=True)
    lot = grown(db_session, make_user, tech.user)
    form = tech.get(f"/lots/{lot.id}/formulate").get_data(as_text=True)
    option = re.search(rf'<option[^>]*value="{expired.id}"[^>]*>[^<]*', form).group(0)
    assert "disabled" in option and "expired on" in option
    option = re.search(rf'<option[^>]*value="{soon.id}"[^>]*>[^<]*', form).group(0)
    assert "disabled" not in option and "expires in 5 day(s)" in option


def test_lot_actions_are_offered_only_when_possible_and_blocked_ones_say_why(login_as, make_user, db_session):
    tech = login_as("technician")
    lot = grown(db_session, make_user, tech.user)  # no container yet
    page = tech.get(f"/lots/{lot.id}").get_data(as_text=True)
    assert re.search(r'<button type="button"[^>]*disabled data-action="submit"', page)
    assert 'data-blocked="submit"' in page and "No container is formulated." in page
    assert 'data-action="formulate" href=' in page
    assert 'data-blocked="isolation"' not in page  # the isolation is recorded: nothing to offer
