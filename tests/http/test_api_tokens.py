"""API tokens (issue 8): created and revoked by the user, hashed at rest, same permissions as the UI."""

from sqlalchemy import select

from bank.models import ApiToken
from tests.support import token_for


def test_token_is_shown_once_stored_hashed_and_authenticates(login_as, app, session):
    tech = login_as("technician")
    token = token_for(tech, "flow cytometer")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == tech.user.id))
    assert token not in (row.token_hash, row.prefix) and row.token_hash != token
    api = app.test_client()
    resp = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    assert resp.json["username"] == tech.user.username and "lot.edit" in resp.json["permissions"]
    assert "lot.release" not in resp.json["permissions"]


def test_missing_wrong_or_revoked_token_gets_401_json(login_as, app, session):
    tech = login_as("technician")
    token = token_for(tech, "flow cytometer")
    api = app.test_client()
    assert api.get("/api/v1/me").status_code == 401
    bad = api.get("/api/v1/me", headers={"Authorization": "Bearer msc_not-a-real-token"})
    assert bad.status_code == 401 and bad.is_json
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == tech.user.id))
    tech.get("/account/tokens/")
    tech.post(f"/account/tokens/{row.id}/revoke")
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_browser_session_cookie_does_not_authenticate_the_api(login_as):
    tech = login_as("technician")
    assert tech.get("/api/v1/me").status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(login_as, session):
    a, b = login_as("technician"), login_as("qa")
    token_for(a, "flow cytometer")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == a.user.id))
    b.get("/account/tokens/")
    assert b.post(f"/account/tokens/{row.id}/revoke").status_code == 404


def test_openapi_document_is_served_and_describes_the_endpoints(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/me" in doc["paths"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_unknown_api_path_is_json_404(login_as, app):
    tech = login_as("technician")
    token = token_for(tech, "flow cytometer")
    resp = app.test_client().get("/api/v1/nothing-here", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 404 and resp.is_json


def test_a_nul_character_in_a_search_is_refused_plainly(login_as, app):
    """PostgreSQL text cannot hold NUL: a search with one is a 400, never a database error."""
    tech = login_as("technician")
    token = token_for(tech, "flow cytometer")
    for path in ("/api/v1/containers?din=%00", "/api/v1/lots?q=G1%00", "/api/v1/donors?q=%00"):
        resp = app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 400 and resp.is_json, path
    assert tech.get("/donors/?q=%00").status_code == 400
