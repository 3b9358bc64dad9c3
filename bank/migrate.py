"""Alembic, driven from code so the CLI, the app and the tests migrate the same way; then what only the
owner of the schema can do after a migration: grant the application's role its rows, and re-key an audit
chain written before keys (bank.rekey)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from bank import auditkey
from bank.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def upgrade_site(database_url: str, migration_url: str | None = None) -> list[str]:
    """`flask db upgrade` / `flask init`: migrate as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL);
    on PostgreSQL with two roles, grant the application's role (DATABASE_URL's user) its rights; re-key
    unkeyed audit rows under the configured key. Returns what was done, in words."""
    from bank.rekey import legacy_rows, rekey
    from bank.roles import grant_app

    owner_url = migration_url or database_url
    upgrade(owner_url)
    done = ["schema at the latest migration"]
    engine = make_engine(owner_url)
    try:
        app_role = make_url(database_url).username
        if migration_url and engine.dialect.name == "postgresql" and app_role != make_url(owner_url).username:
            with engine.begin() as conn:
                grant_app(conn, app_role)
            done.append(f"role {app_role} granted rows, not the schema")
        if legacy_rows(engine):
            count = rekey(
                engine,
                auditkey.current(),
                "system (migration)",
                "migration 0010: the audit chain, verified, re-keyed under the site's audit key",
            )
            done.append(f"audit chain verified and re-keyed: {count} rows")
    finally:
        engine.dispose()
    return done
