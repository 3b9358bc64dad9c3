"""The db layer's fixtures: the shared database-backed ones, and users of each role."""

from tests.fixtures import *  # noqa: F403
from tests.fixtures import person

tech = person("technician")
tech2 = person("technician")
qa = person("qa")
qa2 = person("qa")
