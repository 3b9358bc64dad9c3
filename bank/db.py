"""Database plumbing: the typed declarative Base, engines, sessions and UTC timestamps.

SQLite is the embedded default (foreign keys on, WAL); PostgreSQL via psycopg 3 in production.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import DateTime, Integer, MetaData, TypeDecorator, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, declared_attr, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores UTC; always hands back timezone-aware UTC datetimes, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: every stored time is timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class Versioned:
    """Optimistic locking: a stale UPDATE raises StaleDataError, shown to the user as a 409."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for a CHECK constraint tying a status-like column to its allowed words."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# On SQLite a unit of work's transaction begins IMMEDIATE (takes the write lock first) so two writers
# queue instead of failing on a lock upgrade; reads outside a unit of work begin DEFERRED and run in
# parallel under WAL without blocking writers. Set by bank.uow.unit_of_work.
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=False)
SQLITE_ANALYZE_EVERY_S = 3600


def _analyze(dbapi_conn) -> None:
    """SQLite never gathers planner statistics by itself; without them it sorted a whole product's bags
    to find the first to expire (57 ms at ten years instead of 0.3 ms). Gathered when a database has
    none yet and hourly as a connection returns to the pool, so they follow the growing data; a full
    ANALYZE (the sampled one, analysis_limit, misjudged the lots by product) takes 2.5 s at ten years of
    a busy facility, a quarter of a second at a tenth."""
    try:
        dbapi_conn.execute("ANALYZE")
    except sqlite3.OperationalError:  # a writer held the lock past busy_timeout: next time
        pass


def _has_statistics(dbapi_conn) -> bool:
    if (
        dbapi_conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()[0]
        == 0
    ):
        return False
    return dbapi_conn.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, record):
            # Python's sqlite3 opens transactions lazily; take control so BEGIN is explicit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
            record.info["analyzed_at"] = time.monotonic()
            if not _has_statistics(dbapi_conn):
                _analyze(dbapi_conn)

        @event.listens_for(engine, "checkin")
        def _sqlite_statistics(dbapi_conn, record):
            if (
                dbapi_conn is not None
                and time.monotonic() - record.info.get("analyzed_at", 0) >= SQLITE_ANALYZE_EVERY_S
            ):
                record.info["analyzed_at"] = time.monotonic()
                _analyze(dbapi_conn)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine, max_failed_logins: int = 5) -> sessionmaker[Session]:
    """Sessions on `engine`. `max_failed_logins` rides in session.info for the services that count wrong
    passwords outside the login page (e-signatures: bank.esign)."""
    return sessionmaker(
        bind=engine, expire_on_commit=False, autoflush=True, info={"max_failed_logins": max_failed_logins}
    )


@lru_cache(maxsize=256)
def from_stored_json(cls, text: str):
    """`cls.from_dict` of a record's stored JSON (a protocol, a specification), remembered by the text
    itself, so never stale; `cls` must be frozen, since every reader of that text shares the object.
    The rules read these definitions several times a request (an allocation, its protocol four times)."""
    return cls.from_dict(json.loads(text))


def rows_of(session: Session, model, *order_by, **equal) -> list:
    """The rows of `model` whose columns equal `equal` (None: IS NULL), in `order_by` order: the one
    query behind every record's list of its own entries (a donor's courses, a lot's alerts)."""
    return list(session.scalars(select(model).filter_by(**equal).order_by(*order_by)))
