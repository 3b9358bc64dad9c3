"""Password hashing with argon2id, and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults (RFC 9106's low-memory profile): the cost every stored password pays.
PRODUCTION_HASHER = PasswordHasher()
# For the test suite only: thousands of users, sign-ins and signatures at production cost made the
# suite spend most of its time hashing. Verification reads the cost from the stored hash, so either
# hasher checks any hash.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
_hasher = PRODUCTION_HASHER


def use_cheap_hashing() -> None:
    """Hash new passwords at the cheapest cost: called by the test suite, never by the application."""
    global _hasher
    _hasher = CHEAP_HASHER


def hashing_is_cheap() -> bool:
    return _hasher is CHEAP_HASHER
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def policy_problems(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > 256:
        problems.append("at most 256 characters")
    if username and username.lower() in password.lower():
        problems.append("must not contain the user name")
    if password.isalpha() or password.isdigit():
        problems.append("mix letters with digits or symbols")
    return problems
