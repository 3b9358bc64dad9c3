"""Shared fixtures: a migrated database (SQLite file by default, PostgreSQL when TEST_DATABASE_URL is
set), sessions, an app, users in each role, and a test client that carries CSRF tokens like a browser."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from bank.db import make_engine, make_session_factory
from bank.migrate import upgrade
from bank.passwords import use_cheap_hashing
from bank.uow import Actor, unit_of_work
from bank.users import actor_for, create_user

PASSWORD = "Correct-horse-42"

# Tests create apps with short throwaway SECRET_KEYs; outside development/testing the app refuses them.
os.environ.setdefault("BANK_ENV", "testing")

# Cheap argon2 parameters for every test (tests/unit/test_passwords.py checks the production cost).
use_cheap_hashing()


OWNER_URLS: dict[str, str] = {}  # the application's URL of a test database → its owner's (PostgreSQL)


def _new_database(tmp_path_factory) -> tuple[str, Callable[[], None]]:
    """An empty database: a new SQLite file, or a new schema on the PostgreSQL test server. With
    TEST_DATABASE_APP_URL (.ci/run) the schema is made and migrated by TEST_DATABASE_URL's role, its
    owner, and the URL handed back is the application's restricted role's (bank.roles)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path_factory.mktemp("db") / "bank.sqlite3"
        return f"sqlite:///{path}", lambda: None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(base)
    with admin.begin() as conn:
        # Once per server, in public: made inside a test schema, the extension would go with that schema.
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    app_base = os.environ.get("TEST_DATABASE_APP_URL")
    if app_base:
        from bank.migrate import upgrade_site

        owner_url = url
        url = f"{app_base}{'&' if '?' in app_base else '?'}options=-csearch_path%3D{schema}"
        upgrade_site(url, owner_url)
        OWNER_URLS[url] = owner_url

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, drop


@pytest.fixture
def owner_url() -> Callable[[str], str]:
    """The URL of the role that owns a test database (the same URL unless the tests run as the app role)."""
    return lambda url: OWNER_URLS.get(url, url)


TEST_AUDIT_KEY = "test-audit-key-" + "k" * 32


@pytest.fixture(scope="session", autouse=True)
def audit_key():
    """The audit chain's key for sessions made outside an app (an app installs its own: bank.anchors)."""
    from bank import auditkey

    return auditkey.install(TEST_AUDIT_KEY)


@pytest.fixture(scope="session", autouse=True)
def wired_domains():
    """Cross-domain receivers connected, as the app factory and the CLI do (bank.app.wire_domains)."""
    from bank.app import wire_domains

    wire_domains()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    url, drop = _new_database(tmp_path_factory)
    upgrade(url)
    yield url
    drop()


@pytest.fixture
def fresh_database(tmp_path_factory) -> Iterator[Callable[[bool], str]]:
    """Factory for an isolated database (migrated unless told otherwise), dropped after the test."""
    drops = []

    def make(migrated: bool = True) -> str:
        url, drop = _new_database(tmp_path_factory)
        drops.append(drop)
        if migrated:
            upgrade(url)
        return url

    yield make
    for drop in drops:
        drop()


@pytest.fixture(scope="session")
def engine(database_url):
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    s = make_session_factory(engine)()
    yield s
    s.rollback()
    s.close()


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_user(session) -> Callable[..., object]:
    """Create an active user with the given roles (password PASSWORD, no forced change)."""

    def make(*roles: str, unblinded: bool = False, name: str | None = None):
        username = unique("u")
        with unit_of_work(session, Actor(None, "test setup")):
            user = create_user(
                session,
                username,
                name or f"Test {' '.join(roles).title()} {username[-4:]}",
                list(roles),
                PASSWORD,
                unblinded=unblinded,
                must_change_password=False,
            )
        return user

    return make


def as_actor(user) -> Actor:
    return actor_for(user)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from bank.app import create_app

    application = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret",
            "TESTING": False,
            "FACILITY_FIN": "G1234",
            "FACILITY_NAME": "Test Cell Therapy Unit",
        }
    )
    yield application
    application.extensions["bank.engine"].dispose()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebClient:
    """A Flask test client that behaves like a browser: it keeps the CSRF token of the last page."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, url, **kw):
        resp = self.client.get(url, **kw)
        m = CSRF_RE.search(resp.get_data(as_text=True))
        if m:
            self.token = m.group(1)
        return resp

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        return self.client.post(url, data=data, **kw)

    def login(self, username, password=PASSWORD):
        self.get("/login")
        resp = self.post("/login", {"username": username, "password": password})
        self.get("/")
        return resp


@pytest.fixture
def web(app) -> WebClient:
    return WebClient(app.test_client())


@pytest.fixture
def login_as(app, make_user) -> Callable[..., WebClient]:
    """A signed-in client for a new user with the given roles."""

    def make(*roles: str, unblinded: bool = False):
        user = make_user(*roles, unblinded=unblinded)
        client = WebClient(app.test_client())
        client.login(user.username)
        client.user = user
        return client

    return make
