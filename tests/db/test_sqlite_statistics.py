"""SQLite keeps no planner statistics unless asked (issue 9): without them the allocation's shelf read
sorted a whole product's bags. Every SQLite connection gathers them when it opens, and again hourly as it
returns to the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bank import db as bank_db
from bank.db import make_engine


def _stat_rows(conn) -> int:
    if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 0:
        return 0
    return conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar()


def test_statistics_are_gathered_on_connect_and_refreshed_on_return(fresh_database, monkeypatch):
    url = fresh_database()
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL gathers statistics itself (autovacuum)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            assert _stat_rows(conn) > 0, "the connection analysed the migrated schema when it opened"
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        with engine.connect() as conn:  # returned within the hour: nothing done
            assert _stat_rows(conn) == 0
        monkeypatch.setattr(bank_db, "SQLITE_ANALYZE_EVERY_S", 0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:  # the previous return ran ANALYZE
            assert _stat_rows(conn) > 0
    finally:
        engine.dispose()
