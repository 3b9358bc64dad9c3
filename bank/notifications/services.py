"""Notifying people: who is told of each kind of event (by permission), the in-app notifications, the
e-mails queued for them (sent after the transaction commits: an event rolled back sends nothing), and each
person's e-mail choices."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.i18n import N_, Text, t
from bank.models import User
from bank.notifications.models import Delivery, Notification, NotificationSettings
from bank.permissions import permissions_for
from bank.refusals import Refused, control_character_errors

OUTBOX = "bank.notifications.outbox"  # session.info key: deliveries to send once the transaction commits
HOME_LIMIT = 10  # notifications listed on the home page, newest first


@dataclass(frozen=True)
class Kind:
    """A kind of notification: what people call it, and who is told (whoever holds one of `permissions`)."""

    label: str
    permissions: frozenset[str]


KINDS: dict[str, Kind] = {
    "late_result": Kind(N_("Late result after release"), frozenset({"lot.release"})),
    "lookback": Kind(N_("Donor look-back"), frozenset({"donor.determine", "dose.allocate"})),
    "custody_excursion": Kind(N_("Custody excursion"), frozenset({"lot.hold", "dose.allocate"})),
    "dose_due": Kind(N_("Dose due tomorrow, not allocated"), frozenset({"dose.allocate"})),
    "account_locked": Kind(N_("Account locked"), frozenset({"user.manage"})),
    "serious_reaction": Kind(N_("Serious adverse reaction"), frozenset({"event.investigate"})),
}


def kinds_for(permissions) -> list[str]:
    """The kinds of notification a person with these permissions receives."""
    return [key for key, kind in KINDS.items() if kind.permissions & set(permissions)]


def recipients(session: Session, permission: str) -> list[User]:
    """Active users who hold `permission` (a facility has tens of users: read them all, filter in Python)."""
    users = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.id))
    return [u for u in users if permission in permissions_for(u.role_list, u.unblinded)]


def _plain_params(message: Text) -> dict:
    """The message's values as stored: text and numbers (a nested message is kept as its English)."""
    return {
        k: v if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
        for k, v in message.params.items()
    }


def _language(user: User) -> str:
    facility = current_app.config.get("FACILITY_LANGUAGE") if has_app_context() else ""
    return user.language or facility or "en"


def _smtp_configured() -> bool:
    return has_app_context() and bool(current_app.config.get("SMTP_HOST"))


def notify(
    session: Session,
    kind: str,
    message: Text,
    *,
    permission: str,
    event_key: str,
    endpoint: str | None = None,
    arguments: dict | None = None,
) -> list[Notification]:
    """Tell every active holder of `permission` (`kind` is one of KINDS): one notification each, at most one
    per person and `event_key` (a daily command run twice tells nobody twice); an e-mail queued for those
    who chose this kind, sent after the commit. Returns the notifications made."""
    if kind not in KINDS or permission not in KINDS[kind].permissions:
        raise ValueError(f"{kind} notifications are not sent to holders of {permission}")
    people = recipients(session, permission)
    if not people:
        return []
    event_key = event_key[:120]
    told = set(
        session.scalars(
            select(Notification.user_id).where(
                Notification.event_key == event_key, Notification.user_id.in_([u.id for u in people])
            )
        )
    )
    made = [
        Notification(
            user_id=u.id,
            kind=kind,
            message_id=message.msgid,
            params=json.dumps(_plain_params(message), sort_keys=True),
            text=str(message),
            endpoint=endpoint,
            arguments=json.dumps(arguments or {}, sort_keys=True),
            event_key=event_key,
        )
        for u in people
        if u.id not in told
    ]
    session.add_all(made)
    session.flush()
    if made and _smtp_configured():
        by_user = {u.id: u for u in people}
        settings = {
            s.user_id: s
            for s in session.scalars(
                select(NotificationSettings).where(
                    NotificationSettings.user_id.in_([n.user_id for n in made])
                )
            )
        }
        deliveries = [
            Delivery(
                notification_id=n.id,
                user_id=n.user_id,
                address=settings[n.user_id].email,
                language=_language(by_user[n.user_id]),
            )
            for n in made
            if n.user_id in settings and settings[n.user_id].email and kind in settings[n.user_id].kinds
        ]
        session.add_all(deliveries)
        session.flush()
        session.info.setdefault(OUTBOX, []).extend(d.id for d in deliveries)
    return made


# ---- reading ---------------------------------------------------------------------------------------


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def latest(
    session: Session, user_id: int, limit: int = HOME_LIMIT, unread_only: bool = False
) -> list[Notification]:
    """A user's notifications, unread first, newest first within each."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(
        session.scalars(stmt.order_by(Notification.read_at.is_not(None), Notification.id.desc()).limit(limit))
    )


def mark_read(session: Session, user_id: int, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (`ids`, or all of them) read; returns how many. One row write
    each, audited like every change of a notification."""
    stmt = select(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(ids))
    rows = list(session.scalars(stmt))
    now = utcnow()
    for row in rows:
        row.read_at = now
    session.flush()
    return len(rows)


# ---- e-mail choices --------------------------------------------------------------------------------

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def settings_of(session: Session, user_id: int) -> NotificationSettings | None:
    return session.scalar(select(NotificationSettings).where(NotificationSettings.user_id == user_id))


def save_settings(session: Session, user: User, email: str, kinds: list[str]) -> NotificationSettings:
    """Record the user's e-mail address and the kinds they get by e-mail (only kinds they receive).
    Refused with the reason next to the field: an address that is not one, a kind not theirs."""
    email = (email or "").strip()
    errors = control_character_errors({"email": email})
    if email and not EMAIL_PATTERN.match(email):
        errors["email"] = t("Not an e-mail address: type it as name@example.org.")
    if len(email) > 254:
        errors["email"] = t("An e-mail address has at most 254 characters.")
    allowed = kinds_for(permissions_for(user.role_list, user.unblinded))
    if set(kinds) - set(allowed):
        errors["kinds"] = t("Choose among the notifications you receive.")
    if kinds and not email:
        errors["email"] = t("Give the address the e-mails are sent to, or choose none.")
    if errors:
        raise Refused(errors)
    row = settings_of(session, user.id)
    if row is None:
        row = NotificationSettings(user_id=user.id)
        session.add(row)
    row.email = email
    row.email_kinds = ",".join(k for k in allowed if k in kinds)
    session.flush()
    return row


def deliveries_of(session: Session, user_id: int | None = None, limit: int = 50) -> list[Delivery]:
    """The latest e-mails sent or tried (of one user, or of everyone), newest first."""
    stmt = select(Delivery).order_by(Delivery.id.desc()).limit(limit)
    if user_id is not None:
        stmt = stmt.where(Delivery.user_id == user_id)
    return list(session.scalars(stmt))


def deliveries_with_people(session: Session, limit: int = 50) -> list[tuple[Delivery, str]]:
    """The latest e-mails sent or tried to anyone, newest first, with the printed name of each recipient
    (what administrators review)."""
    return [
        (d, name)
        for d, name in session.execute(
            select(Delivery, User.full_name)
            .join(User, User.id == Delivery.user_id)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    ]


def pending_ids(session: Session) -> list[int]:
    return list(
        session.scalars(select(Delivery.id).where(Delivery.outcome == "pending").order_by(Delivery.id))
    )


def record_outcome(session: Session, delivery_id: int, error: str | None) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id)
        .values(outcome="failed" if error else "sent", attempted_at=utcnow(), error=error)
    )
