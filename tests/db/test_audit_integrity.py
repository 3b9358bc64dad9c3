"""Records that stay true (DOMAIN.md §6, data integrity against insiders): `audit verify` names each way of
rewriting the trail or the records behind the application's back, with the key and the checkpoints
outside the database; backups restore to a verified trail."""

import hashlib
import json
import os
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from bank.audit import legacy_row_hash
from bank.db import make_engine
from bank.models import User
from bank.uow import Actor, unit_of_work
from bank.users import create_user
from tests.support import PASSWORD, unique

pytestmark = pytest.mark.requirement("ER-AUDIT-INTEGRITY")

KEY = "integrity-test-audit-key-" + "i" * 32


@pytest.fixture
def site(fresh_database, owner_url, tmp_path):
    """A migrated database with an app (its own key and anchor directory), three users, a checkpoint."""
    from bank.app import create_app

    url = fresh_database()
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "s",
            "AUDIT_KEY": KEY,
            "AUDIT_ANCHOR_EVERY": 0,
            "AUDIT_ANCHOR_DIR": str(tmp_path / "anchors"),
            "MIGRATION_DATABASE_URL": owner_url(url) if owner_url(url) != url else None,
        }
    )
    runner = app.test_cli_runner()
    session = app.extensions["bank.sessions"]()
    for i in range(3):
        with unit_of_work(session, Actor(None, "test"), f"hire {i}"):
            create_user(session, unique("s"), f"Staff {i}", ["qa" if i == 0 else "technician"], PASSWORD)
    session.close()
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    owner = make_engine(owner_url(url))
    yield app, runner, owner
    owner.dispose()
    app.extensions["bank.engine"].dispose()


def _verify(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code, result.output


_DROPPED: list[str] = []


def _triggers(conn, on: bool):
    """Switch the trail's triggers off and on again, as the schema's owner can (SQLite: drop, remake)."""
    if conn.dialect.name == "postgresql":
        for table in ("audit_entries", "audit_chain_tip"):
            conn.execute(text(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER USER"))
    elif not on:
        for name, sql in conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                "tbl_name IN ('audit_entries', 'audit_chain_tip')"
            )
        ).all():
            conn.execute(text(f'DROP TRIGGER "{name}"'))
            _DROPPED.append(sql)
    else:
        while _DROPPED:
            conn.execute(text(_DROPPED.pop()))


def test_a_fresh_site_verifies_intact_against_its_checkpoint(site):
    _app, runner, _owner = site
    code, output = _verify(runner)
    assert code == 0, output
    assert "intact" in output and "checked against checkpoint" in output


def test_rows_cut_from_the_end_with_the_tip_moved_back_are_named(site):
    _app, runner, owner = site
    with owner.begin() as conn:
        last = conn.execute(text("SELECT max(id) FROM audit_entries")).scalar()
        _triggers(conn, False)
        conn.execute(text("DELETE FROM audit_entries WHERE id >= :i"), {"i": last - 1})
        prev = conn.execute(text("SELECT id, row_hash FROM audit_entries ORDER BY id DESC LIMIT 1")).one()
        conn.execute(
            text("UPDATE audit_chain_tip SET entry_id = :e, row_hash = :h"), {"e": prev[0], "h": prev[1]}
        )
        _triggers(conn, True)
    code, output = _verify(runner)
    assert code == 1
    assert "[lost-rows]" in output and f"up to row {last}" in output


def test_a_wiped_trail_with_its_tip_reset_is_named(site):
    _app, runner, owner = site
    with owner.begin() as conn:
        _triggers(conn, False)
        conn.execute(text("DELETE FROM audit_entries"))
        conn.execute(text("UPDATE audit_chain_tip SET entry_id = NULL, row_hash = :h"), {"h": "0" * 64})
        _triggers(conn, True)
    code, output = _verify(runner)
    assert code == 1
    assert "[lost-rows]" in output and "[unaudited-insert] users" in output


@pytest.mark.parametrize("keyed", [False, True], ids=["unkeyed", "made-up-key-id"])
def test_a_row_hashed_with_the_public_function_and_attributed_to_qa_is_named(site, keyed):
    _app, runner, owner = site
    with owner.begin() as conn:
        qa_id, qa_name = conn.execute(text("SELECT id, full_name FROM users WHERE roles = 'qa'")).one()
        tip = conn.execute(text("SELECT row_hash FROM audit_chain_tip")).scalar()
        at = datetime.now(UTC)
        row = {
            "at": at.isoformat(),
            "actor_id": qa_id,
            "actor_name": qa_name,
            "action": "sign",
            "entity": "lots",
            "entity_id": "1",
            "changes": "{}",
            "reason": "released",
        }
        key_id = "0" * 16 if keyed else None
        conn.execute(
            text(
                "INSERT INTO audit_entries (at, actor_id, actor_name, action, entity, entity_id, "
                "changes, reason, prev_hash, row_hash, key_id) VALUES (:at, :a, :n, 'sign', 'lots', "
                "'1', '{}', 'released', :p, :h, :k)"
            ),
            {
                "at": at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at,
                "a": qa_id,
                "n": qa_name,
                "p": tip,
                "h": legacy_row_hash(tip, row),
                "k": key_id,
            },
        )
        forged = conn.execute(text("SELECT max(id) FROM audit_entries")).scalar()
    code, output = _verify(runner)
    assert code == 1
    assert f"[{'key' if keyed else 'legacy'}] audit row {forged}:" in output


def test_a_row_edited_and_every_later_one_rehashed_is_named(site):
    _app, runner, owner = site
    with owner.begin() as conn:
        rows = conn.execute(text("SELECT id, prev_hash, row_hash FROM audit_entries ORDER BY id")).all()
        _triggers(conn, False)
        target = rows[1][0]
        conn.execute(text("UPDATE audit_entries SET reason = 'rewritten' WHERE id = :i"), {"i": target})
        prev = rows[0][2]
        for entry_id, _p, _h in rows[1:]:  # the public SHA-256 is all an insider without the key has
            digest = hashlib.sha256(f"{prev}|{entry_id}".encode()).hexdigest()
            conn.execute(
                text("UPDATE audit_entries SET prev_hash = :p, row_hash = :h WHERE id = :i"),
                {"p": prev, "h": digest, "i": entry_id},
            )
            prev = digest
        conn.execute(text("UPDATE audit_chain_tip SET row_hash = :h"), {"h": prev})
        _triggers(conn, True)
    code, output = _verify(runner)
    assert code == 1
    assert f"[content] audit row {target}:" in output
    assert "[rewritten]" in output


@pytest.mark.parametrize(
    "statement, kind",
    [
        ("UPDATE users SET roles = 'admin' WHERE roles = 'technician'", "[unaudited-change] users"),
        (
            "INSERT INTO users (username, full_name, roles, unblinded, password_hash, must_change_password, is_active, "
            "failed_logins, created_at, version) VALUES ('ghost', 'Ghost', 'qa', false, 'x', false, true, 0, "
            "'2026-01-01 00:00:00', 1)",
            "[unaudited-insert] users",
        ),
    ],
)
def test_records_changed_by_sql_without_an_audit_row_are_named(site, statement, kind):
    _app, runner, owner = site
    with owner.begin() as conn:
        conn.execute(text(statement))
    code, output = _verify(runner)
    assert code == 1
    assert kind in output
    if "UPDATE" in statement:
        assert "roles: is 'admin' in the table, the trail last recorded 'technician'" in output


def test_the_tip_cannot_be_moved_by_sql(site):
    _app, _runner, owner = site
    with owner.connect() as conn:
        with pytest.raises(DatabaseError, match="audit_chain_tip"):
            conn.execute(text("UPDATE audit_chain_tip SET entry_id = 1"))
        conn.rollback()
        with pytest.raises(DatabaseError, match="audit_chain_tip"):
            conn.execute(text("DELETE FROM audit_chain_tip"))
        conn.rollback()


def test_an_unkeyed_chain_is_verified_and_rekeyed_by_db_upgrade_and_the_rekeying_is_recorded(site):
    app, runner, owner = site
    with owner.begin() as conn:  # the trail as a database of before migration 0010 holds it
        rows = (
            conn.execute(
                text(
                    "SELECT id, at, actor_id, actor_name, action, entity, entity_id, changes, reason "
                    "FROM audit_entries ORDER BY id"
                )
            )
            .mappings()
            .all()
        )
        _triggers(conn, False)
        prev = "0" * 64
        for r in rows:
            at = r["at"] if isinstance(r["at"], datetime) else datetime.fromisoformat(str(r["at"]))
            data = {**r, "at": (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC).isoformat()}
            digest = legacy_row_hash(prev, data)
            conn.execute(
                text("UPDATE audit_entries SET prev_hash = :p, row_hash = :h, key_id = NULL WHERE id = :i"),
                {"p": prev, "h": digest, "i": r["id"]},
            )
            prev = digest
        conn.execute(text("UPDATE audit_chain_tip SET row_hash = :h"), {"h": prev})
        _triggers(conn, True)
    assert "[legacy]" in _verify(runner)[1]
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"re-keyed: {len(rows)} rows" in result.output
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    code, output = _verify(runner)
    assert code == 0, output
    with owner.connect() as conn:
        event = conn.execute(
            text("SELECT changes, reason FROM audit_entries WHERE entity = 'audit_chain'")
        ).one()
    assert json.loads(event[0])["rows_rekeyed"] == [None, len(rows)] and "0010" in event[1]


def test_checkpoints_are_signed_and_posted_to_the_site_url(site, tmp_path):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from bank import anchors

    app, runner, _owner = site
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        path, checkpoint = anchors.write_checkpoint(
            app.extensions["bank.engine"],
            tmp_path / "elsewhere",
            f"http://127.0.0.1:{server.server_port}/anchors",
        )
    finally:
        thread.join(timeout=10)
        server.server_close()
    assert received == [checkpoint] and json.loads(path.read_text()) == checkpoint
    assert checkpoint["rows"] >= 3 and len(checkpoint["signature"]) == 64
    forged = {**checkpoint, "rows": checkpoint["rows"] - 1}
    assert anchors.check_against(app.extensions["bank.engine"], path, forged)[0][0] == "checkpoint-forged"


@pytest.mark.requirement("ER-BACKUP")
def test_backup_of_a_live_database_restores_to_a_verified_trail_with_every_committed_record(site, tmp_path):
    app, runner, _owner = site
    sessions = app.extensions["bank.sessions"]
    committed, stop, failures = [], threading.Event(), []

    def writer():
        s = sessions()
        try:
            while not stop.is_set():
                with unit_of_work(s, Actor(None, "busy writer"), "hire"):
                    name = unique("b")
                    create_user(s, name, "Busy One", ["clinical"], PASSWORD)
                committed.append(name)
        except Exception as e:  # noqa: BLE001 — reported below
            failures.append(repr(e))
        finally:
            s.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(committed) < 5:
            stop.wait(0.05)
        before = list(committed)
        result = runner.invoke(args=["backup", str(tmp_path / "copy.bak")])
    finally:
        stop.set()
        thread.join(timeout=60)
    assert failures == [] and result.exit_code == 0, result.output
    assert len(committed) > len(before)  # the writer carried on while the copy was taken
    result = runner.invoke(args=["restore", str(tmp_path / "copy.bak")])
    assert result.exit_code == 2 and "holds records" in result.output
    result = runner.invoke(args=["restore", "--force", str(tmp_path / "copy.bak")])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    s = sessions()
    present = set(s.scalars(select(User.username)))
    s.close()
    assert set(before) <= present
    # Rows committed after the backup, checkpointed, then lost to a restore of that copy: named.
    s = sessions()
    with unit_of_work(s, Actor(None, "test"), "after the backup"):
        create_user(s, unique("late"), "Late One", ["clinical"], PASSWORD)
    s.close()
    assert runner.invoke(args=["audit", "anchor"]).exit_code == 0
    result = runner.invoke(args=["restore", "--force", str(tmp_path / "copy.bak")])
    assert result.exit_code == 1 and "[lost-rows]" in result.output


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_APP_URL"),
    reason="PostgreSQL with the application connected as its restricted role (.ci/run)",
)
@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_entries DISABLE TRIGGER USER",
        "ALTER TABLE users DISABLE TRIGGER ALL",
        "UPDATE audit_chain_tip SET entry_id = entry_id",
        "DELETE FROM audit_entries",
        "UPDATE audit_entries SET reason = 'edited'",
        "DELETE FROM users",
    ],
)
def test_the_application_role_cannot_switch_triggers_off_nor_touch_the_trail(engine, make_user, statement):
    make_user("qa")  # the application's role writes records and their trail
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT current_user")).scalar()
            == make_url(os.environ["TEST_DATABASE_APP_URL"]).username
        )
        with pytest.raises(DatabaseError, match="permission denied|must be owner"):
            conn.execute(text(statement))
        conn.rollback()
