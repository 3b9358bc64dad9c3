"""Lots and the bench steps that make them: harvest, isolation, culture passages.

Critical entries (counts, viability) carry who entered them and who verified them; the database
itself refuses a verification by the person who entered the values (four eyes).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import donors.models  # noqa: F401  (the donors table must be known before lots refers to it)
from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.model_parts import partial_index, trigram_index, verification_checks
from bank.models import Audited
from lots.models.products import ProductType
from lots.states import LOT_STATUSES, LOT_WORKFLOW

__all__ = ["LOT_STATUSES", "TIERS", "TISSUES", "TISSUE_LABELS", "Harvest", "Isolation", "Lot", "Passage"]

TIERS = ("master", "working", "dose")
TISSUES = ("lipoaspirate", "bone_marrow_aspirate")
TISSUE_LABELS = {"lipoaspirate": "Lipoaspirate", "bone_marrow_aspirate": "Bone-marrow aspirate"}


class Lot(Audited, Versioned, Base):
    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint(one_of("status", LOT_WORKFLOW.states), name="status"),
        CheckConstraint("tier IN ('master', 'working', 'dose')", name="tier"),
        # A held lot remembers the state it returns to when the hold is lifted; no other lot does.
        CheckConstraint("(status = 'on_hold') = (held_from IS NOT NULL)", name="held_from"),
        CheckConstraint("length(din) = 13 AND length(check_char) = 1", name="din"),
        # The lot search finds any part of a DIN (LIKE '%…%'): trigram index on PostgreSQL.
        trigram_index("ix_lots_din_trgm", "din"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    din: Mapped[str] = mapped_column(String(13), unique=True)  # ISBT 128 DIN: issued once, for ever
    check_char: Mapped[str] = mapped_column(String(1))
    product_type_id: Mapped[int] = mapped_column(ForeignKey("product_types.id"), index=True)
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)  # None: placebo
    parent_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"), index=True)
    tier: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    held_from: Mapped[str | None] = mapped_column(String(20))
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    autologous_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when an entry under a QA signature (release, rejection) was corrected: reviewed again by QA.
    rereview_since: Mapped[datetime | None]
    rereview_reason: Mapped[str | None] = mapped_column(Text)
    starting_pd: Mapped[float] = mapped_column(Float, default=0.0)  # cumulative PD carried from the parent
    first_passage: Mapped[int] = mapped_column(Integer, default=0)  # a derived lot continues the numbering
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    product_type: Mapped[ProductType] = relationship(lazy="joined")
    parent: Mapped[Lot | None] = relationship(remote_side=[id], lazy="select")

    @property
    def din_display(self) -> str:
        return f"{self.din[:5]} {self.din[5:7]} {self.din[7:]}"


class Harvest(Audited, Base):
    """Tissue collected from a donor; a lot is opened at harvest (one harvest per lot)."""

    __tablename__ = "harvests"
    __table_args__ = (
        CheckConstraint("tissue IN ('lipoaspirate', 'bone_marrow_aspirate')", name="tissue"),
        CheckConstraint(
            "(mass_g IS NOT NULL AND mass_g > 0) OR (volume_ml IS NOT NULL AND volume_ml > 0)", name="amount"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    tissue: Mapped[str] = mapped_column(String(30))
    mass_g: Mapped[float | None] = mapped_column(Float)
    volume_ml: Mapped[float | None] = mapped_column(Float)
    collected_at: Mapped[datetime]
    site: Mapped[str] = mapped_column(String(120))
    operator: Mapped[str] = mapped_column(String(120))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class _Verified:
    """Columns shared by critical entries: who entered them, who verified them and when; whether the entry
    is in force (a corrected or voided entry stays, struck through: lots.models.EntryCorrection says who,
    when and why); the comment that confirmed values outside a soft plausibility limit."""

    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    in_force: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    plausibility_rules: Mapped[str] = mapped_column(String(200), default="", server_default="")
    plausibility_comment: Mapped[str | None] = mapped_column(Text)

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class Isolation(_Verified, Audited, Base):
    """Isolation of the cell fraction (SVF or bone-marrow mononuclear cells): count and viability."""

    __tablename__ = "isolations"
    __table_args__ = (
        CheckConstraint("cell_count > 0 AND viability_pct >= 0 AND viability_pct <= 100", name="values"),
        # One isolation in force per lot; corrected ones stay on record beside it.
        partial_index("uq_isolations_lot_in_force", "lot_id", where="in_force", unique=True),
        *verification_checks(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    cell_count: Mapped[float] = mapped_column(Float)
    viability_pct: Mapped[float] = mapped_column(Float)
    isolated_on: Mapped[date]
    operator: Mapped[str] = mapped_column(String(120))


class Passage(_Verified, Audited, Base):
    """One culture passage Pn: seeded and harvested viable cells; PD = log2(harvested / seeded)."""

    __tablename__ = "passages"
    __table_args__ = (
        # Passage numbers are unique among the entries in force (recomputed when one is voided).
        partial_index("uq_passages_lot_number_in_force", "lot_id", "number", where="in_force", unique=True),
        CheckConstraint("number >= 0 AND vessels >= 1", name="number"),
        CheckConstraint("seeded_cells > 0 AND harvested_cells > 0", name="counts"),
        CheckConstraint("viability_pct >= 0 AND viability_pct <= 100", name="viability"),
        CheckConstraint("harvested_on >= seeded_on", name="dates"),
        *verification_checks(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    seeded_cells: Mapped[float] = mapped_column(Float)
    harvested_cells: Mapped[float] = mapped_column(Float)
    viability_pct: Mapped[float] = mapped_column(Float)
    vessels: Mapped[int] = mapped_column(Integer)
    seeded_on: Mapped[date]
    harvested_on: Mapped[date]
    operator: Mapped[str] = mapped_column(String(120))
    population_doublings: Mapped[float] = mapped_column(Float)
