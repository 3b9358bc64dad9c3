"""Schema: one migration head, upgrade on an empty database, no drift between models and migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bank.db import make_engine
from bank.metadata import include_object_on, target_metadata
from bank.migrate import alembic_config, upgrade


def test_single_migration_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"


def test_upgrade_on_empty_database_creates_every_table_without_drift(fresh_database):
    url = fresh_database(migrated=False)
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert set(target_metadata.tables) <= tables
            opts = {"compare_type": True, "include_object": include_object_on(conn.dialect.name)}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), target_metadata)
            assert diff == [], f"models and migrations drift: {diff}"
    finally:
        engine.dispose()
