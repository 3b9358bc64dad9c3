"""`audit verify` (21 CFR 11.10(e); EU GMP Annex 11 §7, §9): the keyed chain, the chain against its last
checkpoint outside the database, and completeness — every current record of every audited table is what
its trail rebuilds, so a row inserted, changed or deleted by SQL behind the application's back is named."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank import anchors
from bank.audit import _SKIP_FIELDS, verify_chain
from bank.db import Base
from bank.digest import plain
from bank.i18n import localize, t
from bank.models import Audited, AuditEntry


@dataclass(frozen=True)
class Finding:
    kind: str  # link, content, key, legacy, tip, lost-rows, rewritten, checkpoint-…, unaudited-…
    where: str  # "audit row 12", "users 7 full_name", "checkpoint …"
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.where}: {self.message}"

    def localized(self) -> str:
        """The finding in the reader's language (the kind stays the stable word it is)."""
        return f"[{self.kind}] {localize(self.where)}: {localize(self.message)}"


@dataclass(frozen=True)
class Verdict:
    checked: int
    findings: list[Finding]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.findings


def audited_mappers():
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, Audited) and mapper.inherits is None:
            yield mapper


def _same(current, recorded) -> bool:
    now = plain(current)
    if now == recorded:
        return True
    if isinstance(current, Decimal) and isinstance(recorded, str):
        try:
            return Decimal(recorded) == current
        except InvalidOperation:
            return False
    if isinstance(current, float) and isinstance(recorded, str):
        try:
            return float(recorded) == current
        except ValueError:
            return False
    if isinstance(current, dict | list) and isinstance(recorded, str):
        try:  # JSON values were recorded as their Python text; PostgreSQL may hand the keys back reordered
            return ast.literal_eval(recorded) == current
        except (ValueError, SyntaxError):
            return False
    return False


def _rebuilt_from_trail(session: Session, table: str) -> dict[str, dict]:
    """Each record of the table as its insert and every later change in the trail leave it."""
    rebuilt: dict[str, dict] = {}
    trail = session.execute(
        select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.changes)
        .where(AuditEntry.entity == table, AuditEntry.action.in_(("insert", "update", "void")))
        .order_by(AuditEntry.id)
    )
    for entity_id, action, changes in trail:
        if action == "insert":
            rebuilt[entity_id] = {}
        record = rebuilt.get(entity_id)
        if record is None:
            continue  # a change without an insert: reported by the caller if the row exists
        for key, (_old, new) in json.loads(changes).items():
            record[key] = new
    return rebuilt


def _row_findings(
    table: str, entity_id: str, values: dict, record: dict | None, skipped: set
) -> list[Finding]:
    """How one row as it is now differs from its record rebuilt from the trail."""
    if record is None:
        return [
            Finding(
                "unaudited-insert",
                f"{table} {entity_id}",
                t("the record has no insert in the audit trail: added behind the application's back"),
            )
        ]
    return [
        Finding(
            "unaudited-change",
            f"{table} {entity_id} {key}",
            t(
                "is %(now)s in the table, the trail last recorded %(recorded)s: changed behind the "
                "application's back",
                now=repr(plain(value)),
                recorded=repr(record.get(key)),
            ),
        )
        for key, value in values.items()
        if key not in skipped and not _same(value, record.get(key))
    ]


def completeness(session: Session, limit: int = 50) -> list[Finding]:
    """Rebuild each audited record from its insert and every later change in the trail and compare it with
    the row as it is now. Fields the trail hides (password hashes) are checked for presence only."""
    findings: list[Finding] = []
    for mapper in audited_mappers():
        table = mapper.class_.__tablename__
        excluded = set(getattr(mapper.class_, "__audit_exclude__", ())) | _SKIP_FIELDS
        attrs = [(a.key, a.columns[0]) for a in mapper.column_attrs]
        rebuilt = _rebuilt_from_trail(session, table)
        skipped = excluded | {c.key for c in mapper.primary_key}
        seen = set()
        for row in session.execute(select(*[col for _k, col in attrs])).mappings():
            values = {k: row[col] for k, col in attrs}
            entity_id = "/".join(
                str(values[mapper.get_property_by_column(c).key]) for c in mapper.primary_key
            )
            seen.add(entity_id)
            findings.extend(_row_findings(table, entity_id, values, rebuilt.get(entity_id), skipped))
            if len(findings) >= limit:
                return findings
        for entity_id in sorted(set(rebuilt) - seen):
            findings.append(
                Finding(
                    "unaudited-delete",
                    f"{table} {entity_id}",
                    t(
                        "the trail records this record's insert, the table no longer holds it: "
                        "deleted behind the application's back"
                    ),
                )
            )
        session.expunge_all()
        if len(findings) >= limit:
            return findings[:limit]
    return findings


def _snapshot(session: Session) -> None:
    # One snapshot for a whole check of a live database: the tip, the trail and the records as of one
    # moment (PostgreSQL's default gives each statement its own; SQLite's WAL reader keeps its first).
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def verify_all(session: Session, anchor_dir: Path | None) -> Verdict:
    """Everything `audit verify` checks, each break named: chain, checkpoint, completeness."""
    findings: list[Finding] = []
    notes: list[str] = []
    _snapshot(session)
    report = verify_chain(session)
    session.rollback()
    if not report.ok:
        where = t("audit row %(row)s", row=report.first_broken_id)
        findings.append(
            Finding(
                report.kind or "chain",
                where,
                t(
                    "%(problem)s (%(count)s rows before it verified)",
                    problem=report.problem,
                    count=report.checked,
                ),
            )
        )
    engine = session.get_bind()
    chain_id = report.chain_id
    latest = anchors.latest_checkpoint(anchor_dir, chain_id) if chain_id else None
    if latest is None:
        notes.append(
            t(
                "no checkpoint of this chain (%(chain)s) in %(folder)s: `flask audit anchor` writes one",
                chain=chain_id,
                folder=str(anchor_dir),
            )
        )
    else:
        path, checkpoint = latest
        for kind, message in anchors.check_against(engine, path, checkpoint):
            findings.append(Finding(kind, t("checkpoint %(name)s", name=path.name), message))
        notes.append(
            t(
                "checked against checkpoint %(name)s (%(rows)s rows, %(at)s)",
                name=path.name,
                rows=checkpoint["rows"],
                at=checkpoint["at"],
            )
        )
    _snapshot(session)
    findings.extend(completeness(session))
    session.rollback()
    return Verdict(report.checked, findings, notes)
