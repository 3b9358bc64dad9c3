"""The http layer's fixtures: the shared database-backed ones, and signed-in users of each role."""

import pytest

from bank.db import make_session_factory
from tests.factories import lots as lf
from tests.fixtures import *  # noqa: F403


@pytest.fixture
def tech(login_as):
    return login_as("technician")


@pytest.fixture
def qa(login_as):
    return login_as("qa")


@pytest.fixture
def qa2(login_as):
    return login_as("qa")


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
