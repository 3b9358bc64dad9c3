"""Electronic signatures (21 CFR 11.50, 11.70, 11.200): password re-entry, meaning, and a digest that
binds the signature to exactly the content signed, so it cannot be moved to another record."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from bank.audit import record_event
from bank.clock import utcnow
from bank.db import rows_of
from bank.digest import canonical, content_digest
from bank.i18n import t
from bank.models import Signature, User
from bank.passwords import verify_password
from bank.refusals import Refused
from bank.uow import keep_whatever_happens
from bank.users import count_failed_password


class SignatureError(Refused):
    """The signature was refused (wrong password, inactive or locked account): shown under the password."""

    def __init__(self, message: str):
        super().__init__({"signature_password": message})


def _binding(
    sig_user_id: int,
    printed_name: str,
    meaning: str,
    signed_at_iso: str,
    entity: str,
    entity_id: str,
    digest: str,
) -> str:
    return hashlib.sha256(
        canonical([sig_user_id, printed_name, meaning, signed_at_iso, entity, entity_id, digest]).encode()
    ).hexdigest()


def _binding_of(sig: Signature) -> str:
    """The digest that binds a signature's own fields together: who, in what name, meaning what, when, on
    which record and which content (a signature edited in the database no longer matches it)."""
    when = sig.signed_at.isoformat()
    return _binding(
        sig.user_id, sig.printed_name, sig.meaning, when, sig.entity, sig.entity_id, sig.content_digest
    )


def _check_password(session: Session, user: User, password: str) -> None:
    """A signature's password is checked like a login's (21 CFR 11.300(d)): a wrong one counts towards
    the account's lockout even though the refused signature rolls its unit of work back, and a right one
    ends the run of failures."""
    if not user.is_active or user.is_locked:
        raise SignatureError(t("this account cannot sign (inactive or locked)"))
    if not password or not verify_password(user.password_hash, password):
        user_id, max_failed = user.id, session.info.get("max_failed_logins", 5)

        def count_failure(s: Session) -> None:
            count_failed_password(s.get(User, user_id), max_failed)
            s.flush()

        keep_whatever_happens(session, count_failure)
        left = max(0, max_failed - user.failed_logins - 1)
        raise SignatureError(
            t(
                "password incorrect: the signature was not applied; %(attempts)s attempt(s) left before the account locks",
                attempts=left,
            )
            if left
            else t(
                "password incorrect: the signature was not applied; the account is now locked (ask an "
                "administrator to unlock it)"
            )
        )
    if user.failed_logins:
        user.failed_logins = 0


def _apply(
    session: Session,
    user: User,
    meaning: str,
    entity: str,
    entity_id,
    content,
    audit_note: dict | None = None,
) -> Signature:
    digest = content_digest(content)
    sig = Signature(
        user_id=user.id,
        printed_name=user.full_name,
        meaning=meaning,
        signed_at=utcnow(),
        entity=entity,
        entity_id=str(entity_id),
        content_digest=digest,
    )
    sig.binding_digest = _binding_of(sig)
    session.add(sig)
    session.flush()
    record_event(
        session,
        "sign",
        entity,
        entity_id,
        {
            "signature": [None, sig.id],
            "meaning": [None, meaning],
            "content_digest": [None, digest],
            **(audit_note or {}),
        },
    )
    return sig


def sign(
    session: Session, user: User, password: str, meaning: str, entity: str, entity_id, content
) -> Signature:
    """Sign `content` of record (entity, entity_id) as `user`, re-checking the password."""
    _check_password(session, user, password)
    actor = session.info.get("actor")
    if actor is None or actor.id != user.id:
        raise SignatureError(t("a signature can only be applied by the signed-in person themselves"))
    return _apply(session, user, meaning, entity, entity_id, content)


def countersign(
    session: Session, user: User, password: str, meaning: str, entity: str, entity_id, content
) -> Signature:
    """A second person signs at the signed-in person's workstation (a hand-off: one hands over, the
    other receives). `user` proves who they are with their own password; they must not be the
    signed-in person (two people, two signatures). The audit row names both."""
    actor = session.info.get("actor")
    if actor is None:
        raise SignatureError(t("a countersignature is applied inside the signed-in person's unit of work"))
    if actor.id == user.id:
        raise SignatureError(t("the second signature must be another person's, not your own"))
    _check_password(session, user, password)
    return _apply(
        session,
        user,
        meaning,
        entity,
        entity_id,
        content,
        {"countersigned_at_session_of": [None, actor.name]},
    )


def signature_valid(sig: Signature, content) -> bool:
    """True when the signature still matches the record's current content and its own fields."""
    digest = content_digest(content)
    return digest == sig.content_digest and sig.binding_digest == _binding_of(sig)


def signatures_for(session: Session, entity: str, entity_id) -> list[Signature]:
    return rows_of(session, Signature, Signature.signed_at, entity=entity, entity_id=str(entity_id))
