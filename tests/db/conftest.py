"""The db layer's fixtures: the shared database-backed ones, and users of each role."""

import pytest

from tests.fixtures import *  # noqa: F403


def _new_user(role: str):
    """A fixture giving a new active user of `role` (a second fixture of the same role gives another one)."""

    @pytest.fixture
    def user(make_user):
        return make_user(role)

    return user


tech = _new_user("technician")
tech2 = _new_user("technician")
qa = _new_user("qa")
qa2 = _new_user("qa")
