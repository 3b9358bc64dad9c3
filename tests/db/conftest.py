"""The db layer's fixtures: the shared database-backed ones."""

from tests.fixtures import *  # noqa: F403
