"""Corrections of critical bench entries: the original stays (struck through on screen) and this record
says who changed it, when, why, and — for a verified entry — who confirmed the change (four eyes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.models import Audited
from lots.states import CORRECTION_STATES, CORRECTION_WORKFLOW

ENTRY_KINDS = ("isolation", "passage")
CORRECTION_ACTIONS = ("correct", "void")


class EntryCorrection(Audited, Versioned, Base):
    """A correction ('correct': replaced by `replacement_id`) or a void ('void') of the isolation or
    passage `original_id` (in the table `kind` names). 'pending' until a second person confirms it when
    the original was verified; then 'applied' (the original leaves force, the replacement takes it)."""

    __tablename__ = "entry_corrections"
    __audit_words__ = {"status": CORRECTION_WORKFLOW.labels}  # "pending" is not a donor's
    __table_args__ = (
        CheckConstraint(one_of("kind", ENTRY_KINDS), name="kind"),
        CheckConstraint(one_of("action", CORRECTION_ACTIONS), name="action"),
        CheckConstraint(one_of("status", CORRECTION_STATES), name="status"),
        CheckConstraint("(action = 'correct') = (replacement_id IS NOT NULL)", name="replacement"),
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> requested_by_id", name="four_eyes"),
        CheckConstraint("(confirmed_by_id IS NULL) = (confirmed_at IS NULL)", name="confirmed"),
        CheckConstraint(
            "status = 'pending' OR NOT second_person OR confirmed_by_id IS NOT NULL", name="applied"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    original_id: Mapped[int] = mapped_column(Integer)  # isolations.id or passages.id, by `kind`
    replacement_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(40))  # what was corrected, as shown then: "P2", "isolation"
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    second_person: Mapped[bool] = mapped_column(Boolean, default=False)  # the original was verified
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    applied_at: Mapped[datetime | None]
    rereview: Mapped[bool] = mapped_column(Boolean, default=False)  # made under a QA signature
