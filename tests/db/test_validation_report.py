"""Issue 23: the validation report, read back as a validation lead would: every requirement on one line
with its anchor, tests and result of the run; the installation checks pass on a migrated database and
fail when a guard is missing; the report states its own digest in every footer and in the HTML."""

from __future__ import annotations

import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from bank.digest import content_digest
from bank.requirements import load
from bank.validation import installation_checks, write_report

pytestmark = pytest.mark.requirement("VAL-TRACE")


@pytest.fixture
def site(fresh_database, owner_url, tmp_path):
    from bank.app import create_app

    url = fresh_database()
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "validation-" + "k" * 40,
            "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors"),
            "FACILITY_NAME": "Validation Unit",
        }
    )
    yield app, owner_url(url)
    app.extensions["bank.engine"].dispose()


def _results(tmp_path, failing: str | None = None):
    """A run's results as pytest writes them (tests/conftest.py): one passing test per requirement, and
    one failing test for `failing`."""
    results = {
        f"tests/unit/test_x.py::test_{r.id.lower().replace('-', '_')}": {
            "outcome": "passed",
            "requirements": [r.id],
        }
        for r in load().items
    }
    if failing:
        results["tests/db/test_y.py::test_broken"] = {"outcome": "failed", "requirements": [failing]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    return path


def _pdf_text(path) -> tuple[str, list[str]]:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    pages = [p.extract_text() for p in reader.pages]
    return "\n".join(pages), pages


def test_the_installation_checks_pass_on_a_migrated_database(site):
    app, _ = site
    with app.app_context():
        checks, versions = installation_checks(app)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = {c.name for c in checks}
    assert {"Database schema at the latest migration", "Append-only tables guarded by triggers"} <= names
    assert dict(versions)["Python"]


def test_the_report_traces_every_requirement_to_its_tests_and_states_its_digest(site, tmp_path):
    app, _ = site
    with app.app_context():
        content, pdf_path, html_path = write_report(
            app, _results(tmp_path, failing="DOS-LABELS"), tmp_path / "out"
        )
    digest = content_digest(content)
    whole, pages = _pdf_text(pdf_path)
    assert all(f"Content SHA-256: {digest}" in page for page in pages)
    assert re.search(r"Page 1 of \d+", pages[0])
    flat = " ".join(whole.split())
    for requirement in load().items:
        assert requirement.id in flat
    assert "21 CFR 11.10(e)" in flat and "ISBT 128 ST-001" in flat
    labels = next(x for x in content["trace"] if x["requirement"] == "DOS-LABELS")
    assert labels["result"] == "FAIL" and "tests/db/test_y.py::test_broken failed" in labels["tests"]
    assert next(x for x in content["trace"] if x["requirement"] == "ER-TIME")["result"] == "PASS"
    assert "NOT PASSED" in flat and "Performance qualification" in flat and "Approval" in flat
    assert "Roles and their permissions" in flat and "technician" in flat
    page = html_path.read_text()
    assert digest in page and "DOS-LABELS" in page and "<span class='FAIL'>FAIL</span>" in page


def test_a_missing_trigger_fails_the_installation_checks(site):
    app, owner = site
    engine = app.extensions["bank.engine"]
    from sqlalchemy import create_engine

    with create_engine(owner).begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER custody_events_append_only ON custody_events"))
        else:
            conn.execute(text("DROP TRIGGER custody_events_no_update"))
            conn.execute(text("DROP TRIGGER custody_events_no_delete"))
    with app.app_context():
        checks, _ = installation_checks(app)
    guard = next(c for c in checks if c.name == "Append-only tables guarded by triggers")
    assert not guard.ok and "custody_events" in guard.detail
