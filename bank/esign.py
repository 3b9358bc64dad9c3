"""Electronic signatures (21 CFR 11.50, 11.70, 11.200): password re-entry, meaning, and a digest that
binds the signature to exactly the content signed, so it cannot be moved to another record."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.audit import canonical, record_event
from bank.db import utcnow
from bank.models import Signature, User
from bank.passwords import verify_password


class SignatureError(ValueError):
    """The signature was refused (wrong password, inactive or locked account)."""


def content_digest(content) -> str:
    return hashlib.sha256(canonical(content).encode()).hexdigest()


def _binding(sig_user_id: int, printed_name: str, meaning: str, signed_at_iso: str, entity: str,
             entity_id: str, digest: str) -> str:
    return hashlib.sha256(
        canonical([sig_user_id, printed_name, meaning, signed_at_iso, entity, entity_id, digest]).encode()
    ).hexdigest()


def sign(session: Session, user: User, password: str, meaning: str, entity: str, entity_id,
         content) -> Signature:
    """Sign `content` of record (entity, entity_id) as `user`, re-checking the password."""
    if not user.is_active or user.is_locked:
        raise SignatureError("this account cannot sign (inactive or locked)")
    if not password or not verify_password(user.password_hash, password):
        raise SignatureError("password incorrect: the signature was not applied")
    actor = session.info.get("actor")
    if actor is None or actor.id != user.id:
        raise SignatureError("a signature can only be applied by the signed-in person themselves")
    digest = content_digest(content)
    signed_at = utcnow()
    sig = Signature(
        user_id=user.id, printed_name=user.full_name, meaning=meaning, signed_at=signed_at,
        entity=entity, entity_id=str(entity_id), content_digest=digest,
        binding_digest=_binding(user.id, user.full_name, meaning, signed_at.isoformat(), entity,
                                str(entity_id), digest),
    )
    session.add(sig)
    session.flush()
    record_event(session, "sign", entity, entity_id,
                 {"signature": [None, sig.id], "meaning": [None, meaning], "content_digest": [None, digest]})
    return sig


def signature_valid(sig: Signature, content) -> bool:
    """True when the signature still matches the record's current content and its own fields."""
    digest = content_digest(content)
    return digest == sig.content_digest and sig.binding_digest == _binding(
        sig.user_id, sig.printed_name, sig.meaning, sig.signed_at.isoformat(), sig.entity, sig.entity_id,
        sig.content_digest,
    )


def signatures_for(session: Session, entity: str, entity_id) -> list[Signature]:
    return list(session.scalars(
        select(Signature).where(Signature.entity == entity, Signature.entity_id == str(entity_id))
        .order_by(Signature.signed_at)
    ))
