"""Server-side sessions and sign-in throttling, both kept in the database so that every worker and
host shares them (21 CFR 11.300(d): attempted unauthorised use is detected and recorded).

A browser session is a row: the cookie carries only a random id, stored here as its SHA-256, so signing
out, a password change or reset, a deactivation, the idle time-out and the absolute lifetime end it for
good, and a replayed cookie finds an ended row. Every sign-in attempt is a row too (unknown user names
included): throttling counts the recent failures per client address and per user name.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.i18n import N_
from bank.models import SignInAttempt, User, UserSession

# Outcomes that count towards throttling (a throttled request is recorded but does not prolong it).
FAILURES = ("unknown_user", "wrong_password", "locked", "deactivated")
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often: one write a minute


def hash_session_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def start_session(session: Session, user: User, address: str, user_agent: str, lifetime: timedelta) -> str:
    """A new session for `user`; returns the random id for the cookie (only its hash is stored)."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_session_id(raw),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            address=(address or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    session.flush()
    return raw


@dataclass(frozen=True)
class Found:
    row: UserSession | None
    user: User | None
    ended_because: str | None  # None: the session is valid


def find_session(session: Session, raw: str | None, idle: timedelta) -> Found:
    """The session behind a cookie's id and its user, or why it is no longer valid (one query)."""
    if not raw or len(raw) > 100:
        return Found(None, None, N_("unknown"))
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_session_id(raw))
    ).first()
    if found is None:
        return Found(None, None, N_("unknown"))
    row, user = found
    now = utcnow()
    if row.ended_at is not None:
        why = row.end_reason or N_("ended")
    elif now >= row.expires_at:
        why = N_("absolute lifetime reached")
    elif now - row.last_seen_at > idle:
        why = N_("idle time-out")
    elif not user.is_active:
        why = N_("account deactivated")
    else:
        why = None
    return Found(row, user, why)


def needs_touch(row: UserSession) -> bool:
    return utcnow() - row.last_seen_at >= TOUCH_EVERY


def touch(row: UserSession) -> None:
    row.last_seen_at = utcnow()


def end_session(row: UserSession, reason: str) -> None:
    if row.ended_at is None:
        row.ended_at = utcnow()
        row.end_reason = reason[:60]


def end_sessions_of(session: Session, user_id: int, reason: str, keep_id: int | None = None) -> int:
    """End every open session of a user (but `keep_id`); returns how many were ended."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:60])
        .execution_options(synchronize_session="fetch")
    )
    if keep_id is not None:
        stmt = stmt.where(UserSession.id != keep_id)
    return session.execute(stmt).rowcount or 0


def open_sessions_of(session: Session, user_id: int, idle: timedelta) -> list[UserSession]:
    """The sessions of a user that still let someone in: not ended, not idle, not past their lifetime."""
    now = utcnow()
    return list(
        session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.ended_at.is_(None),
                UserSession.expires_at > now,
                UserSession.last_seen_at > now - idle,
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


# ---- attempts and throttling ---------------------------------------------------------------------


def record_attempt(
    session: Session,
    username: str,
    address: str,
    outcome: str,
    user_id: int | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        SignInAttempt(
            at=at or utcnow(),
            username=(username or "")[:64],
            user_id=user_id,
            address=(address or "")[:64],
            outcome=outcome,
        )
    )
    session.flush()


@dataclass(frozen=True)
class Limits:
    per_address: int  # failures a minute from one client address
    per_name: int  # failures a minute for one user name
    window: timedelta = timedelta(minutes=1)


def retry_after(session: Session, username: str, address: str, limits: Limits) -> int | None:
    """Seconds to wait before the next attempt, or None: past `per_address` failures in the window from
    this address, or `per_name` for this user name (known or not: the answer tells nothing about it)."""
    now = utcnow()
    since = now - limits.window
    waits = []
    for column, value, limit in (
        (SignInAttempt.address, address, limits.per_address),
        (SignInAttempt.username, username, limits.per_name),
    ):
        if limit < 1:
            continue
        recent = list(
            session.scalars(
                select(SignInAttempt.at)
                .where(
                    column == (value or "")[:64],
                    SignInAttempt.at > since,
                    SignInAttempt.outcome.in_(FAILURES),
                )
                .order_by(SignInAttempt.at.desc())
                .limit(limit)
            )
        )
        if len(recent) >= limit:
            # Allowed again when the oldest of the last `limit` failures leaves the window.
            waits.append(math.ceil((recent[-1] + limits.window - now).total_seconds()))
    return max(1, *waits) if waits else None


def failures_since(session: Session, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(SignInAttempt)
            .where(SignInAttempt.at > since, SignInAttempt.outcome.in_(FAILURES))
        )
        or 0
    )
