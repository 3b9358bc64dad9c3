"""User accounts: creation, sign-in with a temporary lockout (21 CFR 11.300(d)), password change with
history, roles, deactivation.

Users are never deleted, only deactivated. A wrong password (at sign-in or at a signature) counts
towards a lock that ends by itself, longer each time (LOCK_FIRST, doubled up to LOCK_LONGEST), so
anonymous attempts can hold an account back for a while but never lock its owner out for good.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from bank.clock import utcnow
from bank.i18n import N_, joined, t
from bank.models import ApiToken, PasswordHistory, User
from bank.passwords import hash_password, policy_problems, verify_against_nothing, verify_password
from bank.permissions import ROLES, permissions_for
from bank.signals import account_locked
from bank.signin import end_sessions_of, record_attempt
from bank.uow import Actor

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
LOCK_FIRST = timedelta(minutes=1)
LOCK_LONGEST = timedelta(hours=1)
PASSWORD_HISTORY = 5  # the last passwords (the current one included) that cannot be chosen again
# The one answer to every refused sign-in, whatever the reason: it tells nobody which names exist.
SIGN_IN_REFUSED = t(
    "Unknown user name or wrong password. After repeated failures an account waits a few "
    "minutes before it accepts a sign-in."
)


class UserError(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def actor_for(user: User) -> Actor:
    return Actor(
        user.id, f"{user.full_name} ({user.username})", permissions_for(user.role_list, user.unblinded)
    )


def create_user(
    session: Session,
    username: str,
    full_name: str,
    roles: list[str],
    password: str,
    unblinded: bool = False,
    must_change_password: bool = True,
) -> User:
    username = (username or "").strip().lower()
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = t("2–64 characters: lower-case letters, digits, . _ -, starting with a letter")
    elif session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = t("the user name '%(name)s' is already taken", name=username)
    if not (full_name or "").strip():
        errors["full_name"] = t("the printed name is required (it appears on signatures)")
    if not roles or set(roles) - set(ROLES):
        errors["roles"] = t("choose at least one role among %(roles)s", roles=", ".join(ROLES))
    problems = policy_problems(password or "", username)
    if problems:
        errors["password"] = joined(problems)
    if errors:
        raise UserError(errors)
    user = User(
        username=username,
        full_name=full_name.strip(),
        unblinded=unblinded,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
        password_changed_at=utcnow(),
    )
    user.role_list = roles
    session.add(user)
    session.flush()
    _remember_password(session, user)
    return user


def _remember_password(session: Session, user: User) -> None:
    session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash, set_at=utcnow()))
    session.flush()


def _used_before(session: Session, user: User, password: str) -> bool:
    """True when `password` is the current one or among the last PASSWORD_HISTORY ones."""
    hashes = list(
        session.scalars(
            select(PasswordHistory.password_hash)
            .where(PasswordHistory.user_id == user.id)
            .order_by(PasswordHistory.id.desc())
            .limit(PASSWORD_HISTORY)
        )
    )
    return any(verify_password(h, password) for h in {user.password_hash, *hashes})


def generate_password() -> str:
    return secrets.token_urlsafe(12) + "-7"


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    message: str | None  # why the login was refused (the same words whatever the reason)
    outcome: str = "success"  # as recorded in sign_in_attempts


def authenticate(
    session: Session, username: str, password: str, max_failed: int, address: str = ""
) -> LoginOutcome:
    """Check a sign-in and record the attempt. An unknown name, a wrong password, a locked or a
    deactivated account all get the same answer after the same work (a password verification, against
    a dummy hash for an unknown name). A wrong password counts towards the temporary lock; attempts on a
    locked account do not prolong it. Caller wraps this in a unit of work (audited, committed)."""
    name = (username or "").strip().lower()[:64]
    password = password or ""
    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        verify_against_nothing(password)
        outcome = "unknown_user"
    else:
        right = verify_password(user.password_hash, password)
        if not user.is_active:
            outcome = "deactivated"
        elif user.is_locked:
            outcome = "locked"
        elif not right:
            count_failed_password(user, max_failed)
            outcome = "wrong_password"
        else:
            outcome = "success"
    record_attempt(session, name, address, outcome, user.id if user is not None else None)
    if outcome != "success":
        return LoginOutcome(None, SIGN_IN_REFUSED, outcome)
    user.failed_logins = 0
    user.locked_at = user.locked_until = None
    user.last_login_at = utcnow()
    return LoginOutcome(user, None)


def lock_duration(failed: int, max_failed: int) -> timedelta:
    """How long an account waits after its `failed`-th consecutive wrong password: LOCK_FIRST at
    `max_failed`, twice as long at each failure after a lock has run out, at most LOCK_LONGEST."""
    doublings = min(max(0, failed - max_failed), 16)
    return min(LOCK_LONGEST, LOCK_FIRST * 2**doublings)


def count_failed_password(user: User, max_failed: int) -> int:
    """One more consecutive wrong password for `user`, at a login or a signature alike: from
    `max_failed` on, the account is locked for lock_duration(). Returns the attempts left (0: locked now)."""
    user.failed_logins += 1
    if user.failed_logins >= max_failed:
        user.locked_at = utcnow()
        user.locked_until = user.locked_at + lock_duration(user.failed_logins, max_failed)
        session = object_session(user)
        if session is not None:
            account_locked.send(session, user=user)  # administrators are told (bank.notifications)
    return max(0, max_failed - user.failed_logins)


def revoke_tokens_of(session: Session, user: User) -> int:
    """Revoke every API token of `user` (each revocation audited); returns how many."""
    tokens = list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    )
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
    session.flush()
    return len(tokens)


def change_password(
    session: Session, user: User, current: str, new: str, confirm: str, keep_session_id: int | None = None
) -> None:
    """The user's own change: every other session of theirs ends (`keep_session_id`: the one in use)."""
    errors = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current_password"] = t("the current password is wrong")
    if new != confirm:
        errors["confirm"] = t("the two new passwords differ")
    problems = policy_problems(new or "", user.username)
    if problems:
        errors["new_password"] = joined(problems)
    elif _used_before(session, user, new):
        errors["new_password"] = t(
            "choose a password different from your last %(count)s passwords", count=PASSWORD_HISTORY
        )
    if errors:
        raise UserError(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.flush()
    _remember_password(session, user)
    end_sessions_of(session, user.id, N_("password changed"), keep_id=keep_session_id)


def reset_password(session: Session, user: User) -> str:
    """Admin reset: a one-time password the user must change at next login. Whoever held the old
    password may have taken sessions or tokens with it: every session ends and every API token is revoked."""
    temporary = generate_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_at = user.locked_until = None
    session.flush()
    _remember_password(session, user)
    end_sessions_of(session, user.id, N_("password reset by an administrator"))
    revoke_tokens_of(session, user)
    return temporary


def update_account(
    session: Session,
    user: User,
    full_name: str,
    roles: list[str],
    unblinded: bool,
    is_active: bool,
    acting_user_id: int,
) -> None:
    errors = {}
    if not (full_name or "").strip():
        errors["full_name"] = t("the printed name is required")
    if not roles or set(roles) - set(ROLES):
        errors["roles"] = t("choose at least one role among %(roles)s", roles=", ".join(ROLES))
    if user.id == acting_user_id and ("admin" not in roles or not is_active):
        errors["roles"] = t("you cannot remove your own administrator role or deactivate yourself")
    if errors:
        raise UserError(errors)
    user.full_name = full_name.strip()
    user.role_list = roles
    user.unblinded = unblinded
    deactivated = user.is_active and not is_active
    user.is_active = is_active
    session.flush()
    if deactivated:
        end_sessions_of(session, user.id, N_("account deactivated"))
        revoke_tokens_of(session, user)


def unlock(session: Session, user: User) -> None:
    user.locked_at = user.locked_until = None
    user.failed_logins = 0
    session.flush()


def recently_locked(session: Session, hours: int = 24) -> list[User]:
    """Accounts locked by wrong passwords in the last `hours`: the administrators' alert list."""
    return list(
        session.scalars(
            select(User)
            .where(User.locked_at > utcnow() - timedelta(hours=hours))
            .order_by(User.locked_at.desc())
        )
    )


def bootstrap_admin(session: Session, password: str | None) -> tuple[User, str] | None:
    """First start: when there is no user at all, create `admin` with a one-time password."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = password or generate_password()
    user = create_user(session, "admin", "Administrator", ["admin"], password, must_change_password=True)
    return user, password
