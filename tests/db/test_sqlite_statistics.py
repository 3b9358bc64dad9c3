"""SQLite keeps no planner statistics unless asked (issue 9): without them the allocation's shelf read
sorted a whole product's bags. A connection gathers them when the database has none, and every
connection refreshes them hourly as it returns to the pool."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bank import db as bank_db
from bank.db import make_engine


def _stat_rows(conn) -> int:
    if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() == 0:
        return 0
    return conn.exec_driver_sql("SELECT count(*) FROM sqlite_stat1").scalar()


def test_statistics_are_gathered_when_missing_and_refreshed_hourly(fresh_database, monkeypatch):
    url = fresh_database()
    if not url.startswith("sqlite"):
        pytest.skip("PostgreSQL gathers statistics itself (autovacuum)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE shelf (id INTEGER PRIMARY KEY, expires INTEGER)"))
            conn.execute(text("CREATE INDEX shelf_expires ON shelf (expires)"))
            conn.execute(text("INSERT INTO shelf (expires) VALUES (1), (2), (3)"))
            if _stat_rows(conn):
                conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        engine.dispose()
        with engine.connect() as conn:  # a new connection on a database without statistics gathers them
            assert _stat_rows(conn) > 0
            conn.exec_driver_sql("DELETE FROM sqlite_stat1")
            conn.commit()
        with engine.connect() as conn:  # back in the pool within the hour: left alone
            assert _stat_rows(conn) == 0
        monkeypatch.setattr(bank_db, "SQLITE_ANALYZE_EVERY_S", 0)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with engine.connect() as conn:  # the hour is up: its return to the pool gathered them again
            assert _stat_rows(conn) > 0
    finally:
        engine.dispose()
