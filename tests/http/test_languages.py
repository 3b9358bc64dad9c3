"""French and English (issue 19) as people meet them: the reader's language is their own choice (kept on
the account, audited), else the one chosen on the sign-in page, else the facility's, else the browser's,
else English; `<html lang>` follows; numbers and dates are typed and read in the reader's notation;
stored signature meanings never depend on the language; the API refuses in the caller's language."""

from __future__ import annotations

import html as html_text
import json
import re

import pytest
from sqlalchemy import select

from bank.clock import to_local
from bank.models import AuditEntry, Signature, User, UserSession
from bank.uow import Actor, unit_of_work
from bank.verification.states import VERIFIED_MEANING
from donors.models import Donor
from donors.services.criteria import ensure_seed_criteria
from tests.support import PASSWORD, OpenApiClient, WebClient, token_for, verify_signed

pytestmark = pytest.mark.requirement("ER-LANGUAGE")


def browser(app, accept_language: str | None = None) -> WebClient:
    """A new browser; `accept_language` is the header it sends with every request."""
    client = WebClient(app.test_client())
    if accept_language:
        client.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept_language
    return client


def signed_in(app, user, accept_language: str | None = None) -> WebClient:
    client = browser(app, accept_language)
    client.login(user.username)
    return client


def lang(resp) -> str:
    return re.search(r'<html lang="([a-z]+)"', resp.get_data(as_text=True)).group(1)


def text(resp) -> str:
    return html_text.unescape(resp.get_data(as_text=True))


def choose(client: WebClient, language: str, back: str = "/"):
    return client.post("/language", {"language": language, "back": back})


def fresh(session, model, ident):
    session.rollback()  # end the read transaction: see what the requests committed
    return session.get(model, ident)


def test_english_when_nothing_says_otherwise(app):
    page = browser(app).get("/login")
    assert lang(page) == "en" and '<h1 class="h4">Sign in</h1>' in text(page)


def test_the_browsers_language_when_nobody_chose(app):
    page = browser(app, "fr-FR,fr;q=0.9,en;q=0.5").get("/login")
    assert lang(page) == "fr" and '<h1 class="h4">Se connecter</h1>' in text(page)
    assert "Nom d'utilisateur" in text(page) and "Mot de passe" in text(page)
    assert lang(browser(app, "de-DE,de;q=0.9").get("/login")) == "en"  # neither French nor English


def test_a_choice_on_the_sign_in_page_beats_the_browser_and_lasts_once_signed_in(app, make_user, db_session):
    user = make_user("technician")
    client = browser(app, "en-GB,en;q=0.9")
    client.get("/login")
    resp = choose(client, "fr", "/login")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert lang(client.get("/login")) == "fr"
    client.login(user.username)
    home = client.get("/")
    assert lang(home) == "fr" and "Se déconnecter" in text(home)
    assert fresh(db_session, User, user.id).language is None  # a browser's choice, not the account's


def test_the_users_choice_is_kept_on_the_account_audited_and_read_in_another_browser(
    app, make_user, db_session
):
    user = make_user("technician")
    first = signed_in(app, user, "en")
    first.get("/account/sessions")
    resp = choose(first, "fr", "/account/sessions")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/sessions")
    assert lang(first.get("/account/sessions")) == "fr"
    assert fresh(db_session, User, user.id).language == "fr"
    rows = db_session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "users", AuditEntry.entity_id == str(user.id))
    ).all()
    changed = [r for r in rows if "language" in json.loads(r.changes)]
    assert changed and json.loads(changed[-1].changes)["language"] == [None, "fr"]
    assert changed[-1].reason == "language chosen" and changed[-1].actor_id == user.id
    # A second browser that sends no Accept-Language at all, then one that asks for English.
    assert lang(signed_in(app, user).get("/")) == "fr"
    assert lang(signed_in(app, user, "en-US,en;q=0.9").get("/")) == "fr"
    choose(first, "en", "/")
    assert lang(first.get("/")) == "en" and fresh(db_session, User, user.id).language == "en"


@pytest.fixture
def french_facility(database_url):
    """The application of a facility whose language is French (FACILITY_LANGUAGE=fr)."""
    from bank.app import create_app

    facility = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "FACILITY_FIN": "G1234",
            "FACILITY_LANGUAGE": "fr",
        }
    )
    yield facility
    facility.extensions["bank.engine"].dispose()


def test_the_facilitys_language_comes_before_the_browsers(french_facility, make_user):
    assert lang(browser(french_facility, "en-GB,en;q=0.9").get("/login")) == "fr"
    assert lang(browser(french_facility).get("/login")) == "fr"
    user = make_user("technician")
    client = signed_in(french_facility, user, "fr")
    client.get("/")
    choose(client, "en")
    assert lang(client.get("/")) == "en"  # the person's own choice comes first
    chose_on_sign_in_page = browser(french_facility)
    chose_on_sign_in_page.get("/login")
    choose(chose_on_sign_in_page, "en", "/login")
    assert lang(chose_on_sign_in_page.get("/login")) == "en"


def test_commands_speak_the_facilitys_language(app, french_facility):
    french = french_facility.test_cli_runner().invoke(args=["users", "unlock", "nobody-here"])
    assert french.exit_code == 2 and "erreur : aucun utilisateur nommé « nobody-here »" in french.output
    english = app.test_cli_runner().invoke(args=["users", "unlock", "nobody-here"])
    assert english.exit_code == 2 and "error: no user named 'nobody-here'" in english.output


@pytest.mark.parametrize("value", ["de", "", "FR", "fr_FR", "en;", "x" * 500])
def test_a_bad_language_is_refused_and_changes_nothing(app, make_user, db_session, value):
    user = make_user("technician")
    client = signed_in(app, user, "en")
    client.get("/")
    audited = len(db_session.scalars(select(AuditEntry.id).where(AuditEntry.entity == "users")).all())
    resp = client.post("/language", {"language": value, "back": "/"})
    assert resp.status_code == 400 and "Choose French or English." in text(resp)
    assert fresh(db_session, User, user.id).language is None
    after = len(db_session.scalars(select(AuditEntry.id).where(AuditEntry.entity == "users")).all())
    assert after == audited
    assert lang(client.get("/")) == "en"
    anonymous = browser(app)
    anonymous.get("/login")
    assert anonymous.post("/language", {"language": value}).status_code == 400
    assert lang(anonymous.get("/login")) == "en"


def test_the_refusal_of_a_bad_language_is_in_the_readers_language(app):
    client = browser(app, "fr")
    client.get("/login")
    resp = client.post("/language", {"language": "de"})
    assert resp.status_code == 400 and "Choisissez le français ou l'anglais." in text(resp)


def _donor_form(weight: str) -> dict:
    return {
        "sex": "F",
        "birth_date": "1988-05-17",
        "weight_kg": weight,
        "height_cm": "168",
        "consent_version": "ICF-SSc v3",
        "consent_date": "2026-01-05",
    }


def test_a_decimal_comma_is_read_in_french_and_refused_in_english(app, make_user, db_session):
    with unit_of_work(db_session, Actor(None, "test setup"), "seed criteria set"):
        ensure_seed_criteria(db_session)  # as `flask init` leaves a new database
    french = signed_in(app, make_user("technician"), "fr")
    french.get("/donors/new")
    resp = french.post("/donors/new", _donor_form("81,5"))
    assert resp.status_code == 302, text(resp)[-2000:]
    donor_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    assert fresh(db_session, Donor, donor_id).weight_kg == 81.5

    english = signed_in(app, make_user("technician"), "en")
    english.get("/donors/new")
    before = len(db_session.scalars(select(Donor.id)).all())
    refused = english.post("/donors/new", _donor_form("81,5"))
    assert refused.status_code == 200
    shown = re.search(r'data-field="weight_kg">([^<]*)<', text(refused))
    assert shown and "Type the number with a decimal point, e.g. 81.5" in shown.group(1)
    db_session.rollback()
    assert len(db_session.scalars(select(Donor.id)).all()) == before
    assert english.post("/donors/new", _donor_form("81.5")).status_code == 302  # the point, in any language


def test_dates_in_french_read_day_first_with_the_zone(app, make_user, db_session):
    user = make_user("technician")
    french = signed_in(app, user, "fr")
    page = text(french.get("/account/sessions"))
    row = db_session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
    ).first()
    local = to_local(row.created_at, app.config["FACILITY_TIMEZONE"])
    day_first = f"{local:%d/%m/%Y %H:%M} {local.tzname()}"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} [A-Z+\-0-9]+", day_first)
    assert day_first in page and "Vos sessions" in page
    english = text(signed_in(app, user, "en").get("/account/sessions"))
    assert f"{local:%Y-%m-%d %H:%M} {local.tzname()}" in english and day_first not in english


def _signatures_of(db_session, user) -> list[Signature]:
    db_session.rollback()
    return list(db_session.scalars(select(Signature).where(Signature.user_id == user.id)))


def test_a_signatures_stored_meaning_is_the_same_in_either_language(app, make_user, db_session, bench):
    _tech, lot, _entries, keys = bench
    qa_fr, qa_en = make_user("qa"), make_user("qa")
    french, english = signed_in(app, qa_fr, "fr"), signed_in(app, qa_en, "en")
    confirm = text(french.get("/verify/confirm", query_string={"entries": keys[:1]}))
    assert "Signature électronique : Vérifié" in confirm and "Signer : Vérifié (1)" in confirm
    assert verify_signed(french, keys[:1]).status_code == 302
    assert verify_signed(english, keys[1:2]).status_code == 302
    signed_fr, signed_en = _signatures_of(db_session, qa_fr), _signatures_of(db_session, qa_en)
    assert (
        [s.meaning for s in signed_fr] == [s.meaning for s in signed_en] == [VERIFIED_MEANING] == ["Verified"]
    )
    # Each reader sees the one stored meaning in their language, and both signatures still verify.
    lot_fr, lot_en = text(french.get(f"/lots/{lot.id}")), text(english.get(f"/lots/{lot.id}"))
    assert f"<strong>Vérifié</strong> — signé par <strong>{qa_fr.full_name}</strong> le " in lot_fr
    assert f"<strong>Verified</strong> — signed by <strong>{qa_en.full_name}</strong> on " in lot_en
    assert "signature non valide" not in lot_fr and "signature not valid" not in lot_en


def test_the_api_refuses_in_the_callers_language(app, make_user, bench):
    tech, _lot, _entries, keys = bench
    client = signed_in(app, tech)
    api = OpenApiClient(app.test_client(), token_for(client))
    listed = api.call("api_verification_entries").json
    assert "items" in listed

    def verify(language: str, body: dict):
        headers = {**api.headers, "Accept-Language": language}
        method, path, _ = api.ops["api_verification_verify"]
        return api.http.open(path, method=method, headers=headers, json=body)

    own = {"entries": [f"{keys[0]}@{'0' * 64}"], "signature_password": PASSWORD}
    fr, en = verify("fr-FR,fr;q=0.9", own), verify("en", own)
    assert fr.status_code == en.status_code == 409
    assert any("une seconde personne doit le vérifier" in p["message"] for p in fr.json["problems"])
    assert any("a second person must verify it" in p["message"] for p in en.json["problems"])
    assert "une seconde personne doit le vérifier" in fr.json["message"]
    assert {p["rule_id"] for p in fr.json["problems"]} == {p["rule_id"] for p in en.json["problems"]}
    unknown = verify("fr", {**own, "colour": "blue"})
    assert unknown.status_code == 422 and unknown.json["errors"] == {"colour": "champ inconnu"}
    assert verify("en", {**own, "colour": "blue"}).json["errors"] == {"colour": "unknown field"}
    empty = verify("fr", {"entries": [], "signature_password": PASSWORD})
    assert (
        empty.status_code == 422
        and "Choisissez au moins une saisie à vérifier." in empty.json["errors"]["entries"]
    )


def _printed(app, language: str) -> tuple[str, bytes]:
    """A document built while a reader of `language` asks for it, as text read back, and its bytes."""
    import io
    from datetime import UTC, datetime

    from pypdf import PdfReader

    from bank.i18n import t
    from bank.pdf import Document, KeyValueSection, Signature, TableSection, build_document

    doc = Document(
        title=t("Certificate of analysis"),
        facility="Test Cell Therapy Unit",
        sections=[
            KeyValueSection(t("Lot"), [(t("Status"), "released")]),
            TableSection(t("Results"), [t("Test")], []),
        ],
        content={"lot": "G123426000001", "status": "released"},
        signatures=[Signature("Ada Lovelace", VERIFIED_MEANING, datetime(2026, 12, 3, 9, 0, tzinfo=UTC))],
        printed_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
    )
    with app.test_request_context(headers={"Accept-Language": language}):
        data = build_document(doc, deterministic=True)
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages), data


def test_a_pdf_is_printed_in_the_readers_language_with_the_same_content_digest(app):
    english, _ = _printed(app, "en")
    french, _ = _printed(app, "fr")
    digest = re.compile(r"SHA-256 ?: ([0-9a-f]{64})")
    assert digest.search(english).group(1) == digest.search(french).group(1)
    assert "Content SHA-256:" in english and "Contenu SHA-256 :" in french
    assert "Page 1 of 1" in english and "Page 1 sur 1" in french
    assert "Electronic signatures" in english and "Signatures électroniques" in french
    assert "Verified" in english and "Vérifié" in french and "Verified" not in french
    assert "None recorded." in english and "Rien d'enregistré." in french
    assert "Ada Lovelace" in english and "Ada Lovelace" in french  # data is never translated
