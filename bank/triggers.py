"""Database triggers used by migrations: tables made append-only on SQLite and PostgreSQL, and the
audit chain's tip kept up to date.

No user of the application, administrator included, can update or delete these rows through SQL
issued by the application; a superuser who disables triggers is caught by `audit verify`."""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op


def _execute(postgresql: Sequence[str], sqlite: Sequence[str]) -> None:
    """Run the statements written for the database in use: PostgreSQL's, or SQLite's (which has no
    functions, statement triggers nor TRUNCATE)."""
    for statement in postgresql if op.get_bind().dialect.name == "postgresql" else sqlite:
        op.execute(statement)


PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bank_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def _pg_no_truncate(table: str) -> str:
    """PostgreSQL's row triggers do not see TRUNCATE: a statement trigger refuses it."""
    return (
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change()"
    )


def create_append_only(table: str) -> None:
    _execute(
        postgresql=(
            PG_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION bank_refuse_change()",
            _pg_no_truncate(table),
        ),
        sqlite=[
            f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
            for verb in ("UPDATE", "DELETE")
        ],
    )


def drop_append_only(table: str) -> None:
    _execute(
        postgresql=(
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ),
        sqlite=[f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")],
    )


# The insert trigger's function on PostgreSQL: the tip moves to the last row the statement appended.
_FOLLOW_BODY = """
BEGIN
  UPDATE audit_chain_tip SET entry_id = last.id, row_hash = last.row_hash
    FROM (SELECT id, row_hash FROM new_entries ORDER BY id DESC LIMIT 1) AS last
   WHERE audit_chain_tip.id = 1;
  RETURN NULL;
END $$;
"""
PG_FOLLOW = (
    """
CREATE OR REPLACE FUNCTION bank_follow_chain_tip() RETURNS trigger LANGUAGE plpgsql AS $$"""
    + _FOLLOW_BODY
)


def create_chain_tip_trigger(function_made: bool = False) -> None:
    """audit_chain_tip follows every insert into audit_entries (the service's appends, bulk loads alike).
    PostgreSQL: once per statement, from the rows it inserted (a multi-row insert or COPY updates the
    tip once); `function_made`: the owner's function (create_chain_tip_guard) is there, keep it. SQLite
    has no statement triggers: once per row."""
    if op.get_bind().dialect.name == "postgresql":
        if not function_made:
            op.execute(PG_FOLLOW)
        op.execute(
            "CREATE TRIGGER audit_entries_chain_tip AFTER INSERT ON audit_entries "
            "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION bank_follow_chain_tip()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_entries_chain_tip AFTER INSERT ON audit_entries BEGIN "
            "UPDATE audit_chain_tip SET entry_id = NEW.id, row_hash = NEW.row_hash WHERE id = 1; END"
        )


def drop_chain_tip_trigger() -> None:
    _execute(
        postgresql=(
            "DROP TRIGGER IF EXISTS audit_entries_chain_tip ON audit_entries",
            "DROP FUNCTION IF EXISTS bank_follow_chain_tip()",
        ),
        sqlite=("DROP TRIGGER IF EXISTS audit_entries_chain_tip",),
    )


# Migration 0010: the application's database role reads the tip but may not write it. A function owned
# by the schema's owner (SECURITY DEFINER) locks it for an appender, and the insert trigger's function,
# also the owner's, moves it; a guard refuses any other change (an UPDATE not made by that trigger, a
# tip moved backwards or to another chain, a DELETE or TRUNCATE). On SQLite (one file, no roles) the
# guard refuses a tip that does not name the trail's last row.
PG_FOLLOW_DEFINER = (
    """
CREATE OR REPLACE FUNCTION bank_follow_chain_tip() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path FROM CURRENT AS $$"""
    + _FOLLOW_BODY
)
PG_LOCK_TIP = """
CREATE OR REPLACE FUNCTION bank_lock_chain_tip()
RETURNS TABLE (entry_id integer, row_hash varchar, chain_id varchar) LANGUAGE sql
SECURITY DEFINER SET search_path FROM CURRENT AS $$
  SELECT t.entry_id, t.row_hash, t.chain_id FROM audit_chain_tip AS t WHERE t.id = 1 FOR UPDATE
$$;
"""
PG_GUARD_TIP = """
CREATE OR REPLACE FUNCTION bank_guard_chain_tip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'audit_chain_tip follows the audit trail: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'audit_chain_tip moves only with the audit trail: UPDATE refused' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NEW.chain_id IS DISTINCT FROM OLD.chain_id
     OR (OLD.entry_id IS NOT NULL AND (NEW.entry_id IS NULL OR NEW.entry_id <= OLD.entry_id)) THEN
    RAISE EXCEPTION 'audit_chain_tip never moves backwards nor to another chain: UPDATE refused'
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
"""


def create_chain_tip_guard() -> None:
    _execute(
        postgresql=(
            PG_FUNCTION,
            PG_FOLLOW_DEFINER,
            PG_LOCK_TIP,
            PG_GUARD_TIP,
            "CREATE TRIGGER audit_chain_tip_guard BEFORE UPDATE OR DELETE ON audit_chain_tip "
            "FOR EACH ROW EXECUTE FUNCTION bank_guard_chain_tip()",
            _pg_no_truncate("audit_chain_tip"),
        ),
        sqlite=(
            "CREATE TRIGGER audit_chain_tip_no_delete BEFORE DELETE ON audit_chain_tip "
            "BEGIN SELECT RAISE(ABORT, 'audit_chain_tip follows the audit trail: DELETE refused'); END",
            "CREATE TRIGGER audit_chain_tip_guard BEFORE UPDATE ON audit_chain_tip "
            "WHEN NEW.id IS NOT OLD.id OR NEW.chain_id IS NOT OLD.chain_id "
            "OR NEW.entry_id IS NOT (SELECT max(id) FROM audit_entries) "
            "OR NEW.row_hash IS NOT (SELECT row_hash FROM audit_entries WHERE id = NEW.entry_id) "
            "BEGIN SELECT RAISE(ABORT, 'audit_chain_tip moves only with the audit trail: UPDATE refused'); END",
        ),
    )


def drop_chain_tip_guard() -> None:
    _execute(
        postgresql=(
            "DROP TRIGGER IF EXISTS audit_chain_tip_guard ON audit_chain_tip",
            "DROP TRIGGER IF EXISTS audit_chain_tip_no_truncate ON audit_chain_tip",
            "DROP FUNCTION IF EXISTS bank_guard_chain_tip()",
            "DROP FUNCTION IF EXISTS bank_lock_chain_tip()",
        ),
        sqlite=(
            "DROP TRIGGER IF EXISTS audit_chain_tip_no_delete",
            "DROP TRIGGER IF EXISTS audit_chain_tip_guard",
        ),
    )
