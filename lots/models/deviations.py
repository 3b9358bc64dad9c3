"""Deviations recorded against a lot; closing one takes a QA e-signature and blocks release until then."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.models import Audited
from lots.states import DEVIATION_WORKFLOW


class Deviation(Audited, Versioned, Base):
    __tablename__ = "deviations"
    __audit_words__ = {"status": DEVIATION_WORKFLOW.labels}  # "closed" is not an adverse event's
    __table_args__ = (
        CheckConstraint(one_of("status", DEVIATION_WORKFLOW.states), name="status"),
        # A closed deviation always names its closing signature and time.
        CheckConstraint(
            "(status = 'closed') = (signature_id IS NOT NULL AND closed_at IS NOT NULL)", name="closure"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    impact: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))

    @property
    def number(self) -> str:
        return f"DEV-{self.id:05d}"
