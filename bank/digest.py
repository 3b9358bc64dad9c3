"""Canonical JSON and the content digest: one implementation for e-signatures, the audit chain, PDFs,
specifications and protocols, so the same content always gives the same digest (21 CFR 11.70)."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        # Aware times in UTC, so a digest never depends on the zone a time was read or shown in.
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if isinstance(value, set | frozenset):
        return sorted(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot put {type(value).__name__} in a document digest: {value!r}")


def canonical(data: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text; dates ISO 8601 (aware ones in UTC), Decimal and UUID as
    strings, enums by value, sets sorted, dataclasses as dicts; anything else is refused (TypeError)."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_encode, allow_nan=False
    )


def content_digest(data: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `data`: rebuild `data` from the database to verify."""
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def plain(value: Any) -> Any:
    """A field value as the audit trail records it: JSON scalars as they are, floats by repr, the
    types canonical JSON knows as it writes them, anything else as its text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    try:
        return _encode(value)
    except TypeError:
        return str(value)
