"""Nothing typed is lost: a form sent after its sender's session ended (idle time-out) is kept, for the
same user only, and shown again filled in on the page it came from once they have signed in, to check
and send with a fresh CSRF token. Password fields (signature re-entry included) are never kept."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.models import PendingForm

NEVER_KEPT = ("csrf_token",)
MAX_KEPT_FIELDS = 200


def keepable(items) -> list[list[str]]:
    """The form's (name, value) pairs that may be kept: no password field, no CSRF token."""
    return [
        [name, value[:10_000]]
        for name, value in items
        if name not in NEVER_KEPT and "password" not in name.lower()
    ][:MAX_KEPT_FIELDS]


def keep_form(session: Session, user_id: int, page: str, action: str, items, hours: int) -> PendingForm:
    now = utcnow()
    row = PendingForm(
        user_id=user_id,
        page=page[:500],
        action=action[:500],
        fields=json.dumps(keepable(items)),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return row


def _waiting(user_id: int):
    return select(PendingForm).where(
        PendingForm.user_id == user_id, PendingForm.restored_at.is_(None), PendingForm.expires_at > utcnow()
    )


def take_kept_form(session: Session, user_id: int, page: str) -> dict | None:
    """The newest form this user sent from `page` and has not seen again (marked seen now), as
    {"action", "fields", "kept_at"}; another user's kept forms are never returned."""
    row = session.scalar(_waiting(user_id).where(PendingForm.page == page).order_by(PendingForm.id.desc()))
    if row is None:
        return None
    row.restored_at = utcnow()
    return {"action": row.action, "fields": json.loads(row.fields), "kept_at": row.created_at.isoformat()}


def kept_pages(session: Session, user_id: int) -> list[str]:
    return list(
        dict.fromkeys(row.page for row in session.scalars(_waiting(user_id).order_by(PendingForm.id)))
    )
