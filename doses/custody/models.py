"""Custody events: one append-only row per hand-off of a dose (database triggers refuse UPDATE and
DELETE), with the two e-signatures, time, place, shipper, logger readings and the code scanned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bank.clock import utcnow
from bank.db import Base
from bank.models import Audited, Signature, User
from doses.custody.states import EVENTS, KINDS
from doses.models import Allocation
from lots.models import Container


class CustodyEvent(Audited, Base):
    """One hand-off of a dose. `sequence` numbers the events of a dose 1, 2, 3…; the unique constraint
    on (allocation, sequence) means two people recording "the next event" at once cannot both succeed.
    The event concerns every container of the dose (they travel together); `container_id` is the one
    whose label was scanned."""

    __tablename__ = "custody_events"
    __audit_words__ = {"event": {event: kind.label for event, kind in KINDS.items()}}
    __table_args__ = (
        UniqueConstraint("allocation_id", "sequence"),
        CheckConstraint(f"event IN ({', '.join(repr(e) for e in EVENTS)})", name="event"),
        CheckConstraint("sequence >= 1", name="sequence"),
        CheckConstraint("handed_over_by_id <> received_by_id", name="two_people"),
        CheckConstraint("NOT excursion OR excursion_description IS NOT NULL", name="excursion"),
        CheckConstraint(
            "temperature_min_c IS NULL OR temperature_max_c IS NULL "
            "OR temperature_min_c <= temperature_max_c",
            name="temperatures",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("containers.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(30))
    occurred_at: Mapped[datetime]  # UTC, when the hand-off happened (may be a few minutes before recording)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    place: Mapped[str] = mapped_column(String(200))
    handed_over_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    handover_signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    receipt_signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    shipper: Mapped[str | None] = mapped_column(String(120))
    logger_id: Mapped[str | None] = mapped_column(String(80))
    temperature_min_c: Mapped[float | None] = mapped_column(Float)
    temperature_max_c: Mapped[float | None] = mapped_column(Float)
    excursion: Mapped[bool] = mapped_column(Boolean, default=False)
    excursion_description: Mapped[str | None] = mapped_column(Text)
    condition_on_receipt: Mapped[str | None] = mapped_column(String(200))
    scanned_code: Mapped[str] = mapped_column(String(120))
    subject_id_checked: Mapped[str | None] = mapped_column(String(40))  # patient wristband, when scanned
    notes: Mapped[str | None] = mapped_column(Text)

    allocation: Mapped[Allocation] = relationship(lazy="select")
    container: Mapped[Container] = relationship(lazy="joined")
    handed_over_by: Mapped[User] = relationship(foreign_keys=[handed_over_by_id], lazy="joined")
    received_by: Mapped[User] = relationship(foreign_keys=[received_by_id], lazy="joined")
    handover_signature: Mapped[Signature] = relationship(foreign_keys=[handover_signature_id], lazy="joined")
    receipt_signature: Mapped[Signature] = relationship(foreign_keys=[receipt_signature_id], lazy="joined")


class LoggerFile(Audited, Base):
    """The shipper's temperature logger file attached to a custody event (append-only): the file's name and
    SHA-256, and its readings as read (JSON [[UTC time, °C], …]; kept out of the audit rows, which record
    the digest)."""

    __tablename__ = "custody_logger_files"
    __audit_exclude__ = ("readings",)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("custody_events.id"), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    readings: Mapped[str] = mapped_column(Text)
    reading_count: Mapped[int] = mapped_column(Integer)
    minimum_c: Mapped[float] = mapped_column(Float)
    maximum_c: Mapped[float] = mapped_column(Float)
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
