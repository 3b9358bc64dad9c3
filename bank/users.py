"""User accounts: creation, login with lockout (21 CFR 11.300(d)), password change, roles, deactivation.

Users are never deleted, only deactivated.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.models import User
from bank.passwords import hash_password, policy_problems, verify_password
from bank.permissions import ROLES, permissions_for
from bank.uow import Actor

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


class UserError(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def actor_for(user: User) -> Actor:
    return Actor(user.id, f"{user.full_name} ({user.username})", permissions_for(user.role_list, user.unblinded))


def create_user(session: Session, username: str, full_name: str, roles: list[str], password: str,
                unblinded: bool = False, must_change_password: bool = True) -> User:
    username = (username or "").strip().lower()
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = "2–64 characters: lower-case letters, digits, . _ -, starting with a letter"
    elif session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        errors["username"] = f"the user name '{username}' is already taken"
    if not (full_name or "").strip():
        errors["full_name"] = "the printed name is required (it appears on signatures)"
    if not roles or set(roles) - set(ROLES):
        errors["roles"] = "choose at least one role among " + ", ".join(ROLES)
    problems = policy_problems(password or "", username)
    if problems:
        errors["password"] = "; ".join(problems)
    if errors:
        raise UserError(errors)
    user = User(username=username, full_name=full_name.strip(), unblinded=unblinded,
                password_hash=hash_password(password), must_change_password=must_change_password,
                password_changed_at=utcnow())
    user.role_list = roles
    session.add(user)
    session.flush()
    return user


def generate_password() -> str:
    return secrets.token_urlsafe(12) + "-7"


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    message: str | None  # why the login was refused


def authenticate(session: Session, username: str, password: str, max_failed: int) -> LoginOutcome:
    """Check a login. Counts failures; the account locks after `max_failed` consecutive ones, and a
    locked account is refused even with the right password until an admin unlocks it.
    Caller wraps this in a unit of work so the counter change is audited and committed."""
    generic = "Unknown user name or wrong password."
    user = session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if user is None:
        return LoginOutcome(None, generic)
    if user.is_locked:
        return LoginOutcome(None, "This account is locked after repeated failed logins. Ask an administrator to unlock it.")
    if not user.is_active:
        return LoginOutcome(None, "This account is deactivated.")
    if not verify_password(user.password_hash, password or ""):
        left = count_failed_password(user, max_failed)
        if left == 0:
            return LoginOutcome(None, "Wrong password. The account is now locked; ask an administrator to unlock it.")
        return LoginOutcome(None, f"{generic} {left} attempt(s) left before the account locks.")
    user.failed_logins = 0
    user.last_login_at = utcnow()
    return LoginOutcome(user, None)


def count_failed_password(user: User, max_failed: int) -> int:
    """One more consecutive wrong password for `user`, at a login or a signature alike: the account
    locks at `max_failed`. Returns the attempts left (0: locked now)."""
    user.failed_logins += 1
    if user.failed_logins >= max_failed:
        user.locked_at = utcnow()
    return max(0, max_failed - user.failed_logins)


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    errors = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current_password"] = "the current password is wrong"
    if new != confirm:
        errors["confirm"] = "the two new passwords differ"
    problems = policy_problems(new or "", user.username)
    if problems:
        errors["new_password"] = "; ".join(problems)
    elif current and new == current:
        errors["new_password"] = "choose a password different from the current one"
    if errors:
        raise UserError(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.flush()


def reset_password(session: Session, user: User) -> str:
    """Admin reset: a one-time password the user must change at next login."""
    temporary = generate_password()
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_at = None
    session.flush()
    return temporary


def update_account(session: Session, user: User, full_name: str, roles: list[str], unblinded: bool,
                   is_active: bool, acting_user_id: int) -> None:
    errors = {}
    if not (full_name or "").strip():
        errors["full_name"] = "the printed name is required"
    if not roles or set(roles) - set(ROLES):
        errors["roles"] = "choose at least one role among " + ", ".join(ROLES)
    if user.id == acting_user_id and ("admin" not in roles or not is_active):
        errors["roles"] = "you cannot remove your own administrator role or deactivate yourself"
    if errors:
        raise UserError(errors)
    user.full_name = full_name.strip()
    user.role_list = roles
    user.unblinded = unblinded
    user.is_active = is_active
    session.flush()


def unlock(session: Session, user: User) -> None:
    user.locked_at = None
    user.failed_logins = 0
    session.flush()


def bootstrap_admin(session: Session, password: str | None) -> tuple[User, str] | None:
    """First start: when there is no user at all, create `admin` with a one-time password."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = password or generate_password()
    user = create_user(session, "admin", "Administrator", ["admin"], password, must_change_password=True)
    return user, password
