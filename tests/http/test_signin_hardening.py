"""Sign-in that leaks nothing and cannot lock others out (issue 17), and the smaller hardening: open
redirect, control characters, literal searches, HSTS, allowed hosts, the OpenAPI servers, SECRET_KEY
and private database files."""

import os
import stat
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

import bank.passwords
from bank.clock import utcnow
from bank.models import SignInAttempt, User
from bank.uow import Actor, unit_of_work
from tests.support import PASSWORD, browser_at

pytestmark = pytest.mark.requirement("ER-SESSIONS")


def _address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:6]}"


def _attempts(session, **where):
    session.expire_all()
    stmt = select(SignInAttempt).order_by(SignInAttempt.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(SignInAttempt, key) == value)
    return session.scalars(stmt).all()


def _age(session, user_id, minutes):
    """Move the user's lock and sign-in attempts `minutes` into the past (time passes)."""
    session.expire_all()
    with unit_of_work(session, Actor(None, f"test: {minutes} minutes pass")):
        user = session.get(User, user_id)
        user.locked_until -= timedelta(minutes=minutes)
        for a in session.scalars(select(SignInAttempt).where(SignInAttempt.user_id == user_id)):
            a.at -= timedelta(minutes=minutes)


def test_every_refusal_reads_the_same_and_costs_one_password_check(app, make_user, session, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_NAME", 100)
    active, gone, locked = make_user("qa"), make_user("qa"), make_user("qa")
    with unit_of_work(session, Actor(None, "test setup")):
        session.get(User, gone.id).is_active = False
        session.get(User, locked.id).locked_until = utcnow() + timedelta(minutes=5)
    checks = []
    real_verify = bank.passwords.verify_password
    monkeypatch.setattr(bank.passwords, "verify_password", lambda h, p: checks.append(h) or real_verify(h, p))
    monkeypatch.setattr("bank.users.verify_password", bank.passwords.verify_password)
    web = browser_at(app, _address())
    bodies = []
    for name, password in (
        ("nobody-" + uuid.uuid4().hex[:8], PASSWORD),
        (active.username, "Wrong-password-1"),
        (gone.username, PASSWORD),
        (locked.username, PASSWORD),
    ):
        before = len(checks)
        resp = web.post("/login", {"username": name, "password": password})
        assert resp.status_code == 401
        assert len(checks) - before == 1, f"one password verification for {name}"
        feedback = resp.get_data(as_text=True).split(
            'class="invalid-feedback d-block" data-field="password">'
        )[1]
        bodies.append(feedback.split("<")[0])
    assert len(set(bodies)) == 1 and bodies[0].startswith("Unknown user name or wrong password")
    assert [a.outcome for a in _attempts(session, address=web.client.environ_base["REMOTE_ADDR"])] == [
        "unknown_user",
        "wrong_password",
        "deactivated",
        "locked",
    ]


def test_the_lock_ends_by_itself_and_grows_after_each_new_failure(app, make_user, session, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_NAME", 100)
    user = make_user("clinical")
    web = browser_at(app, _address())
    for n in range(5):
        web.post("/login", {"username": user.username, "password": f"wrong-{n}-password"})
    session.expire_all()
    first = session.get(User, user.id)
    assert first.is_locked and first.locked_until - first.locked_at == timedelta(minutes=1)
    assert web.post("/login", {"username": user.username, "password": PASSWORD}).status_code == 401
    _age(session, user.id, 2)
    web.post("/login", {"username": user.username, "password": "wrong-again-password"})
    session.expire_all()
    again = session.get(User, user.id)
    assert again.is_locked and again.locked_until - again.locked_at == timedelta(minutes=2)
    _age(session, user.id, 3)
    assert web.post("/login", {"username": user.username, "password": PASSWORD}).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).failed_logins == 0


def test_administrators_see_locked_accounts_and_every_attempt(app, make_user, login_as, session, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_NAME", 100)
    user = make_user("clinical")
    address = _address()
    web = browser_at(app, address)
    ghost = "ghost-" + uuid.uuid4().hex[:8]
    web.post("/login", {"username": ghost, "password": "Anything-at-all-1"})
    for n in range(5):
        web.post("/login", {"username": user.username, "password": f"wrong-{n}-password"})
    admin = login_as("admin")
    users_page = admin.get("/admin/users").get_data(as_text=True)
    assert 'data-testid="locked-alert"' in users_page and user.username in users_page
    listed = admin.get(f"/admin/sign-in-attempts?address={address}").get_data(as_text=True)
    assert ghost in listed and "no such user" in listed and listed.count("wrong password") == 5
    assert login_as("technician").get("/admin/sign-in-attempts").status_code == 403


def test_failures_past_the_limit_per_name_are_throttled_with_retry_after(app, make_user, session):
    user = make_user("qa")
    for n in range(5):  # from five addresses: the name alone is counted
        browser_at(app, _address()).post(
            "/login", {"username": user.username, "password": f"wrong-{n}-password"}
        )
    resp = browser_at(app, _address()).post("/login", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 429 and 1 <= int(resp.headers["Retry-After"]) <= 60
    assert b"Too many failed sign-ins" in resp.data
    assert _attempts(session, username=user.username)[-1].outcome == "throttled"
    unknown = "nobody-" + uuid.uuid4().hex[:8]
    for n in range(5):
        browser_at(app, _address()).post("/login", {"username": unknown, "password": f"wrong-{n}-password"})
    assert (
        browser_at(app, _address()).post("/login", {"username": unknown, "password": "x"}).status_code == 429
    ), "an unknown name is throttled alike: the 429 tells nothing about the name"


def test_failures_past_the_limit_per_address_are_throttled(app, make_user):
    user = make_user("qa")
    web = browser_at(app, _address())
    for n in range(10):
        resp = web.post(
            "/login", {"username": f"guess{n}-{uuid.uuid4().hex[:6]}", "password": "Guessing-123"}
        )
        assert resp.status_code == 401
    resp = web.post("/login", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) >= 1
    assert (
        browser_at(app, _address())
        .post("/login", {"username": user.username, "password": PASSWORD})
        .status_code
        == 302
    )


def test_flask_users_unlock_lifts_the_lock(app, make_user, session):
    user = make_user("technician")
    with unit_of_work(session, Actor(None, "test setup")):
        locked = session.get(User, user.id)
        locked.failed_logins, locked.locked_at, locked.locked_until = (
            7,
            utcnow(),
            utcnow() + timedelta(hours=1),
        )
    out = app.test_cli_runner().invoke(args=["users", "unlock", user.username])
    assert out.exit_code == 0 and "unlocked" in out.output
    session.expire_all()
    unlocked = session.get(User, user.id)
    assert not unlocked.is_locked and unlocked.failed_logins == 0
    assert app.test_cli_runner().invoke(args=["users", "unlock", "no-such-user"]).exit_code == 2


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/%0d%0a/evil.example",
        "%2F%2Fevil.example",
    ],
)
def test_sign_in_never_redirects_to_another_site(app, make_user, target):
    user = make_user("qa")
    web = browser_at(app, _address())
    resp = web.post(f"/login?next={target}", {"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/", target


def test_sign_in_returns_to_a_page_of_this_site(app, make_user):
    user = make_user("qa")
    resp = browser_at(app, _address()).post(
        "/login?next=/audit/%3Fentity%3Dusers", {"username": user.username, "password": PASSWORD}
    )
    assert resp.headers["Location"] == "/audit/?entity=users"


def test_a_nul_byte_in_a_form_field_is_a_field_error(login_as):
    admin = login_as("admin")
    admin.get("/admin/users/new")
    resp = admin.post(
        "/admin/users/new", {"username": "ok.name", "full_name": "Jane\x00Tech", "roles": ["qa"]}
    )
    assert resp.status_code == 200 and b"control character" in resp.data
    resp = browser_at(admin.client.application, _address()).post(
        "/login", {"username": "a\x00b", "password": "x"}
    )
    assert resp.status_code == 200 and b"control character" in resp.data


def test_the_user_search_takes_percent_and_underscore_literally(login_as, make_user):
    admin = login_as("admin")
    make_user("qa", name="Plain Person")
    assert b"Plain Person" not in admin.get("/admin/users?q=%25").data
    assert b"Plain Person" not in admin.get("/admin/users?q=_").data
    assert b"Plain Person" in admin.get("/admin/users?q=plain").data


def test_hsts_only_when_cookies_are_https_only(app, monkeypatch):
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert "max-age=31536000" in app.test_client().get("/login").headers["Strict-Transport-Security"]


def test_other_host_headers_get_400_and_the_openapi_servers_ignore_the_host(app):
    client = app.test_client()
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/login", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/api/v1/openapi.json").json["servers"] == [{"url": "/"}]


def test_the_app_refuses_a_weak_secret_key_in_production(database_url, monkeypatch):
    from bank.app import create_app

    monkeypatch.setenv("BANK_ENV", "production")
    for key in ("x", "change-me", "a" * 31):
        with pytest.raises(ValueError, match="SECRET_KEY"):
            create_app({"DATABASE_URL": database_url, "SECRET_KEY": key})
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "k" * 40}).extensions["bank.engine"].dispose()
    monkeypatch.setenv("BANK_ENV", "development")
    create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"}).extensions["bank.engine"].dispose()


def test_the_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    from bank.app import create_app

    path = tmp_path / "private.sqlite3"
    create_app({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "s"}).extensions["bank.engine"].dispose()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
