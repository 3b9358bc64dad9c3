"""Release in French (issue 19) as a French QA team works: a result typed with a decimal comma, the QC page and
a release refusal in French, the certificate printed in French and read back, and its digest the same in
French and in English (the "check a printed copy" verification passes for both prints)."""

from __future__ import annotations

import html
import io
import re

import pytest
from pypdf import PdfReader

from release import services
from release.reports import coa_digest
from tests.factories import release as fr
from tests.support import PASSWORD, new_placebo_specification_draft

pytestmark = pytest.mark.requirement("ER-LANGUAGE")

DAY = fr.PERFORMED_ON.isoformat()
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture
def lot(session, tech, qa):
    return fr.qc_lot(session, tech.user, qa.user, qa.user)


def in_french(client):
    """The language switch of the page header, as a signed-in user uses it."""
    client.get("/")
    assert client.post("/language", {"language": "fr", "back": "/"}).status_code == 302
    return client


def reload(session) -> None:
    session.rollback()
    session.expire_all()


def post_result(client, lot, code, value, unit, **extra):
    client.get(f"/release/lots/{lot.id}/results/new?test={code}")
    data = {
        "test_code": code,
        "method": "méthode validée",
        "instrument": "",
        "performed_on": DAY,
        "value": value,
        "unit": unit,
        **extra,
    }
    return client.post(f"/release/lots/{lot.id}/results/new", data, content_type="multipart/form-data")


def shown(resp) -> str:
    """The page's text as read (entities such as &#39; unescaped)."""
    return html.unescape(resp.get_data(as_text=True))


def pdf_text(client, lot) -> str:
    resp = client.client.get(f"/release/lots/{lot.id}/certificate.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)


def test_french_qa_enters_a_decimal_comma_reads_the_refusal_and_the_certificate_in_french(
    session, lot, tech, qa, qa2
):
    in_french(tech)
    in_french(qa)

    # A result typed the French way is stored exactly and shown back with the comma.
    assert post_result(tech, lot, "VIABILITY", "88,5", "%").status_code == 302
    reload(session)
    viability = services.current_result(session, lot, "VIABILITY")
    assert viability.value == "88.5" and viability.verdict == "pass"
    page = shown(tech.get(f"/release/lots/{lot.id}"))
    assert "88,5 %" in page and "88.5 %" not in page
    for words in ("CQ du lot", "Résultats", "Viabilité", "≥ 70 %", "conforme", "non vérifié"):
        assert words in page, words

    # Impossible input is refused next to its field, in French, with the French decimal mark.
    refused = post_result(
        tech, lot, "VIABILITY", "101,5", "%", retest_of=str(viability.id), retest_reason="x"
    )
    assert "101,5 % n'est pas un pourcentage possible (0–100)." in shown(refused)

    # The release refused with every reason, in French.
    qa.get(f"/release/lots/{lot.id}")
    resp = qa.post(f"/release/lots/{lot.id}/release", {"signature_password": PASSWORD, "confirm": "y"})
    page = shown(resp)
    assert resp.status_code == 200 and 'data-testid="refused"' in page
    assert "Libération refusée — tous les motifs" in page
    assert "Mycoplasmes (Ph. Eur. 2.6.7) : aucun résultat." in page
    assert "Viabilité : le résultat n'est pas vérifié." in page
    assert "is out of specification" not in page and "has no result" not in page

    # Every other test passes, is verified, and a second QA person releases the lot.
    fr.complete_results(session, tech.user, qa.user, lot, skip=("VIABILITY",))
    fr.verify(session, qa.user, services.current_result(session, lot, "VIABILITY"))
    fr.release(session, qa2.user, lot)
    reload(session)

    french = pdf_text(qa, lot)
    flat = " ".join(french.split())
    for words in (
        "Certificat d'analyse",
        "Résultats",
        "Viabilité",
        "CONFORME",
        "88,5 %",
        "Décision",
        "libéré",
    ):
        assert words in flat, words
    assert "Certificate of analysis" not in flat and "PASS" not in flat
    assert "[check]" not in flat  # the adipose panel's name carries the reference's internal marker

    english = pdf_text(qa2, lot)  # qa2 never chose a language: English
    assert "Certificate of analysis" in english and "88.5 %" in english

    # The digest printed is the content's, whatever the language it was printed in, and it checks.
    digest = coa_digest(session, lot)
    assert DIGEST.findall(french)[0] == DIGEST.findall(english)[0] == digest
    check = qa.get("/release/certificates/check", query_string={"din": lot.din, "digest": digest})
    assert 'data-testid="digest-match"' in shown(check) and "CONFORME : le certificat du lot" in shown(check)


def test_a_browser_asking_for_french_reads_the_release_queue_in_french(lot, qa2):
    page = shown(qa2.get("/release/", headers={"Accept-Language": "fr"}))
    assert "File de libération" in page and "Spécifications" in page
    page = shown(qa2.get("/release/", headers={"Accept-Language": "en"}))
    assert "Release queue" in page


def test_french_qa_edits_a_specification_limit_with_a_decimal_comma(session, qa, qa2):
    in_french(qa)
    current, draft_id = new_placebo_specification_draft(qa, session)
    page = shown(qa.get(f"/release/specifications/{draft_id}/edit"))
    limit = f"{current.spec().get_test('ENDOTOXIN').max:g}".replace(".", ",")  # 0,5 as seeded
    assert f'name="ENDOTOXIN__max" value="{limit}"' in page and "Brouillon PLACEBO-MEDIA" in page
    resp = qa.post(
        f"/release/specifications/{draft_id}/edit",
        {"ENDOTOXIN__max": "0,55", "change_note": "Limite du placebo ajustée"},
    )
    assert resp.status_code == 302
    reload(session)
    assert services.versions_of(session, "PLACEBO-MEDIA")[0].spec().get_test("ENDOTOXIN").max == 0.55
    resp = qa.post(
        f"/release/specifications/{draft_id}/edit", {"ENDOTOXIN__max": "0,2,5", "change_note": "x"}
    )
    assert "'0,2,5' n'est pas un nombre." in shown(resp)
    # A second QA person approves it and makes it effective: no draft is left open for the next one.
    qa2.get(f"/release/specifications/{draft_id}")
    approved = qa2.post(
        f"/release/specifications/{draft_id}/approve", {"signature_password": PASSWORD, "confirm": "y"}
    )
    assert approved.status_code == 302
    assert qa2.post(f"/release/specifications/{draft_id}/effective").status_code == 302


def test_a_late_positive_sterility_alert_reads_in_french(session, lot, tech, qa, qa2):
    made = fr.complete_results(
        session, tech.user, qa.user, lot, {"STERILITY": ("no growth to date", "", None)}
    )
    fr.release(session, qa2.user, lot, conditional=True)
    fr.enter(session, tech.user, lot, "STERILITY", "growth", "", retest_of_id=made["STERILITY"].id)
    in_french(qa)
    page = shown(qa.get("/release/alerts"))
    assert f"La stérilité finale du lot {lot.din} est positive après libération conditionnelle" in page
    assert (
        "Stérilité (Ph. Eur. 2.6.27, aérobie + anaérobie) : croissance ; hors spécification "
        "(attendu pas de croissance)." in page
    )
    assert "prévenir AQ" in page and "Final sterility" not in page
    assert "La stérilité finale du lot" in shown(qa.get(f"/release/lots/{lot.id}"))


def test_controlled_results_and_seed_test_names_read_and_are_typed_in_french(session, lot, tech, qa):
    """The seed vocabulary (result terms, test names) is stored in English and shown in French: the form
    lists the allowed results in French and takes one typed in French, stored as its English term."""
    french = {"Accept-Language": "fr"}
    form = shown(tech.get(f"/release/lots/{lot.id}/results/new?test=STERILITY", headers=french))
    assert (
        "<strong>pas de croissance</strong>" in form
        and "<strong>pas de croissance à ce jour</strong>" in form
    )
    assert '<option value="pas de croissance">' in form and "no growth" not in form
    resp = tech.post(
        f"/release/lots/{lot.id}/results/new",
        {
            "test_code": "STERILITY",
            "method": "méthode validée",
            "instrument": "",
            "performed_on": DAY,
            "value": "Pas de croissance",
            "unit": "",
        },
        content_type="multipart/form-data",
        headers=french,
    )
    assert resp.status_code == 302, shown(resp)[-2000:]
    reload(session)
    assert services.current_result(session, lot, "STERILITY").value == "no growth"

    page = shown(qa.get(f"/release/lots/{lot.id}", headers=french))
    assert "pas de croissance (libération conditionnelle sur : pas de croissance à ce jour)" in page
    assert "no growth" not in page and "Stérilité" in page
    english = shown(qa.get(f"/release/lots/{lot.id}"))
    assert "no growth (conditional release on: no growth to date)" in english

    trends = shown(qa.get("/release/trends?product=AT-MSC-ALLO&test=VIABILITY", headers=french))
    assert ">Viabilité</option>" in trends and ">Viability</option>" not in trends

    alerts = shown(qa.get("/release/alerts", headers=french))
    assert "(stérilité « pas de croissance à ce jour »)" in alerts and "no growth" not in alerts
