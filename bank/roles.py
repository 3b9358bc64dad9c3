"""Least privilege on PostgreSQL (EU GMP Annex 11 §12; 21 CFR 11.10(d)): the schema's owner runs the
migrations (MIGRATION_DATABASE_URL); the application's role (DATABASE_URL) reads and writes rows but owns
nothing, so it cannot alter a table, switch a trigger off, or update and delete the audit trail or its tip."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bank.i18n import t


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum() or name[0].isdigit():
        raise ValueError(
            t("%(name)s is not a plain role name (letters, digits, underscores)", name=repr(name))
        )
    return name


def roles_sql(owner: str, app: str, database: str, schema: str = "public") -> list[str]:
    """Statements a superuser runs once: the two login roles (without passwords: set them with
    `ALTER ROLE … PASSWORD` or `\\password`), the owner's right to create in the schema, the app's to use it."""
    owner, app, database, schema = map(_ident, (owner, app, database, schema))
    create = (
        "DO $$ BEGIN CREATE ROLE {0} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; "
        "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    )
    return [
        create.format(owner),
        create.format(app),
        f"GRANT CONNECT, CREATE ON DATABASE {database} TO {owner}",
        f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {owner}",
        f"GRANT CONNECT ON DATABASE {database} TO {app}",
        f"GRANT USAGE ON SCHEMA {schema} TO {app}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
    ]


def grant_app(conn: Connection, app: str) -> list[str]:
    """Run by the owner after every migration: rows of every table to read and write, none to delete;
    the audit trail to read and insert only, its tip and the migration version to read only (the tip
    moves through the owner's functions). The other append-only tables (status history, signatures,
    storage and custody events) keep UPDATE and DELETE so that their triggers, which this role cannot
    switch off, answer with the reason ("… is append-only") rather than a bare permission error."""
    app = _ident(app)
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    append_only = (
        conn.execute(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :s AND t.tgname LIKE '%\\_append\\_only'"
            ),
            {"s": schema},
        )
        .scalars()
        .all()
    )
    statements = [
        f'GRANT USAGE ON SCHEMA "{schema}" TO {app}',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {app}',
        f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO {app}',
        *(
            f'GRANT DELETE ON "{schema}".{table} TO {app}'
            for table in sorted(append_only)
            if table != "audit_entries"
        ),
        f'REVOKE UPDATE ON "{schema}".audit_entries FROM {app}',
        f'REVOKE INSERT, UPDATE ON "{schema}".audit_chain_tip, "{schema}".alembic_version FROM {app}',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {app}',
        f'REVOKE ALL ON FUNCTION "{schema}".bank_lock_chain_tip() FROM PUBLIC',
        f'GRANT EXECUTE ON FUNCTION "{schema}".bank_lock_chain_tip() TO {app}',
    ]
    for statement in statements:
        conn.execute(text(statement))
    return statements
