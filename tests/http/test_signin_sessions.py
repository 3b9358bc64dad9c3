"""Sessions that end (issue 17): server-side rows, so a replayed cookie is refused after sign-out, and
password changes, resets, deactivation and the absolute lifetime end sessions; tokens follow resets."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from bank.clock import utcnow
from bank.models import ApiToken, User, UserSession
from bank.uow import Actor, unit_of_work
from tests.support import PASSWORD, WebClient, token_for

pytestmark = pytest.mark.requirement("ER-SESSIONS")


def _cookie(web: WebClient) -> str:
    return web.client.get_cookie("session").value


def _replay(app, cookie: str):
    """Another browser presenting a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/")


def _rows(session, user_id):
    session.expire_all()
    return session.scalars(
        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
    ).all()


def test_the_cookie_holds_a_random_id_stored_only_hashed(login_as, session):
    tech = login_as("technician")
    row = _rows(session, tech.user.id)[-1]
    with tech.client.session_transaction() as sess:
        sid = sess["sid"]
    assert set(sess.keys()) - {"_flashes", "_permanent"} <= {"sid", "csrf_token"}
    assert len(sid) >= 40 and sid not in row.token_hash


def test_a_cookie_replayed_after_sign_out_is_refused(app, login_as, session):
    tech = login_as("technician")
    cookie = _cookie(tech)
    assert _replay(app, cookie).status_code == 200
    tech.post("/logout")
    resp = _replay(app, cookie)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert _rows(session, tech.user.id)[-1].end_reason == "signed out"


def test_a_session_ends_at_its_absolute_lifetime_even_when_active(app, login_as, session):
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    qa = login_as("qa")
    row = _rows(session, qa.user.id)[-1]
    assert timedelta(hours=11, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=12)
    with unit_of_work(session, Actor(None, "test: twelve hours pass")):
        row.expires_at = utcnow() - timedelta(seconds=1)
    assert qa.get("/").status_code == 302
    assert _rows(session, qa.user.id)[-1].end_reason == "absolute lifetime reached"


def test_changing_ones_password_ends_the_other_sessions_but_not_this_one(app, make_user, session):
    user = make_user("technician")
    laptop, bench = WebClient(app.test_client()), WebClient(app.test_client())
    laptop.login(user.username)
    bench.login(user.username)
    laptop.get("/account/password")
    resp = laptop.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "Marrow-stroma-88", "confirm": "Marrow-stroma-88"},
    )
    assert resp.status_code == 302
    assert laptop.get("/").status_code == 200
    assert bench.get("/").status_code == 302
    assert [r.end_reason for r in _rows(session, user.id)] == [None, "password changed"]


def test_the_last_five_passwords_cannot_be_chosen_again(app, make_user):
    user = make_user("technician")
    web = WebClient(app.test_client())
    web.login(user.username)
    passwords = [PASSWORD, "Marrow-stroma-81", "Marrow-stroma-82", "Marrow-stroma-83", "Marrow-stroma-84"]
    for current, new in zip(passwords, passwords[1:], strict=False):
        web.get("/account/password")
        assert (
            web.post(
                "/account/password", {"current_password": current, "new_password": new, "confirm": new}
            ).status_code
            == 302
        )
    for old in passwords:
        web.get("/account/password")
        resp = web.post(
            "/account/password", {"current_password": passwords[-1], "new_password": old, "confirm": old}
        )
        assert resp.status_code == 200 and b"last 5 passwords" in resp.data, old
    web.get("/account/password")
    assert (
        web.post(
            "/account/password",
            {
                "current_password": passwords[-1],
                "new_password": "Marrow-stroma-85",
                "confirm": "Marrow-stroma-85",
            },
        ).status_code
        == 302
    )


def test_an_administrators_reset_ends_sessions_and_revokes_tokens(app, login_as, session):
    tech = login_as("technician")
    token = token_for(tech, "plate reader")
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/me", headers=bearer).status_code == 200
    admin = login_as("admin")
    admin.get(f"/admin/users/{tech.user.id}")
    assert admin.post(f"/admin/users/{tech.user.id}/reset-password").status_code == 302  # to the password
    assert api.get("/api/v1/me", headers=bearer).status_code == 401
    assert tech.get("/").status_code == 302
    session.expire_all()
    assert session.scalar(select(ApiToken).where(ApiToken.user_id == tech.user.id)).revoked_at is not None


def test_deactivation_revokes_tokens(app, login_as, session):
    tech = login_as("technician")
    token = token_for(tech, "plate reader")
    admin = login_as("admin")
    admin.get(f"/admin/users/{tech.user.id}")
    user = session.get(User, tech.user.id)
    session.refresh(user)
    resp = admin.post(
        f"/admin/users/{tech.user.id}",
        {
            "full_name": user.full_name,
            "roles": ["technician"],
            "version": str(user.version),
            "reason": "left",
        },
    )
    assert resp.status_code == 302
    assert (
        app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_a_user_who_must_change_the_password_cannot_use_the_api(app, login_as, session):
    tech = login_as("technician")
    token = token_for(tech, "plate reader")
    session.expire_all()
    with unit_of_work(session, Actor(None, "test: a forced change is pending")):
        session.get(User, tech.user.id).must_change_password = True
    resp = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403 and resp.is_json and "change its password" in resp.json["message"]


def test_a_user_lists_and_ends_their_other_sessions(app, make_user, session):
    user = make_user("qa")
    here, elsewhere = WebClient(app.test_client()), WebClient(app.test_client())
    elsewhere.login(user.username)
    here.login(user.username)
    page = here.get("/account/sessions")
    assert page.status_code == 200 and page.data.count(b"<tr><td>") == 2 and b"this session" in page.data
    assert here.post("/account/sessions/end-others").status_code == 302
    assert elsewhere.get("/").status_code == 302
    assert here.get("/").status_code == 200
    assert here.get("/account/sessions").data.count(b"<tr><td>") == 1


def test_nobody_ends_someone_elses_session_but_an_administrator(app, login_as, session):
    a, b = login_as("technician"), login_as("technician")
    row_b = _rows(session, b.user.id)[-1]
    a.get("/account/sessions")
    assert a.post(f"/account/sessions/{row_b.id}/end").status_code == 404
    assert b.get("/").status_code == 200
    admin = login_as("admin")
    page = admin.get(f"/admin/users/{b.user.id}")
    assert b"1 open session(s)" in page.data
    assert admin.post(f"/admin/users/{b.user.id}/end-sessions").status_code == 302
    assert b.get("/").status_code == 302
