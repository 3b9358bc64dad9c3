"""The database-backed fixtures of the db, http and browser layers (their conftests load them; the unit
layer never does, so it imports no database code): a migrated database (SQLite file by default,
PostgreSQL when TEST_DATABASE_URL is set), sessions, an app, users in each role, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from bank.db import make_engine, make_session_factory
from bank.migrate import upgrade
from bank.uow import Actor, unit_of_work
from bank.users import create_user
from tests.support import OWNER_URLS, PASSWORD, WebClient, new_database, unique


@pytest.fixture
def owner_url() -> Callable[[str], str]:
    """The URL of the role that owns a test database (the same URL unless the tests run as the app role)."""
    return lambda url: OWNER_URLS.get(url, url)


@pytest.fixture
def stopped_clock(monkeypatch):
    """The one clock (bank.clock) stopped at the moment the fixture starts, for a test that compares two
    readings of the same pages: a time-bound state left in the shared database by another test (a
    one-minute account lock, a dose due tomorrow) cannot run out between two readings and pass for a
    difference between them. Returns the stopped moment (aware UTC)."""
    from datetime import datetime

    from bank import clock

    moment = clock.utcnow()

    class Stopped(datetime):
        @classmethod
        def now(cls, tz=None):
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    monkeypatch.setattr(clock, "datetime", Stopped)
    return moment


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
    url, drop = new_database(tmp_path_factory)
    upgrade(url)
    yield url
    drop()


@pytest.fixture
def fresh_database(tmp_path_factory) -> Iterator[Callable[[bool], str]]:
    """Factory for an isolated database (migrated unless told otherwise), dropped after the test."""
    drops = []

    def make(migrated: bool = True) -> str:
        url, drop = new_database(tmp_path_factory)
        drops.append(drop)
        if migrated:
            upgrade(url)
        return url

    yield make
    for drop in drops:
        drop()


@contextmanager
def session_on(url: str, connections: int | None = None) -> Iterator:
    """A session on an engine of its own for the database at `url` (with a pool of `connections` on
    PostgreSQL, for tests that open one per thread); closed, and the engine disposed, afterwards."""
    engine = make_engine(
        url, **({"pool_size": connections} if connections and url.startswith("postgresql") else {})
    )
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.close()
        engine.dispose()


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


def user_maker(session) -> Callable[..., object]:
    """A function that creates an active user with the given roles (password PASSWORD, no forced change)
    in `session`; the make_user fixture on the shared session, or on a test's own."""

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


def person(role: str, maker: str = "make_user"):
    """A fixture giving a new person of `role` from the `maker` fixture: a user (make_user) or a client signed
    in as one (login_as). Two fixtures of the same role give two different people."""

    @pytest.fixture
    def new_person(request):
        return request.getfixturevalue(maker)(role)

    return new_person


@pytest.fixture
def make_user(session) -> Callable[..., object]:
    """Create an active user with the given roles (password PASSWORD, no forced change)."""
    return user_maker(session)


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


@pytest.fixture
def staff(make_user):
    """One user of each role the dose and custody workflows need (tests.factories.doses.Staff)."""
    from tests.factories.doses import Staff

    return Staff(make_user)


@pytest.fixture
def own_database(fresh_database):
    """(session, staff) on a database of its own, for tests that must not see the records other tests left in
    the shared one (first-expiry-first-out, a year's counts)."""
    from tests.factories.doses import Staff

    with session_on(fresh_database()) as session:
        yield session, Staff(user_maker(session))
