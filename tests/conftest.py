"""Settings for every test layer. Database fixtures live in tests/fixtures.py, loaded by the db, http and
browser conftests only: the unit layer imports no database code (tests/unit/test_layering.py)."""

import os

from bank.passwords import use_cheap_hashing

# Tests create apps with short throwaway SECRET_KEYs; outside development/testing the app refuses them.
os.environ.setdefault("BANK_ENV", "testing")

# Cheap argon2 parameters for every test (tests/unit/test_passwords.py checks the production cost).
use_cheap_hashing()
