"""The db layer's fixtures: the shared database-backed ones, and users of each role."""

import pytest

from tests.fixtures import *  # noqa: F403


@pytest.fixture
def tech(make_user):
    return make_user("technician")


@pytest.fixture
def tech2(make_user):
    return make_user("technician")


@pytest.fixture
def qa(make_user):
    return make_user("qa")


@pytest.fixture
def qa2(make_user):
    return make_user("qa")
