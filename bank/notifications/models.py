"""The notification records: one per person told, the e-mails sent for them, each person's e-mail choices."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.clock import utcnow
from bank.db import Base, one_of
from bank.i18n import Text as Message
from bank.models import Audited

DELIVERY_OUTCOMES = ("pending", "sent", "failed")


class Notification(Audited, Base):
    """Something one user must know now. The message is stored as its English id and values, so it is shown
    in the reader's language; `endpoint`/`arguments` name the page where the work is done."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_key", name="uq_notifications_user_event"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(Text)  # the English message with its %(name)s placeholders
    params: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the placeholders' values
    text: Mapped[str] = mapped_column(Text)  # the message in English, as logged and searched
    endpoint: Mapped[str | None] = mapped_column(String(80))
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # JSON of the endpoint's arguments
    event_key: Mapped[str] = mapped_column(String(120))  # one notification per person per event
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    @property
    def message(self) -> Message:
        return Message(self.message_id, json.loads(self.params or "{}"))

    @property
    def link_arguments(self) -> dict:
        return json.loads(self.arguments or "{}")


class Delivery(Base):
    """One e-mail of a notification: to which address, in which language, sent or failed (with the error).
    A log written by the system after the notification's transaction, so not an audited record."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        CheckConstraint(one_of("outcome", DELIVERY_OUTCOMES), name="outcome"),
        Index("ix_notification_deliveries_outcome", "outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempted_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class NotificationSettings(Audited, Base):
    """A user's e-mail address and the kinds of notification they get by e-mail (comma-separated keys).
    Without a row: no e-mail, notifications in the application only."""

    __tablename__ = "notification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    email_kinds: Mapped[str] = mapped_column(String(400), default="")

    @property
    def kinds(self) -> set[str]:
        return {k for k in self.email_kinds.split(",") if k}
