"""Database triggers used by migrations: tables made append-only on SQLite and PostgreSQL, and the
audit chain's tip kept up to date.

No user of the application, administrator included, can update or delete these rows through SQL
issued by the application; a superuser who disables triggers is caught by `audit verify`."""

from __future__ import annotations

from alembic import op

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION bank_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def create_append_only(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION bank_refuse_change()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change()")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END")


def drop_append_only(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    else:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def create_chain_tip_trigger() -> None:
    """audit_chain_tip follows every insert into audit_entries (the service's appends, bulk loads alike).
    PostgreSQL: once per statement, from the rows it inserted (a multi-row insert or COPY updates the
    tip once). SQLite has no statement triggers: once per row."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
CREATE OR REPLACE FUNCTION bank_follow_chain_tip() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE audit_chain_tip SET entry_id = last.id, row_hash = last.row_hash
    FROM (SELECT id, row_hash FROM new_entries ORDER BY id DESC LIMIT 1) AS last
   WHERE audit_chain_tip.id = 1;
  RETURN NULL;
END $$;
""")
        op.execute("CREATE TRIGGER audit_entries_chain_tip AFTER INSERT ON audit_entries "
                   "REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION bank_follow_chain_tip()")
    else:
        op.execute("CREATE TRIGGER audit_entries_chain_tip AFTER INSERT ON audit_entries BEGIN "
                   "UPDATE audit_chain_tip SET entry_id = NEW.id, row_hash = NEW.row_hash WHERE id = 1; END")


def drop_chain_tip_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_chain_tip ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS bank_follow_chain_tip()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_chain_tip")
