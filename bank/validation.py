"""Validation evidence (issue 23): the installation checks, and the report that traces every requirement
to the tests that prove it and their result in this run, as PDF and HTML with its own digest.

`bin/validate` runs it all: the installation checks against the configured database, the whole test
suite as the operational qualification (pytest writes each test's outcome and requirements, see
tests/conftest.py), then `flask validation report`. A site adds its performance qualification by filling
in the blank template at the end of the report.
"""

from __future__ import annotations

import html
import platform
import sys
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bank.clock import utc_text, utcnow
from bank.digest import content_digest
from bank.i18n import localize, t
from bank.languages import language
from bank.pdf import Document, KeyValueSection, TableSection, TextSection, build_document
from bank.permissions import ROLE_PERMISSIONS, ROLES
from bank.requirements import Requirements, load, rule_ids_in_code, rules_of

DEPENDENCIES = (
    "Flask", "Flask-WTF", "Flask-Babel", "WTForms", "SQLAlchemy", "alembic", "argon2-cffi", "psycopg",
    "reportlab", "python-stdnum", "zxing-cpp", "numpy", "gunicorn", "Babel",
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def _versions() -> list[tuple[str, str]]:
    found = [("Python", platform.python_version())]
    for name in DEPENDENCIES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "missing"))
    return found


def _migrations(engine: Engine) -> Check:
    from bank.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return Check(
        t("Database schema at the latest migration"),
        current == head,
        t("database %(current)s, code %(head)s", current=current, head=head),
    )


# The triggers bank.triggers.create_append_only makes on each append-only table, by database.
GUARDS = {
    "postgresql": ("{table}_append_only", "{table}_no_truncate"),
    "sqlite": ("{table}_no_update", "{table}_no_delete"),
}


def _triggers(engine: Engine, tables: list[str]) -> Check:
    """Every append-only table has each of its guarding triggers, enabled (an UPDATE, DELETE or TRUNCATE
    is refused whatever role issues it)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # The application's schema only: other schemas of the same database may hold tables and
            # triggers of the same names.
            rows = conn.execute(
                text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgenabled <> 'D'"
                )
            )
        else:
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        present = {r[0] for r in rows}
    names = GUARDS.get(engine.dialect.name, GUARDS["sqlite"])
    missing = sorted({table for table in tables for name in names if name.format(table=table) not in present})
    return Check(
        t("Append-only tables guarded by triggers"),
        not missing,
        t("missing on: %(tables)s", tables=", ".join(missing))
        if missing
        else t("%(count)s tables guarded", count=len(tables)),
    )


def _audit_chain(session, anchor_dir: Path | None) -> Check:
    from bank.integrity import verify_all

    verdict = verify_all(session, anchor_dir)
    return Check(
        t("Audit chain verifies (keys, last checkpoint, completeness)"),
        verdict.ok,
        "; ".join(str(f) for f in verdict.findings[:5]) or t("no break found"),
    )


def _configuration(config: dict) -> list[Check]:
    from bank.config import MIN_SECRET_KEY_LENGTH

    return [
        Check(t("Environment"), True, config.get("BANK_ENV", "production")),
        Check(
            t("SECRET_KEY long enough"),
            len(str(config.get("SECRET_KEY") or "")) >= MIN_SECRET_KEY_LENGTH,
            t("at least %(count)s characters", count=MIN_SECRET_KEY_LENGTH),
        ),
        Check(t("AUDIT_KEY set and distinct"), bool(config.get("AUDIT_KEY")) and config.get("AUDIT_KEY") != config.get("SECRET_KEY"), t("kept outside the database")),
        Check(t("Facility time zone"), bool(config.get("FACILITY_TIMEZONE")), str(config.get("FACILITY_TIMEZONE"))),
        Check(t("Database"), True, make_url_safe(config.get("DATABASE_URL", ""))),
    ]  # fmt: skip


def make_url_safe(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unreadable URL is shown as unreadable, not raised
        return t("(unreadable URL)")


def installation_checks(app) -> tuple[list[Check], list[tuple[str, str]]]:
    """The installation qualification against the application's configured database."""
    engine = app.extensions["bank.engine"]
    requirements = load()
    checks = [
        Check(t("Python 3.11 or later"), sys.version_info >= (3, 11), platform.python_version()),
        *(
            Check(t("%(name)s installed", name=name), version != "missing", version)
            for name, version in _versions()[1:]
        ),
        *_configuration(app.config),
    ]
    if not inspect(engine).has_table("alembic_version"):
        checks.append(
            Check(t("Database schema at the latest migration"), False, t("no schema: run `flask init`"))
        )
        return checks, _versions()
    checks.append(_migrations(engine))
    checks.append(_triggers(engine, list(requirements.installation.get("append_only_tables", []))))
    session = app.extensions["bank.sessions"]()
    try:
        checks.append(_audit_chain(session, Path(app.config["AUDIT_ANCHOR_DIR"])))
    finally:
        session.close()
    return checks, _versions()


# ---- the report -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceLine:
    requirement: str
    title: str
    anchor: str
    rules: int
    tests: list[tuple[str, str]]  # (test id, outcome)

    @property
    def result(self) -> str:
        outcomes = {o for _, o in self.tests}
        if not self.tests:
            return "NO TEST"
        if "failed" in outcomes:
            return "FAIL"
        if "passed" in outcomes:
            return "PASS"
        return "NOT RUN"


def trace(requirements: Requirements, results: dict) -> list[TraceLine]:
    rule_ids = rule_ids_in_code()
    lines = []
    for req in requirements.items:
        tests = sorted((nodeid, r["outcome"]) for nodeid, r in results.items() if req.id in r["requirements"])
        lines.append(TraceLine(req.id, req.title, req.anchor, len(rules_of(req, rule_ids)), tests))
    return lines


def _summary(results: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    return counts


PQ_ROWS = 8  # blank lines of the performance qualification template


def report_content(
    checks: list[Check], versions, lines: list[TraceLine], results: dict, when: datetime
) -> dict:
    """The report's data: what both the PDF and the HTML show, and what its digest is computed from."""
    return {
        "report": "validation report",
        "date": utc_text(when),
        "environment": dict(versions) | {"platform": platform.platform()},
        "installation": [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
        "roles": dict(role_table()),
        "tests": _summary(results),
        "trace": [
            {
                "requirement": ln.requirement,
                "anchor": ln.anchor,
                "rules": ln.rules,
                "tests": [f"{nodeid} {outcome}" for nodeid, outcome in ln.tests],
                "result": ln.result,
            }
            for ln in lines
        ],
    }


def passed(content: dict) -> bool:
    return all(c["ok"] for c in content["installation"]) and all(
        x["result"] == "PASS" for x in content["trace"]
    )


def _short(tests: list[tuple[str, str]]) -> str:
    """The tests of one requirement in a line: test files with how many of their tests passed."""
    per_file: dict[str, list[str]] = {}
    for nodeid, outcome in tests:
        per_file.setdefault(nodeid.split("::")[0], []).append(outcome)
    return "; ".join(
        f"{name} ({outcomes.count('passed')}/{len(outcomes)} passed)"
        for name, outcomes in sorted(per_file.items())
    )


def pdf_report(content: dict, lines: list[TraceLine], facility: str, when: datetime) -> bytes:
    verdict = t("PASSED") if passed(content) else t("NOT PASSED")
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(content["tests"].items()))
    doc = Document(
        title=t("Validation report: installation and operational qualification"),
        facility=facility,
        reference=content["date"],
        content=content,
        printed_at=when,
        sections=[
            TextSection(
                t("Summary"),
                t(
                    "Result: %(verdict)s. Installation checks: %(ok)s of %(total)s passed. Tests run: %(summary)s. "
                    "Requirements traced: %(traced)s, each with its anchor, tests and result below. "
                    "The content SHA-256 in every footer identifies this report.",
                    verdict=verdict,
                    ok=sum(1 for c in content["installation"] if c["ok"]),
                    total=len(content["installation"]),
                    summary=summary,
                    traced=len(lines),
                ),
            ),
            TableSection(
                t("Approval"),
                [t("Role"), t("Printed name"), t("Signature"), t("Date")],
                [[t("Validation lead"), "", "", ""], [t("Quality assurance"), "", "", ""], [t("System owner"), "", "", ""]],
                widths=[2, 3, 3, 2],
            ),
            KeyValueSection(t("Environment"), list(content["environment"].items())),
            TableSection(
                t("Installation qualification"),
                [t("Installation check"), t("Result"), t("Details")],
                [[c["check"], t("pass") if c["ok"] else t("FAIL"), c["detail"]] for c in content["installation"]],
                widths=[4, 1, 5],
            ),
            TableSection(
                t("Roles and their permissions"),
                [t("Role"), t("Permissions")],
                [[role, permissions] for role, permissions in content["roles"].items()],
                widths=[1, 5],
            ),
            TableSection(
                t("Traceability matrix: requirement, anchor, tests, result of this run"),
                [t("Requirement"), t("Anchor"), t("Rules"), t("Tests"), t("Result")],
                [[f"{ln.requirement}: {ln.title}", ln.anchor, str(ln.rules), _short(ln.tests), ln.result] for ln in lines],
                widths=[3.9, 1.9, 1.05, 3.8, 1.25],
            ),
            TableSection(
                t("Performance qualification (the site's own scenarios)"),
                [t("Scenario"), t("Expected result"), t("Actual result"), t("Pass / fail"), t("Initials, date")],
                [["", "", "", "", ""] for _ in range(PQ_ROWS)],
                widths=[3, 3, 3, 1, 1.5],
            ),
        ],
    )  # fmt: skip
    return build_document(doc)


def html_report(content: dict, lines: list[TraceLine], facility: str) -> str:
    """The same report as HTML, in the facility's language (the PDF's headings, one table each)."""
    digest = content_digest(content)

    def e(value) -> str:
        return html.escape(str(localize(value)))

    def table(columns, rows) -> str:
        head = "".join(f"<th>{e(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    trace_rows = [
        [
            f"<strong>{e(ln.requirement)}</strong> {e(ln.title)}",
            e(ln.anchor),
            str(ln.rules),
            "<br>".join(html.escape(f"{n} {o}") for n, o in ln.tests),
            f"<span class='{e(ln.result).replace(' ', '-')}'>{e(ln.result)}</span>",
        ]
        for ln in lines
    ]
    sections = [
        (t("Approval"), table([t("Role"), t("Printed name"), t("Signature"), t("Date")],
                              [[e(t("Validation lead")), "", "", ""], [e(t("Quality assurance")), "", "", ""], [e(t("System owner")), "", "", ""]])),
        (t("Environment"), table([t("Component"), t("Version")], [[e(k), e(v)] for k, v in content["environment"].items()])),
        (t("Installation qualification"), table([t("Installation check"), t("Result"), t("Details")],
                                                [[e(c["check"]), e(t("pass") if c["ok"] else t("FAIL")), e(c["detail"])] for c in content["installation"]])),
        (t("Roles and their permissions"), table([t("Role"), t("Permissions")], [[e(k), e(v)] for k, v in content["roles"].items()])),
        (t("Traceability matrix: requirement, anchor, tests, result of this run"),
         table([t("Requirement"), t("Anchor"), t("Rules"), t("Tests"), t("Result")], trace_rows)),
        (t("Performance qualification (the site's own scenarios)"),
         table([t("Scenario"), t("Expected result"), t("Actual result"), t("Pass / fail"), t("Initials, date")], [[""] * 5] * PQ_ROWS)),
    ]  # fmt: skip
    verdict = t("PASSED") if passed(content) else t("NOT PASSED")
    title = t("Validation report: installation and operational qualification")
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(content["tests"].items()))
    body = "".join(f"<h2>{e(heading)}</h2>{html_table}" for heading, html_table in sections)
    return f"""<!doctype html>
<html lang="{e(language())}"><head><meta charset="utf-8"><title>{e(title)} · {e(facility)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%;margin-bottom:1.5em}}
td,th{{border:1px solid #999;padding:4px;vertical-align:top;font-size:12px;text-align:left}}
.FAIL,.NO-TEST,.NOT-RUN{{background:#f8d7da;font-weight:bold}}.PASS{{background:#d1e7dd}}td:empty{{height:2em}}</style>
</head><body><h1>{e(title)}</h1>
<p>{e(facility)} · {e(content["date"])} · <strong>{e(verdict)}</strong> · {e(summary)}</p>
<p>{e(t("Content SHA-256"))}: <code>{digest}</code></p>
{body}</body></html>
"""


def write_report(app, results_path: Path, out_dir: Path) -> tuple[dict, Path, Path]:
    """The report of this run, written as validation-report.pdf and .html in `out_dir`."""
    import json

    results = json.loads(results_path.read_text(encoding="utf-8"))
    checks, versions = installation_checks(app)
    when = utcnow()
    lines = trace(load(), results)
    content = report_content(checks, versions, lines, results, when)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path, html_path = out_dir / "validation-report.pdf", out_dir / "validation-report.html"
    pdf_path.write_bytes(pdf_report(content, lines, app.config["FACILITY_NAME"], when))
    html_path.write_text(html_report(content, lines, app.config["FACILITY_NAME"]), encoding="utf-8")
    return content, pdf_path, html_path


def role_table() -> list[tuple[str, str]]:
    """The role -> permission table, as the report's environment shows it."""
    return [(role, ", ".join(sorted(ROLE_PERMISSIONS[role]))) for role in ROLES]
