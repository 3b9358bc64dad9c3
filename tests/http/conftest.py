"""The http layer's fixtures: the shared database-backed ones, and signed-in users of each role."""

import pytest

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
