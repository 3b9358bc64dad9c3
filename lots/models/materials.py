"""Materials and reagents (collagenase, media, platelet lysate, DMSO…), their lots, and their use."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.i18n import t
from bank.models import Audited
from lots.states import MATERIAL_LOT_WORKFLOW

MATERIAL_LOT_STATUSES = MATERIAL_LOT_WORKFLOW.states
STEPS = ("harvest", "isolation", "passage", "formulation")


class Material(Audited, Base):
    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    supplier: Mapped[str] = mapped_column(String(120))
    catalogue_number: Mapped[str] = mapped_column(String(60), default="")
    animal_origin: Mapped[bool] = mapped_column(Boolean, default=False)  # TSE-risk flag
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MaterialLot(Audited, Versioned, Base):
    __tablename__ = "material_lots"
    __table_args__ = (
        UniqueConstraint("material_id", "lot_number"),
        CheckConstraint(one_of("status", MATERIAL_LOT_WORKFLOW.states), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("materials.id"), index=True)
    lot_number: Mapped[str] = mapped_column(String(60))
    expiry: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="quarantined")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    material: Mapped[Material] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return t(
            "%(material)s lot %(lot_number)s (exp. %(expiry)s)",
            material=self.material.name,
            lot_number=self.lot_number,
            expiry=self.expiry,
        )


class MaterialUse(Audited, Base):
    """A material lot used at one step of a lot (step_id names the passage for step 'passage')."""

    __tablename__ = "material_uses"
    __table_args__ = (
        CheckConstraint("step IN ('harvest', 'isolation', 'passage', 'formulation')", name="step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    material_lot_id: Mapped[int] = mapped_column(ForeignKey("material_lots.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    step_id: Mapped[int | None] = mapped_column(Integer)
    used_on: Mapped[date]

    material_lot: Mapped[MaterialLot] = relationship(lazy="joined")
