"""Donor pages as people use them: a technician registers and screens donors through the forms, QA signs;
donor cases reach the expected outcome with the expected reasons; impossible input changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bank.uow import Actor, unit_of_work
from donors.forms import slug
from donors.models import Donor, MedicationCourse, SerologyTest
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from donors.services import today
from donors.services.criteria import ensure_seed_criteria
from tests.support import PASSWORD, required_registry_form

pytestmark = pytest.mark.requirement("DON-DETERMINATION")


@pytest.fixture(autouse=True)
def criteria_seeded(session):
    """The seed criteria set active, as `flask init` leaves a new database (pages never seed it)."""
    with unit_of_work(session, Actor(None, "test setup"), "seed criteria set"):
        ensure_seed_criteria(session)


HARVEST = today() - timedelta(days=20)
DAY = timedelta(days=1)


# The registry fields of the donor most tests register (and edit).
REGISTRY = {
    "sex": "F",
    "birth_date": "1988-05-17",
    "weight_kg": "70",
    "height_cm": "168",
    "consent_version": "ICF-SSc v3",
    "consent_date": str(HARVEST - 10 * DAY),
}


def register(web, **over) -> int:
    data = {**REGISTRY, **over}
    resp = web.post("/donors/new", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    donor_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    web.get(f"/donors/{donor_id}")
    return donor_id


def questionnaire(web, donor_id, yes: dict[str, tuple[str, str]] | None = None):
    """Answer every question no, except `yes`: question id -> (date or "", detail)."""
    yes = yes or {}
    data = {}
    for q in CS.questions:
        s = slug(q.question_id)
        data[f"a_{s}"] = "yes" if q.question_id in yes else "no"
        if q.question_id in yes:
            data[f"d_{s}"], data[f"t_{s}"] = yes[q.question_id]
    web.get(f"/donors/{donor_id}/questionnaire")
    resp = web.post(f"/donors/{donor_id}/questionnaire", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)


def serology(web, donor_id, marker_id, result="negative", day=0, expect=302, **over):
    sample = HARVEST + day * DAY
    data = {
        "marker": marker_id,
        "method": "CMIA",
        "kit": "Architect",
        "kit_lot": "L2026-17",
        "sample_date": str(sample),
        "test_date": str(sample + DAY),
        "result": result,
    }
    data.update(over)
    web.get(f"/donors/{donor_id}/serology/new")
    resp = web.post(f"/donors/{donor_id}/serology/new", data)
    assert resp.status_code == expect, resp.get_data(as_text=True)[-3000:]
    return resp


def medication(web, donor_id, kind, name, start, stop, expect=302):
    web.get(f"/donors/{donor_id}/medications/new")
    resp = web.post(
        f"/donors/{donor_id}/medications/new",
        {"kind": kind, "name": name, "start_date": str(start), "stop_date": str(stop or "")},
    )
    assert resp.status_code == expect, resp.get_data(as_text=True)[-3000:]
    return resp


def screen(web, donor_id, yes=None, serology_over=None, harvest=True):
    """Harvest date, questionnaire and every required marker negative in the window (unless overridden)."""
    if harvest:
        web.get(f"/donors/{donor_id}/harvest")
        assert web.post(f"/donors/{donor_id}/harvest", {"harvest_date": str(HARVEST)}).status_code == 302
    questionnaire(web, donor_id, yes)
    over = serology_over or {}
    for marker in CS.required_markers:
        result, day = over.get(marker, ("negative", 0))
        serology(web, donor_id, marker, result, day)


def panel(web, donor_id) -> tuple[str, list[str], str]:
    """(outcome, rule ids of the reasons, panel html) as shown on the donor page."""
    html = web.get(f"/donors/{donor_id}").get_data(as_text=True)
    section = html.split('data-testid="determination-panel"')[1].split("</section>")[0]
    outcome = re.search(r'data-testid="outcome">.*?data-status="(\w+)"', section, re.S).group(1)
    reasons = section.split('data-testid="reasons"')[1].split("</ul>")[0] if "reasons" in section else ""
    return outcome, re.findall(r'data-rule="([\w-]+)"', reasons), section


# Cases entered through the forms: (registry changes, yes answers, serology overrides, medications,
# expected outcome, expected reason rule ids).
CASES = {
    "healthy donor": ({}, {}, {}, [], "eligible", []),
    "weight exactly 50 kg": ({"weight_kg": "50"}, {}, {}, [], "eligible", []),
    "weight 49.5 kg": ({"weight_kg": "49.5"}, {}, {}, [], "ineligible", ["DON-WEIGHT"]),
    "steroids 6 days a month before": (
        {},
        {"Q-STEROID": ("", "prednisone for sciatica")},
        {},
        [("corticosteroid", "prednisone 20 mg", 40, 35)],
        "ineligible",
        ["DON-MED-STEROID"],
    ),
    "steroids 5 days a month before": (
        {},
        {"Q-STEROID": ("", "")},
        {},
        [("corticosteroid", "prednisone 20 mg", 40, 36)],
        "eligible",
        [],
    ),
    "hypertension 200 days ago": (
        {},
        {"Q-HYPERTENSION": (str(HARVEST - 200 * DAY), "")},
        {},
        [],
        "ineligible",
        ["DON-HX-HYPERTENSION"],
    ),
    "hypertension 400 days ago": (
        {},
        {"Q-HYPERTENSION": (str(HARVEST - 400 * DAY), "")},
        {},
        [],
        "eligible",
        [],
    ),
    "EBV IgM positive": ({}, {}, {"EBV_IGM": ("positive", 2)}, [], "ineligible", ["DON-SER-EBV"]),
    "several exclusions": (
        {"sex": "F"},
        {"Q-PREGNANCY": ("", "12 weeks"), "Q-LITHIUM": ("", "")},
        {"HBSAG": ("positive", 1)},
        [("lithium", "lithium carbonate", 300, None)],
        "ineligible",
        ["DON-SER-HBSAG", "DON-MED-LITHIUM", "DON-STATUS-PREGNANCY"],
    ),
    "HIV sampled on day 8": ({}, {}, {"HIV": ("negative", 8)}, [], "incomplete", []),
}


@pytest.mark.parametrize("case", CASES)
def test_donor_cases_entered_through_the_forms_reach_the_expected_outcome(tech, case):
    registry, yes, over, meds, outcome, reasons = CASES[case]
    donor_id = register(tech, **registry)
    for kind, name, start_days, stop_days in meds:
        stop = HARVEST - stop_days * DAY if stop_days is not None else None
        medication(tech, donor_id, kind, name, HARVEST - start_days * DAY, stop)
    screen(tech, donor_id, yes, over)
    shown, rule_ids, html = panel(tech, donor_id)
    assert (shown, sorted(rule_ids)) == (outcome, sorted(reasons)), html
    if case == "HIV sampled on day 8":
        assert "HIV-1/2" in html and "sample outside window" in html


def test_anti_hbc_cleared_by_a_documented_risk_assessment(tech):
    donor_id = register(tech)
    screen(tech, donor_id, serology_over={"ANTI_HBC": ("positive", 0)})
    assert panel(tech, donor_id)[:2] == ("ineligible", ["DON-SER-ANTI-HBC"])
    html = tech.get(f"/donors/{donor_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)
    resp = tech.post(
        f"/donors/{donor_id}/edit",
        {
            "version": version,
            **REGISTRY,
            "hbc_risk_assessment": "Hepatologist: resolved infection, HBV DNA undetectable",
            "reason": "risk assessment",
        },
    )
    assert resp.status_code == 302
    assert panel(tech, donor_id)[0] == "eligible"


def test_technician_screens_qa_signs_and_a_late_positive_starts_lookback(tech, qa, session):
    donor_id = register(tech, full_name="Claire Dupont")
    screen(tech, donor_id)
    assert tech.get(f"/donors/{donor_id}/determination").status_code == 403
    assert (
        tech.post(
            f"/donors/{donor_id}/determination",
            {"decision": "eligible", "confirm": "y", "signature_password": PASSWORD},
        ).status_code
        == 403
    )
    qa.get(f"/donors/{donor_id}/determination")
    unconfirmed = qa.post(
        f"/donors/{donor_id}/determination", {"decision": "eligible", "signature_password": PASSWORD}
    )
    assert unconfirmed.status_code == 200 and "tick to confirm" in unconfirmed.get_data(as_text=True)
    resp = qa.post(
        f"/donors/{donor_id}/determination",
        {"decision": "eligible", "confirm": "y", "signature_password": PASSWORD},
    )
    assert resp.status_code == 302
    html = qa.get(f"/donors/{donor_id}").get_data(as_text=True)
    assert 'data-status="eligible"' in html and "Donor eligibility determination" in html
    assert "SSc adipose donor v1" in html and "Claire Dupont" in html
    serology(tech, donor_id, "HCV", "positive", day=1, test_date=str(today()))
    html = tech.get(f"/donors/{donor_id}").get_data(as_text=True)
    assert 'data-testid="lookback"' in html and 'data-status="ineligible"' in html
    assert session.get(Donor, donor_id).under_lookback


def test_qa_cannot_sign_an_incomplete_donor_eligible(tech, qa):
    donor_id = register(tech)
    qa.get(f"/donors/{donor_id}/determination")
    resp = qa.post(
        f"/donors/{donor_id}/determination",
        {"decision": "eligible", "confirm": "y", "signature_password": PASSWORD},
    )
    assert resp.status_code == 200 and "cannot be signed eligible" in resp.get_data(as_text=True)
    assert 'data-status="pending"' in qa.get(f"/donors/{donor_id}").get_data(as_text=True)


def _count(session, model) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("weight_kg", "0", "above 0 kg"),
        ("weight_kg", "900", "not plausible"),
        ("weight_kg", "heavy", "Not a number"),
        ("sex", "X", "Not a valid choice"),
        ("birth_date", str(today() + DAY), "in the future"),
        ("consent_version", "v" * 500, "40 characters"),
        ("height_cm", "nan", "Not a number"),
    ],
)
def test_impossible_registry_input_is_refused_next_to_the_field(tech, session, field, value, message):
    before = _count(session, Donor)
    data = required_registry_form(HARVEST, **{field: value})
    tech.get("/donors/new")
    resp = tech.post("/donors/new", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(rf'data-field="{field}">[^<]*{message}', html), html[-2500:]
    assert _count(session, Donor) == before


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("sample_date", str(today() + DAY), "in the future"),
        ("marker", "ZIKA", "Not a valid choice"),
        ("result", "maybe", "Not a valid choice"),
        ("kit", "k" * 5000, "120 characters"),
        ("test_date", str(HARVEST - 5 * DAY), "before sample date"),
    ],
)
def test_impossible_serology_is_refused_and_changes_nothing(tech, session, field, value, message):
    donor_id = register(tech)
    before = _count(session, SerologyTest)
    html = serology(tech, donor_id, "HIV", expect=200, **{field: value}).get_data(as_text=True)
    assert re.search(rf'data-field="{field}">[^<]*{message}', html), html[-2500:]
    assert _count(session, SerologyTest) == before


def test_medication_stop_before_start_is_refused(tech, session):
    donor_id = register(tech)
    before = _count(session, MedicationCourse)
    resp = medication(tech, donor_id, "corticosteroid", "prednisone", HARVEST, HARVEST - 3 * DAY, expect=200)
    assert re.search(r'data-field="stop_date">[^<]*before start', resp.get_data(as_text=True))
    assert _count(session, MedicationCourse) == before


def test_questionnaire_date_in_the_future_is_refused(tech):
    donor_id = register(tech)
    tech.get(f"/donors/{donor_id}/questionnaire")
    # Every question is answered (issue 18: a missing answer is flagged on its row before the service runs).
    answers = {f"a_{slug(q.question_id)}": "no" for q in CS.questions}
    resp = tech.post(
        f"/donors/{donor_id}/questionnaire",
        {**answers, "a_q_hypertension": "yes", "d_q_hypertension": str(today() + 5 * DAY)},
    )
    assert resp.status_code == 200
    assert re.search(r'data-field="d_q_hypertension">[^<]*in the future', resp.get_data(as_text=True))
    assert "not answered" in tech.get(f"/donors/{donor_id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["admin", "technician", "qa", "clinical"])
def test_every_donor_page_renders_for_each_role(login_as, tech, role):
    donor_id = register(tech)
    serology(tech, donor_id, "HIV")
    tech.get(f"/donors/{donor_id}/questionnaire")
    web = login_as(role)
    criteria_id = re.search(
        r"/donors/criteria/(\d+)", web.get("/donors/criteria").get_data(as_text=True) or "/donors/criteria/1"
    )
    pages = [
        "/donors/",
        "/donors/?q=DN&status=pending&page=2",
        "/donors/?status=nonsense&page=x",
        "/donors/new",
        f"/donors/{donor_id}",
        f"/donors/{donor_id}/edit",
        f"/donors/{donor_id}/harvest",
        f"/donors/{donor_id}/questionnaire",
        f"/donors/{donor_id}/serology/new",
        f"/donors/{donor_id}/medications/new",
        f"/donors/{donor_id}/determination",
        f"/donors/{donor_id}/lookback",
        "/donors/criteria",
    ]
    if criteria_id:
        cid = criteria_id.group(1)
        pages += [
            f"/donors/criteria/{cid}",
            f"/donors/criteria/{cid}/draft",
            f"/donors/criteria/{cid}/reevaluate",
        ]
    for url in pages:
        status = web.get(url).status_code
        assert status in (200, 403), (url, status)
        if (
            role in ("technician", "qa")
            and "criteria/" not in url
            and "determination" not in url
            and "lookback" not in url
        ):
            assert status == 200, (role, url)
    assert web.get("/donors/999999").status_code in (403, 404)


def test_qa_drafts_reviews_and_activates_a_new_criteria_version(fresh_database):
    # Its own database and app: activating a version must not change what the other tests apply.
    from bank.app import create_app
    from bank.db import make_engine, make_session_factory
    from bank.uow import Actor, unit_of_work
    from bank.users import create_user
    from tests.support import WebClient, unique

    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TESTING": False})
    # `flask init` stores and activates the seed criteria set (no page does).
    assert (
        "Active donor criteria set: SSc adipose donor v1"
        in app.test_cli_runner().invoke(args=["init"]).output
    )
    engine = make_engine(url)
    session = make_session_factory(engine)()
    names = {}
    with unit_of_work(session, Actor(None, "test setup")):
        for key, role in (("tech", "technician"), ("qa1", "qa"), ("qa2", "qa")):
            names[key] = create_user(
                session, unique("u"), f"User {key}", [role], PASSWORD, must_change_password=False
            ).username
    clients = {}
    for key, username in names.items():
        clients[key] = WebClient(app.test_client())
        clients[key].login(username)
    tech, qa1, qa2 = clients["tech"], clients["qa1"], clients["qa2"]
    donor_id = register(tech, weight_kg="52")
    screen(tech, donor_id)
    seed_id = re.search(r"/donors/criteria/(\d+)", qa1.get("/donors/criteria").get_data(as_text=True)).group(
        1
    )
    qa1.get(f"/donors/criteria/{seed_id}/draft")
    field = "p_don_weight__min_weight_kg"
    draft = {
        "window_before": "0",
        "window_after": "7",
        "note": "minimum weight raised to 55 kg",
        "p_don_med_steroid__lookback_days": "90",
        "p_don_med_steroid__max_days": "5",
        "p_don_hx_hypertension__lookback_days": "365",
    }
    refused = qa1.post(f"/donors/criteria/{seed_id}/draft", {**draft, field: "0"})
    assert refused.status_code == 200
    assert re.search(f'data-field="{field}">must be between', refused.get_data(as_text=True))
    resp = qa1.post(f"/donors/criteria/{seed_id}/draft", {**draft, field: "55"})
    assert resp.status_code == 302
    draft_url = resp.headers["Location"]
    draft_id = draft_url.rstrip("/").split("/")[-1]
    qa1.get(draft_url)
    qa1.post(f"/donors/criteria/{draft_id}/review", {"signature_password": PASSWORD, "confirm": "y"})
    assert 'data-status="draft"' in qa1.get(draft_url).get_data(as_text=True)  # the author cannot review
    qa2.get(draft_url)
    assert (
        qa2.post(
            f"/donors/criteria/{draft_id}/review", {"signature_password": PASSWORD, "confirm": "y"}
        ).status_code
        == 302
    )
    qa2.get(draft_url)
    qa2.post(f"/donors/criteria/{draft_id}/activate", {"signature_password": PASSWORD, "confirm": "y"})
    html = qa2.get(draft_url).get_data(as_text=True)
    assert 'data-status="active"' in html and "Donor criteria set approved for use" in html
    assert "DN-" in qa2.get(f"/donors/criteria/{draft_id}/reevaluate").get_data(as_text=True)
    outcome, reasons, _ = panel(tech, donor_id)
    assert (outcome, reasons) == ("ineligible", ["DON-WEIGHT"])
    session.close()
    engine.dispose()
    app.extensions["bank.engine"].dispose()


def test_pages_never_seed_the_criteria_set_the_seed_command_does(fresh_database):
    from bank.app import create_app
    from bank.db import make_engine, make_session_factory
    from bank.uow import Actor, unit_of_work
    from bank.users import create_user
    from donors.models import CriteriaSetVersion
    from tests.support import WebClient, unique

    url = fresh_database()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret", "TESTING": False})
    engine = make_engine(url)
    session = make_session_factory(engine)()
    with unit_of_work(session, Actor(None, "test setup")):
        username = create_user(
            session, unique("u"), "User tech", ["technician"], PASSWORD, must_change_password=False
        ).username
    tech = WebClient(app.test_client())
    tech.login(username)
    donor_id = register(tech)
    page = tech.get(f"/donors/{donor_id}")
    assert page.status_code == 409 and "donor-criteria-seed" in page.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(CriteriaSetVersion)) == 0
    result = app.test_cli_runner().invoke(args=["donor-criteria-seed"])
    assert "Active donor criteria set: SSc adipose donor v1" in result.output
    assert tech.get(f"/donors/{donor_id}").status_code == 200
    session.close()
    engine.dispose()
