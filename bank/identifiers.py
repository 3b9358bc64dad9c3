"""Counters that issue numbers once and never again (DIN sequences, donor codes)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank.models import IdentifierCounter


def next_value(session: Session, name: str, scope: str = "", limit: int | None = None) -> int:
    """The next number of counter (name, scope); concurrent callers each get a distinct number.
    PostgreSQL: the counter row is locked FOR UPDATE; SQLite: transactions that write are IMMEDIATE."""
    stmt = select(IdentifierCounter).where(IdentifierCounter.name == name, IdentifierCounter.scope == scope)
    counter = session.scalar(stmt.with_for_update())
    if counter is None:
        try:
            with session.begin_nested():  # a concurrent first use may create the row first
                session.add(IdentifierCounter(name=name, scope=scope, value=0))
        except IntegrityError:
            pass
        counter = session.scalar(stmt.with_for_update())
    counter.value += 1
    if limit is not None and counter.value > limit:
        raise ValueError(f"counter {name} {scope} exhausted (limit {limit})")
    session.flush()
    return counter.value
