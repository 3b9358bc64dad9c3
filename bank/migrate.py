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
from bank.i18n import t

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
    unkeyed audit rows under the configured key. Returns what was done, one sentence a step."""
    from bank.rekey import legacy_rows, rekey
    from bank.roles import grant_app

    owner_url = migration_url or database_url
    engine = make_engine(owner_url)
    columns_before = _audited_columns(engine)
    upgrade(owner_url)
    done = [t("Schema at the latest migration.")]
    try:
        app_role = make_url(database_url).username
        if migration_url and engine.dialect.name == "postgresql" and app_role != make_url(owner_url).username:
            with engine.begin() as conn:
                grant_app(conn, app_role)
            done.append(t("Role %(role)s granted rows, not the schema.", role=app_role))
        if legacy_rows(engine):
            count = rekey(
                engine,
                auditkey.current(),
                "system (migration)",
                "migration 0010: the audit chain, verified, re-keyed under the site's audit key",
            )
            done.append(t("Audit chain verified and re-keyed: %(count)s rows.", count=count))
        recorded = _record_new_fields(engine, columns_before)
        if recorded:
            done.append(
                t(
                    "Initial values of new fields recorded in the audit trail: %(count)s records.",
                    count=recorded,
                )
            )
    finally:
        engine.dispose()
    return done


def _audited_columns(engine) -> dict[str, set[str]]:
    """The columns each audited table has now (tables not created yet are absent)."""
    from sqlalchemy import inspect

    from bank.integrity import audited_mappers

    inspector = inspect(engine)
    existing = set(inspector.get_table_names())
    return {
        m.class_.__tablename__: {c["name"] for c in inspector.get_columns(m.class_.__tablename__)}
        for m in audited_mappers()
        if m.class_.__tablename__ in existing
    }


def _record_new_fields(engine, before: dict[str, set[str]]) -> int:
    """A migration that adds a field to an audited table fills it for the records already there, outside
    the application. Those initial values go into the trail (one change per record, by the system, naming
    the migration), so that every audited value has its origin in the trail and `audit verify` can tell
    them from a change made behind the application's back. Returns how many records were recorded."""
    from sqlalchemy import select

    from bank.audit import record_event
    from bank.db import make_session_factory
    from bank.digest import plain
    from bank.integrity import audited_mappers
    from bank.uow import Actor, unit_of_work

    session = make_session_factory(engine)()
    count = 0
    try:
        with unit_of_work(session, Actor(None, "system (migration)"), "schema migration: new fields"):
            for mapper in audited_mappers():
                table = mapper.class_.__tablename__
                added = [
                    (a.key, a.columns[0])
                    for a in mapper.column_attrs
                    if table in before and a.columns[0].name not in before[table]
                ]
                if not added:
                    continue
                keys = [mapper.get_property_by_column(c) for c in mapper.primary_key]
                rows = session.execute(select(*[p.columns[0] for p in keys], *[c for _k, c in added]))
                for row in rows:
                    ident = "/".join(str(v) for v in row[: len(keys)])
                    changes = {
                        k: [None, plain(v)] for (k, _c), v in zip(added, row[len(keys) :], strict=True)
                    }
                    record_event(session, "update", table, ident, changes, "schema migration: new fields")
                    count += 1
    finally:
        session.close()
    return count
