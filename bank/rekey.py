"""Re-keying the audit chain (EU GMP Annex 11 §12): verify the whole chain as it stands, then recompute
every row's keyed hash under the new audit key, and record that in the trail itself. Migrates a chain
written before keys (migration 0010) and rotates the key. Runs as the schema's owner (MIGRATION_DATABASE_URL):
the rows' triggers are switched off for this one transaction and back on before it commits."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bank import auditkey
from bank.audit import entry_data, genesis, record_event, row_hash, verify_chain
from bank.auditkey import AuditKey
from bank.db import make_session_factory
from bank.i18n import t
from bank.models import AuditChainTip, AuditEntry
from bank.refusals import Problem, Refused
from bank.uow import Actor, unit_of_work

_TABLES = ("audit_entries", "audit_chain_tip")


def legacy_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_entries WHERE key_id IS NULL")).scalar_one()


def _triggers_off(conn) -> list[str]:
    if conn.dialect.name == "postgresql":
        for table in _TABLES:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return []
    made = conn.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            "('audit_entries', 'audit_chain_tip')"
        )
    ).all()
    for name, _sql in made:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    return [sql for _name, sql in made]


def _triggers_on(conn, made: list[str]) -> None:
    if conn.dialect.name == "postgresql":
        for table in _TABLES:
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
    for sql in made:
        conn.execute(text(sql))


def rekey(owner_engine: Engine, new: AuditKey, actor_name: str, reason: str) -> int:
    """Verify the chain (unkeyed rows by their SHA-256, keyed ones by the keys installed), then re-key
    every row under `new` and append a row saying so. Refuses a chain that does not verify: re-keying
    must never launder a tampered trail. Returns the number of rows re-keyed."""
    session = make_session_factory(owner_engine)()
    try:
        report = verify_chain(session, accept_legacy=True)
        session.rollback()
        if not report.ok:
            raise Refused(
                problems=[
                    Problem(
                        "audit.rekey_unverified",
                        t(
                            "the audit chain does not verify at row %(row)s: %(problem)s; it is not re-keyed",
                            row=report.first_broken_id,
                            problem=report.problem,
                        ),
                        f"{report.first_broken_id}: {report.kind}",
                    )
                ]
            )
        old_ids = sorted({k for (k,) in session.query(AuditEntry.key_id).distinct()}, key=str)
        session.rollback()
        auditkey.install(new.secret.decode())
        with unit_of_work(session, Actor(None, actor_name), reason):
            conn = session.connection()
            made = _triggers_off(conn)
            chain_id = session.get(AuditChainTip, 1).chain_id
            prev = genesis(new, chain_id)
            count, last_id, batch = 0, 0, []
            while True:
                rows = (
                    session.query(AuditEntry)
                    .filter(AuditEntry.id > last_id)
                    .order_by(AuditEntry.id)
                    .limit(5000)
                    .all()
                )
                if not rows:
                    break
                for entry in rows:
                    digest = row_hash(new, prev, entry_data(entry))
                    batch.append({"i": entry.id, "p": prev, "h": digest, "k": new.id})
                    prev, last_id = digest, entry.id
                conn.execute(
                    text("UPDATE audit_entries SET prev_hash = :p, row_hash = :h, key_id = :k WHERE id = :i"),
                    batch,
                )
                count += len(batch)
                batch = []
                session.expunge_all()
            conn.execute(
                text("UPDATE audit_chain_tip SET entry_id = :e, row_hash = :h WHERE id = 1"),
                {"e": last_id or None, "h": prev},
            )
            _triggers_on(conn, made)
            record_event(
                session,
                "update",
                "audit_chain",
                chain_id,
                {
                    "key_id": [",".join(str(k) for k in old_ids) or None, new.id],
                    "rows_rekeyed": [None, count],
                },
            )
        return count
    finally:
        session.close()
