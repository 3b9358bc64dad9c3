"""Password hashing with argon2id, and the password policy: 12 characters at least, not a common or
breached password (a bundled offline list), not the user name."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bank.i18n import t

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


MIN_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
# What people add to a common word to pass a rule: `Password1!` is `password` with a suffix.
_TRAILING_DIGITS_AND_SYMBOLS = re.compile(r"[\W\d_]+$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list (lower-case), read once: common and breached passwords, refused offline."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True for a listed password, ignoring case, also once trailing digits and symbols are stripped."""
    lowered = password.strip().lower()
    stripped = _TRAILING_DIGITS_AND_SYMBOLS.sub("", lowered)
    listed = common_passwords()
    return lowered in listed or (bool(stripped) and stripped in listed)


_dummy_hashes: dict[int, str] = {}


def verify_against_nothing(password: str) -> None:
    """Spend the time a real check spends, for a user name that does not exist: sign-in then answers
    in about the same time whether the name is known or not."""
    key = id(_hasher)  # hashed at the cost new passwords pay, as real users' hashes are
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("no such user: a password that matches nothing")
    verify_password(_dummy_hashes[key], password)


def policy_problems(password: str, username: str = "") -> list[str]:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(t("at least %(count)s characters", count=MIN_LENGTH))
    if is_common(password):
        problems.append(t("this password is on the list of common or breached passwords; choose another"))
    if len(password) > 256:
        problems.append(t("at most 256 characters"))
    if username and username.lower() in password.lower():
        problems.append(t("must not contain the user name"))
    if password.isalpha() or password.isdigit():
        problems.append(t("mix letters with digits or symbols"))
    return problems
