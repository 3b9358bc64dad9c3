"""Audit trail (21 CFR 11.10(e), EU GMP Annex 11 §9): automatic, append-only, chained by a keyed hash.

A flush listener writes one row per inserted, changed or voided audited record in the same
transaction; database triggers refuse UPDATE and DELETE; each row's hash is an HMAC under the audit key
(bank.auditkey), which the database does not hold; `verify_chain` finds and names the first broken link.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from bank import auditkey
from bank.auditkey import AuditKey
from bank.clock import utcnow
from bank.digest import canonical, plain
from bank.i18n import t
from bank.models import AuditChainTip, Audited, AuditEntry
from bank.uow import NoActorError

GENESIS = "0" * 64
_SKIP_FIELDS = {"version"}


def _payload(row: dict) -> str:
    return canonical(
        [
            row["at"],
            row["actor_id"],
            row["actor_name"],
            row["action"],
            row["entity"],
            row["entity_id"],
            row["changes"],
            row["reason"],
        ]
    )


def legacy_row_hash(prev_hash: str, row: dict) -> str:
    """The unkeyed SHA-256 of rows written before migration 0010 (anyone could recompute it): read only
    to verify such a chain before it is re-keyed (bank.rekey)."""
    return hashlib.sha256(f"{prev_hash}|{_payload(row)}".encode()).hexdigest()


def row_hash(key: AuditKey, prev_hash: str, row: dict) -> str:
    """HMAC-SHA256 under the audit key of the previous row's hash, the key's id and the row's content."""
    return key.mac(f"{prev_hash}|{key.id}|{_payload(row)}")


def genesis(key: AuditKey, chain_id: str) -> str:
    """What the first row links to: bound to this database's chain id, so a chain cannot be moved."""
    return key.mac(f"genesis|{chain_id}")


def _entity_id(obj) -> str:
    # After a flush the identity key of a new object is not yet assigned; read the primary key itself.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(v) for v in key)


def _changes(obj, inserted: bool) -> dict:
    state = inspect(obj)
    excluded = set(getattr(obj, "__audit_exclude__", ())) | _SKIP_FIELDS
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if inserted:
            value = getattr(obj, key)
            if value is None:
                continue
            changes[key] = [None, "[set]" if key in excluded else plain(value)]
        elif hist.has_changes():
            if key in _SKIP_FIELDS:
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if key in excluded:
                changes[key] = ["[hidden]", "[changed]"]
            elif plain(old) != plain(new):
                changes[key] = [plain(old), plain(new)]
    return changes


_COLUMNS = (
    "at",
    "actor_id",
    "actor_name",
    "action",
    "entity",
    "entity_id",
    "changes",
    "reason",
    "prev_hash",
    "row_hash",
    "key_id",
)
_BATCH = 90  # rows per INSERT: 900 parameters, within every SQLite build's limit


def _driver_sql(dialect) -> tuple:
    """The tip read and the insert as driver SQL, and the bind processor of `at` (UTCDateTime), so the
    stored time is exactly what SQLAlchemy would store. The chain is written through the DBAPI cursor:
    it runs on every write, and SQLAlchemy's statement machinery cost more than the statements."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    if dialect.name == "postgresql":
        # The application's role may only read the tip: a function owned by the schema's owner locks it
        # (SELECT … FOR UPDATE needs UPDATE rights), and the insert trigger moves it (bank.triggers).
        tip = "SELECT entry_id, row_hash, chain_id FROM bank_lock_chain_tip()"
    else:  # SQLite: the write lock is held already
        tip = f"SELECT entry_id, row_hash, chain_id FROM {AuditChainTip.__tablename__} WHERE id = 1"
    values = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
    insert_sql = f"INSERT INTO {AuditEntry.__tablename__} ({', '.join(_COLUMNS)}) VALUES {values}"
    return tip, insert_sql, values, AuditEntry.__table__.c.at.type.bind_processor(dialect)


_SQL: dict[str, tuple] = {}


_PENDING = "bank.audit.pending"  # session.info: rows of this transaction not yet in the chain
_MARKS = "bank.audit.savepoints"  # session.info: savepoint → how many rows were pending when it began


def append_entries(session: Session, rows: list[dict]) -> None:
    """Add rows to the chain in the current transaction (used by the listener and by explicit events
    such as signatures and unblinding). They are written when the transaction commits: every writer
    of the facility waits for the chain's tip, so it is locked only for the last moment of a
    transaction, not from its first change on. Rows of a savepoint that rolls back are dropped."""
    if rows:
        session.info.setdefault(_PENDING, []).extend(rows)


def _write_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, None)
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name not in _SQL:
        _SQL[dialect.name] = _driver_sql(dialect)
    tip_sql, insert_sql, values, bind_at = _SQL[dialect.name]
    key = auditkey.current()
    cursor = conn.connection.cursor()
    try:
        # Lock the tip row and read it (PostgreSQL hands a waiting transaction the tip as the one before
        # it committed it; SQLite: the write lock is held already). Held until the commit ends.
        cursor.execute(tip_sql)
        found = cursor.fetchone()
        if found is None:
            raise RuntimeError("audit_chain_tip has no row: the database is not migrated (flask init)")
        entry_id, prev, chain_id = found
        if entry_id is None:
            prev = genesis(key, chain_id)
        params = []
        for row in rows:
            changes = canonical(row["changes"])
            at = row["at"]
            digest = row_hash(key, prev, {**row, "changes": changes, "at": at.isoformat()})
            params.append(
                (
                    bind_at(at) if bind_at else at,
                    row["actor_id"],
                    row["actor_name"],
                    row["action"],
                    row["entity"],
                    row["entity_id"],
                    changes,
                    row["reason"],
                    prev,
                    digest,
                    key.id,
                )
            )
            prev = digest
        for i in range(0, len(params), _BATCH):
            chunk = params[i : i + _BATCH]
            sql = insert_sql if len(chunk) == 1 else insert_sql + (", " + values) * (len(chunk) - 1)
            cursor.execute(sql, [v for p in chunk for v in p])
    finally:
        cursor.close()
    _count_towards_checkpoint(session, len(rows))


# Checkpoints every AUDIT_ANCHOR_EVERY rows this process appended (bank.anchors writes them after the
# commit, outside the database; configured by bank.anchors.configure, off until then).
_ANCHOR_DUE = "bank.audit.anchor_due"
_appended = {"rows": 0}
_appended_lock = threading.Lock()
anchoring: dict = {"every": 0, "write": None}


def _count_towards_checkpoint(session: Session, n: int) -> None:
    if not anchoring["every"]:
        return
    with _appended_lock:
        _appended["rows"] += n
        if _appended["rows"] < anchoring["every"]:
            return
        _appended["rows"] = 0
    session.info[_ANCHOR_DUE] = session.get_bind()


@event.listens_for(Session, "after_commit")
def _anchor_after_commit(session: Session) -> None:
    engine = session.info.pop(_ANCHOR_DUE, None)
    if engine is not None and anchoring["write"] is not None:
        anchoring["write"](engine)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its rows stay pending with the transaction's
    # before_commit runs ahead of the commit's own flush, whose changes belong in the chain too.
    session.flush()
    _write_pending(session)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction) -> None:
    if transaction.nested:
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, transaction) -> None:
    # (The transaction itself rolling back is _forget_transaction's: it ends, and its rows with it.)
    marks = session.info.get(_MARKS, {})
    if transaction in marks:
        del session.info.get(_PENDING, [])[marks.pop(transaction) :]


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction) -> None:
    # A transaction ends with its rows written (commit) or undone (rollback, close): none carries over.
    # (A savepoint's mark stays until then: this event comes before after_soft_rollback, which needs it.)
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_MARKS, None)


def event_row(
    session: Session, action: str, entity: str, entity_id: str, changes: dict, reason: str | None = None
) -> dict:
    actor = session.info.get("actor")
    if actor is None:
        raise NoActorError(f"{action} on {entity} {entity_id} without an actor")
    return {
        "at": utcnow(),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "changes": changes,
        "reason": reason if reason is not None else session.info.get("reason"),
    }


def record_event(
    session: Session, action: str, entity: str, entity_id, changes: dict, reason: str | None = None
) -> None:
    """Log an event that is not a row change (a signature, an unblinding view)."""
    append_entries(session, [event_row(session, action, entity, str(entity_id), changes, reason)])


@event.listens_for(Session, "before_flush")
def _refuse_unattributed_writes(session: Session, _ctx, _instances) -> None:
    touched = [o for o in (*session.new, *session.dirty, *session.deleted) if isinstance(o, Audited)]
    if not touched:
        return
    if session.info.get("actor") is None:
        names = sorted({type(o).__name__ for o in touched})
        raise NoActorError(f"write to {', '.join(names)} outside a unit of work: no actor to audit")
    for obj in session.deleted:
        if isinstance(obj, Audited):
            raise PermissionError(f"{type(obj).__name__} records are never deleted; void them with a reason")


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session: Session, _ctx) -> None:
    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append(event_row(session, "insert", obj.__tablename__, _entity_id(obj), _changes(obj, True)))
    for obj in session.dirty:
        if not isinstance(obj, Audited) or not session.is_modified(obj, include_collections=False):
            continue
        changes = _changes(obj, False)
        if not changes:
            continue
        action = "void" if "voided_at" in changes and changes["voided_at"][0] is None else "update"
        rows.append(event_row(session, action, obj.__tablename__, _entity_id(obj), changes))
    append_entries(session, rows)


@dataclass(frozen=True)
class ChainReport:
    """The chain's verdict: rows verified, the first broken row (None when intact), what kind of break
    (`kind`: link, content, key, legacy, tip) and in what words."""

    checked: int
    first_broken_id: int | None
    problem: str | None
    kind: str | None = None
    last_id: int | None = None
    last_hash: str | None = None
    chain_id: str | None = None
    extra: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def entry_data(entry: AuditEntry) -> dict:
    return {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "entity": entry.entity,
        "entity_id": entry.entity_id,
        "changes": entry.changes,
        "reason": entry.reason,
    }


def _check_tip(
    tip: AuditChainTip | None, checked: int, last_id: int | None, last_hash: str, chain_id: str | None
) -> ChainReport:
    if tip is None or tip.entry_id != last_id or (last_id is not None and tip.row_hash != last_hash):
        named = t("no tip row") if tip is None else t("the tip names row %(row)s", row=tip.entry_id)
        return ChainReport(
            checked,
            last_id or 0,
            t(
                "the chain's recorded tip does not name its last row (%(named)s, "
                "the trail ends at row %(last)s): rows were removed from the end, or the "
                "tip was altered",
                named=named,
                last=last_id or t("none"),
            ),
            "tip",
            last_id,
            last_hash,
            chain_id,
        )
    return ChainReport(checked, None, None, None, last_id, last_hash, chain_id)


def verify_chain(session: Session, batch: int = 5000, accept_legacy: bool = False) -> ChainReport:
    """Recompute every row's keyed hash in id order; report the first row whose link, content or key is
    wrong, or a chain whose last row is not the tip recorded as it was written (rows cut from the end).
    `accept_legacy` (re-keying only): unkeyed rows of before migration 0010 are checked by their SHA-256."""
    tip = session.get(AuditChainTip, 1)
    chain_id = tip.chain_id if tip is not None else ""
    prev = None
    checked = 0
    last_id = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return _check_tip(tip, checked, last_id or None, prev, chain_id)
        for entry in rows:

            def broken(
                kind: str, problem: str, entry=entry, checked=checked, last_id=last_id, prev=prev
            ) -> ChainReport:
                return ChainReport(checked, entry.id, problem, kind, last_id or None, prev, chain_id)

            if entry.key_id is None and accept_legacy:
                expected_prev = prev if prev is not None else GENESIS
                if entry.prev_hash != expected_prev:
                    return broken("link", t("link to the previous row does not match"))
                if legacy_row_hash(expected_prev, entry_data(entry)) != entry.row_hash:
                    return broken("content", t("content differs from what was recorded"))
                prev = entry.row_hash
                checked += 1
                last_id = entry.id
                continue
            if entry.key_id is None:
                return broken(
                    "legacy",
                    t(
                        "row is unkeyed (written before migration 0010, or inserted by SQL "
                        "with the public hash function): `flask db upgrade` re-keys a verified chain"
                    ),
                )
            key = auditkey.by_id(entry.key_id)
            if key is None:
                return broken(
                    "key",
                    t(
                        "row is keyed with key %(key)s, which is not the configured audit "
                        "key: a row forged outside the application, or the wrong AUDIT_KEY",
                        key=entry.key_id,
                    ),
                )
            expected_prev = prev if prev is not None else genesis(key, chain_id)
            if entry.prev_hash != expected_prev:
                return broken(
                    "link",
                    t("link to the previous row does not match: a row before it was removed or inserted")
                    if prev is not None
                    else t(
                        "the first row does not start this database's "
                        "chain: rows before it were removed, or the chain was moved from another database"
                    ),
                )
            if row_hash(key, expected_prev, entry_data(entry)) != entry.row_hash:
                return broken(
                    "content",
                    t("content differs from what was recorded (edited, or hashed without the audit key)"),
                )
            prev = entry.row_hash
            checked += 1
            last_id = entry.id
        session.expunge_all()
