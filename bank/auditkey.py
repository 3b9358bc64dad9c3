"""The audit chain's secret (EU GMP Annex 11 §7, §12; 21 CFR 11.10(c)): a key the database does not
hold, so that whoever can write SQL cannot forge a row, a chain or a checkpoint.

Every row carries the id of the key that keyed it. The process holds a keyring: the key it writes
with (the last installed) and the keys it may verify with (every key installed in this process)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AuditKey:
    secret: bytes

    @property
    def id(self) -> str:
        # Names the key without revealing it (a one-way digest under a fixed label).
        return hashlib.sha256(b"bank audit key id|" + self.secret).hexdigest()[:16]

    def mac(self, text: str) -> str:
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()


def key_from_text(text: str) -> AuditKey:
    text = text.strip()
    if len(text) < 32:
        raise ValueError(
            'an audit key must be at least 32 characters (e.g. `python -c "import secrets; '
            'print(secrets.token_hex(32))"`)'
        )
    return AuditKey(text.encode())


def load_audit_key(instance: Path, secret_key: str | None = None) -> str:
    """AUDIT_KEY from the environment, else one generated once into instance/audit_key (mode 0600)."""
    text = os.environ.get("AUDIT_KEY")
    if not text:
        path = instance / "audit_key"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        text = path.read_text().strip()
    if secret_key is not None and text.strip() == secret_key.strip():
        raise ValueError(
            "AUDIT_KEY must differ from SECRET_KEY: the session key is held by every worker "
            "and signs cookies; the audit key guards the trail"
        )
    key_from_text(text)  # refuses a short key now, not at the first write
    return text


_KEYRING: dict[str, AuditKey] = {}
_CURRENT: list[AuditKey] = []


def install(text: str) -> AuditKey:
    """Write with this key from now on; keep verifying with the ones installed before it."""
    key = key_from_text(text)
    _KEYRING[key.id] = key
    _CURRENT[:] = [key]
    return key


def current() -> AuditKey:
    if not _CURRENT:
        raise RuntimeError(
            "no audit key installed (bank.auditkey.install): the audit chain cannot be "
            "written or verified without it"
        )
    return _CURRENT[0]


def by_id(key_id: str | None) -> AuditKey | None:
    return _KEYRING.get(key_id or "")


def forget(key: AuditKey) -> None:
    """Drop a key from the keyring (after a re-keying, and in tests)."""
    _KEYRING.pop(key.id, None)
    if _CURRENT and _CURRENT[0].id == key.id:
        _CURRENT.clear()
