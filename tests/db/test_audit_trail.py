"""Audit trail (DOMAIN.md §6; 21 CFR 11.10(e)): automatic, attributed, append-only, tamper-evident."""

import json
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from bank.audit import verify_chain
from bank.db import make_engine, make_session_factory
from bank.models import AuditEntry, User
from bank.uow import Actor, NoActorError, unit_of_work
from bank.users import create_user
from tests.fixtures import session_on
from tests.support import PASSWORD, run_together, unique

pytestmark = pytest.mark.requirement("ER-AUDIT-TRAIL")


def _entries(session, entity, entity_id):
    return session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)
    ).all()


def test_insert_and_change_write_audit_rows_with_actor_old_new_and_reason(session, make_user):
    admin = make_user("admin")
    actor = Actor(admin.id, "Test Admin (admin)")
    with unit_of_work(session, actor, "hire"):
        user = create_user(session, unique("t"), "Tech One", ["technician"], PASSWORD)
    with unit_of_work(session, actor, "name corrected"):
        user.full_name = "Tech Uno"
    rows = _entries(session, "users", user.id)
    assert [r.action for r in rows] == ["insert", "update"]
    assert rows[0].actor_id == admin.id and rows[0].reason == "hire"
    inserted = json.loads(rows[0].changes)
    assert inserted["full_name"] == [None, "Tech One"]
    assert inserted["password_hash"] == [None, "[set]"], "secrets are never copied into the audit trail"
    assert json.loads(rows[1].changes) == {"full_name": ["Tech One", "Tech Uno"]}
    assert rows[1].reason == "name corrected"
    assert rows[1].at.tzinfo is not None


def test_rows_of_a_rolled_back_savepoint_are_dropped_and_the_rest_kept(session, make_user):
    """The chain is appended at commit; what a savepoint undid (a concurrent request took the storage
    position first, say) leaves no audit row, and what the transaction kept has its rows, in order."""
    actor = Actor(make_user("admin").id, "Test Admin (admin)")
    with unit_of_work(session, actor, "hire"):
        kept = create_user(session, unique("k"), "Kept One", ["technician"], PASSWORD)
        try:
            with session.begin_nested():
                create_user(session, unique("u"), "Undone One", ["technician"], PASSWORD)
                with session.begin_nested():
                    create_user(session, unique("i"), "Inner One", ["technician"], PASSWORD)
                raise RuntimeError("the position was taken meanwhile")
        except RuntimeError:
            pass
        kept.full_name = "Kept Uno"
        later = create_user(session, unique("l"), "Later One", ["technician"], PASSWORD)
    assert [r.action for r in _entries(session, "users", kept.id)] == ["insert", "update"]
    # (SQLite hands a rolled-back id out again, so the rows are looked for by name.)
    written = session.scalars(select(AuditEntry.changes).where(AuditEntry.reason == "hire")).all()
    assert not any("Undone One" in c or "Inner One" in c for c in written)
    assert sum("Kept One" in c for c in written) == 2 and sum("Later One" in c for c in written) == 1
    assert [r.action for r in _entries(session, "users", later.id)] == ["insert"]
    assert verify_chain(session).ok


def test_rows_of_a_transaction_never_committed_do_not_reach_the_next_one(session, make_user):
    actor = Actor(make_user("admin").id, "Test Admin (admin)")
    session.info["actor"] = actor  # a write outside unit_of_work, then the session is closed unsaved
    abandoned = create_user(session, unique("a"), "Abandoned One", ["technician"], PASSWORD)
    abandoned_name = abandoned.username
    session.info.pop("actor")
    session.close()
    with unit_of_work(session, actor, "hire"):
        hired = create_user(session, unique("h"), "Hired One", ["technician"], PASSWORD)
    assert session.scalar(select(User).where(User.username == abandoned_name)) is None
    hired_rows = session.scalars(
        select(AuditEntry).where(AuditEntry.reason == "hire", AuditEntry.entity == "users")
    ).all()
    assert {r.entity_id for r in hired_rows} >= {str(hired.id)}
    assert not any("Abandoned One" in (r.changes or "") for r in hired_rows)
    assert verify_chain(session).ok


def test_write_without_actor_is_refused_and_nothing_is_written(session):
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    session.add(User(username=unique("x"), full_name="Nobody", roles="technician", password_hash="x"))
    with pytest.raises(NoActorError):
        session.flush()
    session.rollback()
    assert session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) == before


def test_audited_records_are_never_deleted(session, make_user):
    user = make_user("technician")
    with pytest.raises(PermissionError, match="never deleted"):
        with unit_of_work(session, Actor(None, "test")):
            session.delete(session.get(User, user.id))
    assert session.get(User, user.id) is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'edited'",
        "DELETE FROM audit_entries",
    ],
)
def test_direct_update_or_delete_on_audit_table_fails(engine, make_user, statement):
    make_user("qa")  # at least one row exists
    with engine.connect() as conn:
        # (as the application's role the privilege is missing before the trigger is reached)
        with pytest.raises(DatabaseError, match="append-only|permission denied"):
            conn.execute(text(statement))
        conn.rollback()


def _past_the_guard(conn, statement: str, sqlite_trigger: str, row_id: int):
    """Run `statement` on audit row `row_id` by other means, as a database superuser could: PostgreSQL's
    triggers switched off around it, SQLite's append-only trigger `sqlite_trigger` dropped."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        conn.execute(text(statement), {"i": row_id})
        conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))
    else:
        conn.execute(text(f"DROP TRIGGER {sqlite_trigger}"))
        conn.execute(text(statement), {"i": row_id})


def _tamper(conn, row_id: int):
    """Edit one audit row by other means (trigger switched off, as a database superuser could)."""
    _past_the_guard(
        conn, "UPDATE audit_entries SET reason = 'rewritten' WHERE id = :i", "audit_entries_no_update", row_id
    )


def _chain_of(session, n: int, prefix: str) -> None:
    """`n` users created, one unit of work each: `n` rows in the audit chain."""
    for i in range(n):
        with unit_of_work(session, Actor(None, "test"), f"step {i}"):
            create_user(session, unique(prefix), f"User {i}", ["clinical"], PASSWORD)


@contextmanager
def _as_owner(owner_url, url: str):
    """A connection, in a transaction, as the role that owns the database (it may switch the guards off)."""
    engine = make_engine(owner_url(url))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def test_verify_reports_first_broken_link_after_tampering(fresh_database, owner_url):
    url = fresh_database()
    with session_on(url) as session:
        _chain_of(session, 4, "v")
        report = verify_chain(session)
        assert report.ok and report.checked == 4
        ids = session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        session.rollback()
        with _as_owner(owner_url, url) as conn:
            _tamper(conn, ids[2])
        session.expire_all()
        report = verify_chain(session)
        assert not report.ok
        assert report.first_broken_id == ids[2]
        assert report.checked == 2


def test_audit_verify_cli_exit_code(fresh_database, owner_url, tmp_path):
    from bank.app import create_app

    url = fresh_database()
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "x",
            "AUDIT_KEY": "cli-test-audit-key-" + "c" * 32,
            "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors"),
            "AUDIT_ANCHOR_EVERY": 0,
        }
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["init"])
    assert "One-time password" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "intact" in result.output
    with _as_owner(owner_url, url) as conn:
        first = conn.execute(text("SELECT min(id) FROM audit_entries")).scalar()
        _tamper(conn, first)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"[content] audit row {first}:" in result.output
    app.extensions["bank.engine"].dispose()


def test_verify_notices_rows_cut_from_the_end_of_the_chain(fresh_database, owner_url):
    """A chain whose last rows are deleted is still a valid chain; the recorded tip is what gives it away."""
    url = fresh_database()
    with session_on(url) as session:
        _chain_of(session, 3, "c")
        last = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
        session.rollback()
        with _as_owner(owner_url, url) as conn:
            _past_the_guard(conn, "DELETE FROM audit_entries WHERE id = :i", "audit_entries_no_delete", last)
        session.expire_all()
        report = verify_chain(session)
        assert not report.ok and report.checked == 2
        assert "tip" in report.problem


def test_concurrent_writers_append_one_unbroken_chain(fresh_database):
    """Eight writers at once (each its own connection): every audit row lands in one chain, in order."""
    import threading

    url = fresh_database()
    writers, each = 8, 6
    with session_on(url, writers + 2) as session:
        engine = session.get_bind()
        barrier = threading.Barrier(writers)

        def writer(n: int) -> None:
            s = make_session_factory(engine)()
            try:
                barrier.wait(timeout=60)
                for i in range(each):
                    with unit_of_work(s, Actor(None, f"writer {n}"), f"write {i}"):
                        create_user(
                            s,
                            unique("w"),
                            f"Writer {n}.{i}",
                            ["clinical"],
                            PASSWORD,
                            must_change_password=False,
                        )
            finally:
                s.close()

        # A writer returns nothing; anything it raised comes back as "error:…".
        failures = [
            outcome for outcome in run_together(writer, range(writers), timeout=180) if outcome is not None
        ]
        assert failures == []
        report = verify_chain(session)
        assert report.ok, report
        assert report.checked == writers * each
