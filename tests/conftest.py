"""Settings for every test layer. Database fixtures live in tests/fixtures.py, loaded by the db, http and
browser conftests only: the unit layer imports no database code (tests/unit/test_layering.py)."""

import os
import re

from bank.passwords import use_cheap_hashing

# Tests create apps with short throwaway SECRET_KEYs; outside development/testing the app refuses them.
os.environ.setdefault("BANK_ENV", "testing")

# Cheap argon2 parameters for every test (tests/unit/test_passwords.py checks the production cost).
use_cheap_hashing()


# ---- requirements traced to tests (validation/requirements.toml, bin/validate) -------------------------


def pytest_addoption(parser):
    parser.addoption(
        "--requirements-results",
        metavar="PATH",
        help="write each test's outcome and the requirements it proves as JSON (bin/validate reads it)",
    )


def pytest_collection_modifyitems(config, items):
    from bank.requirements import load

    known = load().ids
    unknown = sorted(
        {rid for item in items for mark in item.iter_markers("requirement") for rid in mark.args} - known
    )
    if unknown:
        import pytest

        raise pytest.UsageError(f"requirement marker names no requirement: {', '.join(unknown)}")


_outcomes: dict = {}


def pytest_runtest_logreport(report):
    entry = _outcomes.setdefault(report.nodeid, {"outcome": "not run", "requirements": []})
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and entry["outcome"] != "failed":
        entry["outcome"] = "skipped"
    elif report.when == "call" and report.passed and entry["outcome"] == "not run":
        entry["outcome"] = "passed"


def pytest_itemcollected(item):
    ids = sorted({rid for mark in item.iter_markers("requirement") for rid in mark.args})
    _outcomes.setdefault(item.nodeid, {"outcome": "not run", "requirements": []})["requirements"] = ids


def pytest_sessionfinish(session, exitstatus):
    found = developer_words(_REFUSAL_MESSAGES)
    if found and exitstatus == 0 and len(session.items) > 200:  # the whole suite, not a single file
        print(
            "\nRefusal messages with developer words (Python reprs, field names):\n" + "\n".join(found[:40])
        )
        session.exitstatus = 1
    path = session.config.getoption("--requirements-results")
    if path:
        import json
        from pathlib import Path

        Path(path).write_text(json.dumps(_outcomes, indent=1, sort_keys=True), encoding="utf-8")


# ---- plain words: no refusal a test provokes shows developer words (issue 24) -------------------------

_DEVELOPER_WORDS = re.compile(
    r"\[\d+(, ?\d+)*\]"  # a Python list of ids
    r"|\{['\"]"  # a dict
    r"|\b[a-z]+(_[a-z]+)+=\S"  # field_name=value
    r"|Decimal\(|datetime\.|\bNone\b|<\w+ object at"
)
_REFUSAL_MESSAGES: set[str] = set()


def _record_refusal_messages():
    from bank.refusals import Refused

    original = Refused.__init__

    def recording(self, errors=None, problems=()):
        original(self, errors, problems)
        for message in self.messages():
            _REFUSAL_MESSAGES.add(str(message))

    Refused.__init__ = recording


_record_refusal_messages()


def developer_words(messages) -> list[str]:
    return sorted(m for m in messages if _DEVELOPER_WORDS.search(m))
