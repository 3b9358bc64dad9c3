"""Adverse events after an infusion, their follow-up updates (append-only) and the follow-up visits of a
patient (DOMAIN.md §8)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.models import Audited
from biovigilance.rules import IMPUTABILITY, OUTCOMES
from biovigilance.states import EVENT_WORKFLOW
from doses.models import Allocation, Patient


class AdverseEvent(Audited, Versioned, Base):
    """An adverse event in a patient, linked to the dose it may come from. The arm is never stored or
    shown here: a blinded clinician records and reads it as any other (issue 16)."""

    __tablename__ = "adverse_events"
    # "closed" reads "investigation closed"; the outcome and imputability as the form names them.
    __audit_words__ = {"status": EVENT_WORKFLOW.labels, "outcome": OUTCOMES, "imputability": IMPUTABILITY}
    __table_args__ = (
        CheckConstraint(one_of("status", EVENT_WORKFLOW.states), name="status"),
        CheckConstraint(one_of("imputability", tuple(IMPUTABILITY)), name="imputability"),
        CheckConstraint(one_of("outcome", tuple(OUTCOMES)), name="outcome"),
        CheckConstraint("grade IS NULL OR (grade >= 1 AND grade <= 5)", name="grade"),
        Index("ix_adverse_events_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"), index=True)
    onset_at: Mapped[datetime]
    description: Mapped[str] = mapped_column(Text)
    seriousness: Mapped[str] = mapped_column(String(200), default="")  # comma-separated SERIOUSNESS keys
    serious: Mapped[bool] = mapped_column(default=False)
    grade: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(30))
    imputability: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), default="reported")
    held_at: Mapped[datetime | None]  # when the suspect products were put on hold (at once or by QA)
    conclusion: Mapped[str | None] = mapped_column(Text)
    corrective_actions: Mapped[str | None] = mapped_column(Text)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(lazy="joined")
    allocation: Mapped[Allocation | None] = relationship(lazy="joined")

    @property
    def reference(self) -> str:
        return f"AE-{self.reported_at:%Y}-{self.id:05d}"

    @property
    def seriousness_list(self) -> list[str]:
        return [s for s in self.seriousness.split(",") if s]


class AdverseEventUpdate(Audited, Base):
    """One follow-up of an event (append-only): what changed, when, by whom, and the note."""

    __tablename__ = "adverse_event_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("adverse_events.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changes: Mapped[str] = mapped_column(Text)  # JSON {field: [old, new]}
    note: Mapped[str] = mapped_column(Text, default="")


class FollowUpVisit(Audited, Base):
    """A follow-up visit of a patient as the protocol schedules it (e.g. MESEMS W24), once recorded."""

    __tablename__ = "follow_up_visits"
    __table_args__ = (UniqueConstraint("patient_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    visit_on: Mapped[date]
    findings: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
