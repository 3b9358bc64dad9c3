"""Issue 8: an independent client driven only by the OpenAPI document registers a donor, records
serology and reads the eligibility outcome; bad input gets JSON field errors and writes nothing."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bank.models import AuditEntry
from bank.uow import Actor, unit_of_work
from donors.services.criteria import ensure_seed_criteria
from tests.support import OpenApiClient, token_for

pytestmark = pytest.mark.requirement("API-SAME-RULES")


@pytest.fixture(autouse=True)
def criteria_seeded(session):
    """The seed criteria set active, as `flask init` leaves a new database (pages never seed it)."""
    with unit_of_work(session, Actor(None, "test setup"), "seed criteria set"):
        ensure_seed_criteria(session)


def test_register_donor_record_serology_and_read_outcome_from_the_document_alone(app, login_as):
    api = OpenApiClient(app.test_client(), token_for(login_as("technician")))
    register = api.schema("api_donors_register")
    assert {"sex", "birth_date", "consent_version", "consent_date"} <= set(register["required"])
    harvest = date.today() - timedelta(days=3)
    resp = api.call(
        "api_donors_register",
        {
            "sex": "F",
            "birth_date": "1985-04-02",
            "weight_kg": 64,
            "height_cm": 168,
            "consent_version": "SSc-v2",
            "consent_date": (harvest - timedelta(days=10)).isoformat(),
        },
    )
    assert resp.status_code == 201, resp.json
    donor_id = resp.json["id"]
    assert resp.json["code"].startswith("DN-") and resp.json["status"] == "pending"
    assert (
        api.call(
            "api_donors_harvest_date", {"harvest_date": harvest.isoformat()}, donor_id=donor_id
        ).status_code
        == 200
    )
    markers = api.schema("api_donors_serology")["properties"]["marker"]["enum"]
    assert "HIV" in markers
    resp = api.call(
        "api_donors_serology",
        {
            "marker": "HIV",
            "method": "CMIA",
            "kit": "Alinity HIV Ag/Ab",
            "kit_lot": "K123",
            "sample_date": harvest.isoformat(),
            "test_date": harvest.isoformat(),
            "result": "positive",
        },
        donor_id=donor_id,
    )
    assert resp.status_code == 201, resp.json
    outcome = api.call("api_donors_eligibility", donor_id=donor_id).json
    assert outcome["outcome"] == "ineligible"
    assert [r["rule_id"] for r in outcome["reasons"]] == ["DON-SER-HIV"]
    assert outcome["eligible_signed"] is False and outcome["signed_status"] == "pending"


def test_bad_api_input_gets_field_errors_and_writes_nothing(app, login_as, session):
    api = OpenApiClient(app.test_client(), token_for(login_as("technician")))
    before = session.scalar(select(func.max(AuditEntry.id)))
    cases = [
        (
            {"sex": "X", "birth_date": "1985-02-30", "consent_version": "", "consent_date": "soon"},
            {"sex", "birth_date", "consent_version", "consent_date"},
        ),
        (
            {
                "sex": "F",
                "birth_date": "2999-01-01",
                "consent_version": "v1",
                "consent_date": "2020-01-01",
                "weight_kg": 900,
            },
            {"birth_date", "weight_kg"},
        ),
        (
            {
                "sex": "F",
                "birth_date": "1980-01-01",
                "consent_version": "v1",
                "consent_date": "2020-01-01",
                "shoe_size": 42,
            },
            {"shoe_size"},
        ),
        (
            {
                "sex": {"nested": 1},
                "birth_date": "1980-01-01",
                "consent_version": "v1",
                "consent_date": "2020-01-01",
            },
            {"sex"},
        ),
    ]
    for body, fields in cases:
        resp = api.call("api_donors_register", body)
        assert resp.status_code == 422, (body, resp.status_code)
        assert fields <= set(resp.json["errors"]), (body, resp.json)
    not_json = api.http.post("/api/v1/donors", headers=api.headers, data="sex=F")
    assert not_json.status_code == 400 and not_json.is_json
    session.expire_all()
    assert session.scalar(select(func.max(AuditEntry.id))) == before


def test_api_uses_the_same_permissions_as_the_screens(app, login_as):
    api = OpenApiClient(app.test_client(), token_for(login_as("clinical")))
    resp = api.call(
        "api_donors_register",
        {"sex": "F", "birth_date": "1980-01-01", "consent_version": "v1", "consent_date": "2020-01-01"},
    )
    assert resp.status_code == 403 and resp.is_json
