"""Unit of work: who acts and why, one commit at the end, rollback on any error.

Services never commit; the web, the CLI and the tests wrap their calls in `unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session

from bank.db import sqlite_write_intent


@dataclass(frozen=True)
class Actor:
    """The person (or the named system process) a write is attributed to in the audit trail."""

    id: int | None
    name: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    def can(self, permission: str) -> bool:
        return permission in self.permissions


SYSTEM = Actor(None, "system")


class NoActorError(RuntimeError):
    """A write to an audited record was attempted outside a unit of work (no actor to attribute it to)."""


_KEPT = "bank.uow.kept_whatever_happens"  # session.info key: writes that must outlive a rollback


def keep_whatever_happens(session: Session, write: Callable[[Session], None]) -> None:
    """Have `write(session)` done even when this unit of work fails: it runs just before the commit or,
    after a rollback, in a transaction of its own by the same actor. For the records the failure itself
    is evidence of (a wrong signature password counts towards the account's lockout, 21 CFR 11.300(d)),
    which the refusal would otherwise undo."""
    session.info.setdefault(_KEPT, []).append(write)


@contextmanager
def acting_with(session: Session, *permissions: str) -> Iterator[None]:
    """For a consequence the system takes on someone's behalf (a look-back or safety hold follows from a
    recorded result, not from the choice of whoever entered it): the actor holds `permissions` for this
    block only, and every write stays attributed to them."""
    actor = session.info["actor"]
    session.info["actor"] = replace(actor, permissions=actor.permissions | set(permissions))
    try:
        yield
    finally:
        session.info["actor"] = actor


@contextmanager
def unit_of_work(session: Session, actor: Actor, reason: str | None = None) -> Iterator[Session]:
    if session.info.get("actor") is not None:
        raise RuntimeError("unit_of_work is not re-entrant: one unit of work per transaction")
    if not isinstance(actor, Actor):
        raise NoActorError("a unit of work needs an Actor")
    if session.in_transaction() and not (session.new or session.dirty or session.deleted):
        # End the read transaction the caller may have open, so this unit of work starts its own
        # write transaction (IMMEDIATE on SQLite) and sees the latest committed data.
        session.commit()
    session.info["actor"] = actor
    session.info["reason"] = (reason or "").strip() or None
    intent = sqlite_write_intent.set(True)
    try:
        yield session
        for write in session.info.pop(_KEPT, ()):
            write(session)
        session.commit()
    except BaseException:
        session.rollback()
        kept = session.info.pop(_KEPT, ())
        if kept:
            try:
                for write in kept:
                    write(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        raise
    finally:
        sqlite_write_intent.reset(intent)
        session.info.pop(_KEPT, None)
        session.info.pop("actor", None)
        session.info.pop("reason", None)


def current_actor(session: Session) -> Actor | None:
    return session.info.get("actor")
