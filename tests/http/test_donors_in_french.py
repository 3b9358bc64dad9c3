"""The donors domain in French: a French technician registers and screens a donor, a French QA person signs
the determination; every page, message and refusal reads in French, the stored data stays as typed
(a weight typed "81,5" is 81.5 kg) and the signed texts stay English."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest

from bank.uow import Actor, unit_of_work
from donors.forms import slug
from donors.models import DeterminationRecord, Donor
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from donors.services import today
from donors.services.criteria import ensure_seed_criteria
from tests.support import PASSWORD, required_registry_form, token_for

pytestmark = pytest.mark.requirement("ER-LANGUAGE")

HARVEST = today() - timedelta(days=20)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def criteria_seeded(session):
    with unit_of_work(session, Actor(None, "test setup"), "seed criteria set"):
        ensure_seed_criteria(session)


@pytest.fixture
def tech_fr(login_as):
    """A technician who chose French with the language switch after signing in."""
    web = login_as("technician")
    web.get("/donors/")
    assert web.post("/language", {"language": "fr", "back": "/donors/"}).status_code == 302
    return web


@pytest.fixture
def qa_fr(login_as):
    """A QA person whose browser asks for French (no language chosen on the account)."""
    web = login_as("qa")
    web.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    return web


def text(resp) -> str:
    """The page as a reader sees it (entities such as &#39; read as the characters they stand for)."""
    return unescape(resp.get_data(as_text=True))


def page(web, url) -> str:
    resp = web.get(url)
    assert resp.status_code == 200, (url, resp.status_code)
    return text(resp)


def french(html: str, present: list[str], absent: list[str]) -> None:
    for text in present:
        assert text in html, text
    for text in absent:
        assert text not in html, text


def register(web, weight="70") -> int:
    page(web, "/donors/new")
    resp = web.post(
        "/donors/new",
        {
            "sex": "F",
            "birth_date": "1988-05-17",
            "weight_kg": weight,
            "height_cm": "168",
            "consent_version": "ICF-SSc v3",
            "consent_date": str(HARVEST - 10 * DAY),
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]
    return int(resp.headers["Location"].rstrip("/").split("/")[-1])


def answer_questionnaire(web, donor_id, yes=(), **extra):
    page(web, f"/donors/{donor_id}/questionnaire")
    data = {f"a_{slug(q.question_id)}": "yes" if q.question_id in yes else "no" for q in CS.questions}
    return web.post(f"/donors/{donor_id}/questionnaire", {**data, **extra})


def record_negative_panel(web, donor_id):
    for marker in CS.required_markers:
        page(web, f"/donors/{donor_id}/serology/new")
        resp = web.post(
            f"/donors/{donor_id}/serology/new",
            {
                "marker": marker,
                "method": "CMIA",
                "kit": "Architect",
                "kit_lot": "L2026-17",
                "sample_date": str(HARVEST),
                "test_date": str(HARVEST + DAY),
                "result": "negative",
            },
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[-3000:]


def test_donor_list_and_registration_read_in_french_and_take_a_decimal_comma(tech_fr, session):
    french(
        page(tech_fr, "/donors/"),
        ["Donneurs", "Enregistrer un donneur", "Jeux de critères", "tous les statuts", "Rechercher"],
        ["Register a donor", "Criteria sets", "every status", "No donor matches"],
    )
    french(
        page(tech_fr, "/donors/new"),
        ["Poids au don (kg)", "Date de naissance", "Version du formulaire de consentement", "F (femme)"],
        ["Weight at donation", "Date of birth", "Consent form version", "F (female)"],
    )
    donor_id = register(tech_fr, weight="81,5")
    session.expire_all()
    assert session.get(Donor, donor_id).weight_kg == 81.5
    code = session.get(Donor, donor_id).code
    html = page(tech_fr, f"/donors/{donor_id}")
    french(
        html,
        [
            f"Donneur {code} enregistré.",
            "81,5 kg",
            "Questionnaire de sélection du donneur",
            "Sérologie",
            "Médicaments",
            "Manque encore avant une décision",
            "date de prélèvement",
            "Avez-vous actuellement une infection",
            "sans réponse",
        ],
        [
            "registered.",
            "81.5 kg",
            "Screening questionnaire",
            "Still missing before a decision",
            "harvest date",
            "Do you currently have an infection",
            "not answered",
        ],
    )
    assert 'data-status="pending"' in html  # the stored status is untouched by the language


@pytest.mark.parametrize(
    "field, value, shown, english",
    [
        ("weight_kg", "900", "un poids supérieur à 400 kg n'est pas plausible", "not plausible"),
        ("weight_kg", "0,0", "le poids doit être un nombre supérieur à 0 kg", "above 0 kg"),
        ("birth_date", str(today() + DAY), "est dans le futur", "in the future"),
    ],
)
def test_registry_refusals_show_in_french_next_to_their_field(tech_fr, field, value, shown, english):
    page(tech_fr, "/donors/new")
    data = required_registry_form(HARVEST, **{field: value})
    html = text(tech_fr.post("/donors/new", data))
    assert re.search(rf'data-field="{field}">[^<]*{re.escape(shown)}', html), html[-2500:]
    assert english not in html


def test_screening_entries_and_the_determination_in_french(tech_fr, qa_fr, session):
    donor_id = register(tech_fr, weight="49,5")
    page(tech_fr, f"/donors/{donor_id}/harvest")
    assert tech_fr.post(f"/donors/{donor_id}/harvest", {"harvest_date": str(HARVEST)}).status_code == 302

    french(
        page(tech_fr, f"/donors/{donor_id}/questionnaire"),
        ["Êtes-vous enceinte ?", "Enregistrer le questionnaire", "inconnu", "Date (si demandée)"],
        ["Are you pregnant?", "Save questionnaire", "Date (if asked)"],
    )
    # A date in the future is refused next to its question, in French.
    refused = answer_questionnaire(
        tech_fr, donor_id, yes=("Q-HYPERTENSION",), d_q_hypertension=str(today() + 5 * DAY)
    )
    html = text(refused)
    assert re.search(r'data-field="d_q_hypertension">[^<]*est dans le futur', html), html[-2500:]
    assert "in the future" not in html
    assert answer_questionnaire(tech_fr, donor_id, yes=("Q-PREGNANCY",)).status_code == 302

    french(
        page(tech_fr, f"/donors/{donor_id}/serology/new"),
        ["Résultat de sérologie de", "Lot de trousse", "négatif", "VIH-1/2"],
        ["Serology result for", "Kit lot", ">negative<"],
    )
    record_negative_panel(tech_fr, donor_id)
    page(tech_fr, f"/donors/{donor_id}/medications/new")
    medication = tech_fr.post(
        f"/donors/{donor_id}/medications/new",
        {"kind": "lithium", "name": "lithium", "start_date": str(HARVEST), "stop_date": str(HARVEST - DAY)},
    )
    html = text(medication)
    assert re.search(r'data-field="stop_date">[^<]*est antérieure au début', html), html[-2500:]
    assert "before start" not in html

    html = page(tech_fr, f"/donors/{donor_id}")
    french(
        html,
        [
            "Pourquoi le donneur n'est pas éligible",
            "Poids inférieur à 50 kg au don",
            "poids 49,5 kg < 50 kg",
            "Grossesse",
            "réponse oui à « Êtes-vous enceinte ? »",
            "Les échantillons comptent s'ils sont prélevés",
        ],
        ["Why the donor is ineligible", "Weight below 50 kg", "weight 49.5 kg", "answered yes", "Pregnancy"],
    )

    sign = f"/donors/{donor_id}/determination"
    french(
        page(qa_fr, sign),
        ["Détermination d'éligibilité du donneur", "Signer la détermination", "Non éligible", "Décision"],
        ["Sign determination", "Ineligible", "It cannot be undone"],
    )
    # A rule of the domain refuses signing eligible a donor the rules find ineligible; the refusal reads
    # in French; a comment too long is refused next to its field.
    refused = qa_fr.post(sign, {"decision": "eligible", "confirm": "y", "signature_password": PASSWORD})
    html = text(refused)
    assert refused.status_code == 200
    assert "selon les règles, le donneur est non éligible : il ne peut pas être signé éligible" in html
    assert "cannot be signed eligible" not in html
    page(qa_fr, sign)
    signed = qa_fr.post(sign, {"decision": "ineligible", "confirm": "y", "signature_password": PASSWORD})
    assert signed.status_code == 302, signed.get_data(as_text=True)[-3000:]
    code = session.get(Donor, donor_id).code
    html = page(qa_fr, f"/donors/{donor_id}")
    french(
        html,
        [f"Détermination signée : le donneur {code} est non éligible.", "Déterminations et signatures"],
        ["Determination signed", "Determinations and signatures"],
    )
    # What was signed stays English: the stored reasons and the signature's meaning.
    session.expire_all()
    record = session.query(DeterminationRecord).filter_by(donor_id=donor_id).one()
    assert "Weight below 50 kg at donation" in record.reasons and "weight 49.5 kg < 50 kg" in record.reasons
    assert "Poids" not in record.reasons


def test_a_rule_refusal_names_its_field_in_french(tech_fr, qa_fr):
    """DON-DET-INELIGIBLE-REASON: an ineligible decision no rule supports needs a reason, shown next to
    the comment field in the reader's language."""
    donor_id = register(tech_fr)
    page(tech_fr, f"/donors/{donor_id}/harvest")
    tech_fr.post(f"/donors/{donor_id}/harvest", {"harvest_date": str(HARVEST)})
    assert answer_questionnaire(tech_fr, donor_id).status_code == 302
    record_negative_panel(tech_fr, donor_id)
    sign = f"/donors/{donor_id}/determination"
    page(qa_fr, sign)
    resp = qa_fr.post(sign, {"decision": "ineligible", "confirm": "y", "signature_password": PASSWORD})
    html = text(resp)
    assert resp.status_code == 200
    assert re.search(
        r'data-field="comment">[^<]*aucune règle n\'exclut ce donneur : écrivez le motif', html
    ), html[-2500:]
    assert "no rule excludes this donor" not in html


def test_the_api_refuses_in_the_language_of_the_token_user(app, tech_fr):
    """JSON keys and stored values stay as they are; the messages read in the user's language."""
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(tech_fr)}"}
    resp = http.post(
        "/api/v1/donors",
        json={
            "sex": "F",
            "birth_date": "1985-04-02",
            "weight_kg": 900,
            "consent_version": "SSc-v2",
            "consent_date": str(HARVEST),
        },
        headers=headers,
    )
    assert resp.status_code == 422, resp.json
    assert resp.json["errors"]["weight_kg"] == "un poids supérieur à 400 kg n'est pas plausible"
    assert "plausible" in resp.json["message"] and "not plausible" not in resp.json["message"]
