"""A French technician at the bench (issue 19): the harvest time is typed on the Paris clock, a viability
with a decimal comma, and the lot page, its flashes and the rules' refusals read in French, with days
and times in French notation (dd/mm/yyyy and the zone). What is stored stays the same in every language."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lots.models import Harvest, Passage
from tests.factories import lots as f
from tests.support import field_error, fresh, token_for

pytestmark = pytest.mark.requirement("ER-LANGUAGE")

DAY = f.HARVEST_DAY
PARIS = ZoneInfo("Europe/Paris")


def _french_technician(login_as):
    tech = login_as("technician")
    tech.get("/lots/")
    assert tech.post("/language", {"language": "fr", "back": "/lots/"}).status_code == 302
    return tech


def _error(page: str, field: str) -> str:
    return html.unescape(field_error(page, field))


def test_a_french_technician_records_a_harvest_and_a_passage_and_reads_the_lot_in_french(
    login_as,
    make_user,
    db_session,  # noqa: F811
):
    tech = _french_technician(login_as)
    donor = f.signed_donor(db_session, make_user("technician"), make_user("qa"), "eligible")

    form = tech.get("/lots/harvest").get_data(as_text=True)
    assert "Enregistrer un prélèvement" in form and "Prélevé le (Europe/Paris)" in form
    assert "Code donneur" in form and "Collected at" not in form
    resp = tech.post(
        "/lots/harvest",
        f.harvest_form(db_session, donor.id, mass_g="48,5", collected_at=f"{DAY.isoformat()}T09:30"),
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    lot = f.latest_lot(db_session)
    harvest = fresh(db_session).scalar(select(Harvest).where(Harvest.lot_id == lot.id))
    local = datetime.combine(DAY, time(9, 30), tzinfo=PARIS)
    assert harvest.collected_at == local.astimezone(UTC) and harvest.mass_g == 48.5

    page = tech.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Prélèvement enregistré : lot {lot.din} {lot.check_char} ouvert." in html.unescape(page)
    assert f"{DAY:%d/%m/%Y} 09:30 {local.tzname()}" in page  # French notation, Paris time, its zone
    assert DAY.isoformat() not in page
    assert "48,5 g" in page and "Prélèvement" in page and "lipoaspirat" in page
    assert "Piste d&#39;audit" in page or "Historique des statuts" in page

    # A second technician verifies the isolation; the passage form takes "92,5" in French.
    f.isolate(db_session, make_user("technician"), make_user("technician"), fresh(db_session).merge(lot))
    form = tech.get(f"/lots/{lot.id}/passages/new").get_data(as_text=True)
    assert "Viabilité (%)" in form and "Cellules viables ensemencées" in form
    # Cell counts in millions beside × 10⁶ (issue 24; changed deliberately from "1e6", "8e6"), with a comma.
    resp = tech.post(f"/lots/{lot.id}/passages/new", f.passage_form("1,5", "12", viability="92,5"))
    assert resp.status_code == 302, resp.get_data(as_text=True)
    passage = fresh(db_session).scalar(select(Passage).where(Passage.lot_id == lot.id))
    assert passage.viability_pct == 92.5 and passage.number == 0
    assert passage.seeded_cells == 1_500_000 and passage.harvested_cells == 12_000_000

    page = html.unescape(tech.get(resp.headers["Location"]).get_data(as_text=True))
    assert "P0 enregistré (DP 3,00). Il compte dès qu'une seconde personne l'a vérifié." in page
    assert "92,5 %" in page and "Viabilité" in page and "Cellules viables" in page
    seeded_on = DAY + timedelta(days=4)
    assert f"{seeded_on:%d/%m/%Y} → {seeded_on + timedelta(days=5):%d/%m/%Y}" in page
    assert "en attente de vérification" in page and "non vérifié" in page


def test_a_rule_refusal_reads_in_french_next_to_its_field(login_as, make_user, db_session):  # noqa: F811
    tech = _french_technician(login_as)
    lot = f.harvest(
        db_session,
        make_user("technician"),
        f.signed_donor(db_session, make_user("technician"), make_user("qa")),
    )
    f.isolate(db_session, make_user("technician"), make_user("technician"), lot)
    tech.get(f"/lots/{lot.id}/passages/new")

    # A million cells becoming a million times more in five days: the plausibility rule refuses it.
    page = tech.post(
        f"/lots/{lot.id}/passages/new", f.passage_form("1e6", "1e12", viability="92,5")
    ).get_data(as_text=True)
    refusal = _error(page, "harvested_cells")
    assert "soit une multiplication par" in refusal and "(par 8 par jour)" in refusal, refusal
    assert "fold" not in refusal

    # Harvested before it was seeded: said with the seeding date in words, in French.
    data = f.passage_form("1e6", "8e6", viability="92,5")
    data["harvested_on"] = (DAY + timedelta(days=3)).isoformat()
    page = tech.post(f"/lots/{lot.id}/passages/new", data).get_data(as_text=True)
    seeded = DAY + timedelta(days=4)  # the day is written in French notation too, not as stored
    assert (
        _error(page, "harvested_on") == f"Ne peut pas précéder la date d'ensemencement ({seeded:%d/%m/%Y})."
    )

    # A comma in English is refused with a sentence, not read as a thousands separator.
    tech.post("/language", {"language": "en", "back": f"/lots/{lot.id}"})
    tech.get(f"/lots/{lot.id}/passages/new")
    page = tech.post(f"/lots/{lot.id}/passages/new", f.passage_form("1e6", "8e6", viability="92,5")).get_data(
        as_text=True
    )
    assert "decimal point" in _error(page, "viability_pct")
    assert fresh(db_session).scalar(select(Passage).where(Passage.lot_id == lot.id)) is None


def test_the_api_answers_a_lots_refusal_in_the_language_asked_with_its_data_unchanged(
    app,
    login_as,
    make_user,
    db_session,  # noqa: F811
):
    tech = login_as("technician")
    donor = f.signed_donor(
        db_session, make_user("technician"), make_user("qa"), "ineligible", "positive CMV IgM on repeat"
    )
    body = {
        "donor_id": donor.id,
        "product_type_id": f.product(db_session, "AT-MSC-ALLO").id,
        "tissue": "lipoaspirate",
        "mass_g": 40,
        "collected_at": f"{DAY.isoformat()}T09:00+01:00",
        "site": "S",
        "operator": "O",
        "tier": "dose",
    }
    answers = {
        language: app.test_client().post(
            "/api/v1/lots/harvests",
            json=body,
            headers={"Authorization": f"Bearer {token_for(tech)}", "Accept-Language": language},
        )
        for language in ("fr", "en")
    }
    fr, en = answers["fr"].json["problems"][0], answers["en"].json["problems"][0]
    assert answers["fr"].status_code == answers["en"].status_code == 409
    assert fr["message"] == (
        f"Prélèvement refusé pour le donneur {donor.code} : Le donneur est déterminé non éligible : "
        "aucun prélèvement allogénique n'est permis."
    )
    assert en["message"].startswith(f"Harvest refused for donor {donor.code}: Donor is determined ineligible")
    # The rule id, the evidence and the field are data: the same in both languages.
    assert {k: v for k, v in fr.items() if k != "message"} == {k: v for k, v in en.items() if k != "message"}
    assert fr["rule_id"] == "lots.harvest.donor_ineligible" and fr["evidence"] == "donor_status=ineligible"
