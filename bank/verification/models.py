"""One verification record per verified entry: who verified it, when, the digest of the entry as it was
shown, and the signature (one per act, whose content lists every entry it verified)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.db import Base
from bank.models import Audited


class VerificationRecord(Audited, Base):
    """Append-only (database triggers): an entry is verified once."""

    __tablename__ = "verification_records"
    __table_args__ = (
        UniqueConstraint("kind", "entry_id"),
        Index("ix_verification_records_signature_id", "signature_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # the registered kind: isolation, passage, result…
    entry_id: Mapped[int] = mapped_column(Integer)
    entry_digest: Mapped[str] = mapped_column(String(64))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    verified_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime]
