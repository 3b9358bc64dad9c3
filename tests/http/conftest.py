"""The http layer's fixtures: the shared database-backed ones, signed-in users of each role, a session on
the app's engine, an unverified bench (lot, isolation, two passages) and the demo facility."""

import pytest

from bank.db import make_session_factory
from tests.factories import lots as lf
from tests.fixtures import *  # noqa: F403
from tests.fixtures import person
from tests.support import DEMO_PASSWORD, first_started, new_database

# Clients signed in as new people of each role.
tech = person("technician", "login_as")
qa = person("qa", "login_as")
qa2 = person("qa", "login_as")


@pytest.fixture
def db_session(app):
    """A session on the app's own engine, for setting up records the app's requests then see."""
    s = make_session_factory(app.extensions["bank.engine"])()
    yield s
    s.close()


@pytest.fixture
def bench(db_session, make_user):
    """A lot with an isolation and two passages entered by a technician, none verified: the technician,
    the lot, the entries and their `kind:id` keys."""
    tech, qa = make_user("technician"), make_user("qa")
    lot, entries = lf.unverified_bench(db_session, tech, qa)
    keys = [f"isolation:{entries[0].id}", *(f"passage:{p.id}" for p in entries[1:])]
    return tech, lot, entries, keys


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    """The demo facility, one per test module: a new database, the first start, then `flask demo` (every
    person's password DEMO_PASSWORD); the command's output is kept as `demo_app.demo_output`."""
    from bank.migrate import upgrade

    url, drop = new_database(tmp_path_factory)
    upgrade(url)
    app, _ = first_started(
        {"DATABASE_URL": url, "SECRET_KEY": "demo"}, "Demo-start-2026", with_demo_command=True
    )
    result = app.test_cli_runner().invoke(args=["demo", "--password", DEMO_PASSWORD])
    assert result.exit_code == 0, result.output + repr(result.exception)
    app.demo_output = result.output
    yield app
    app.extensions["bank.engine"].dispose()
    drop()
