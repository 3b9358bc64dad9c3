"""Containers and where they are: boxes (site → tank → rack → box) with row/column positions.

One container per position is a database unique constraint, so it holds under concurrent requests;
moves in and out of storage are rows of an append-only event table.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.i18n import t
from bank.model_parts import partial_index
from bank.models import Audited
from lots.models.lots import Lot
from lots.states import CONTAINER_STATUSES, CONTAINER_WORKFLOW

__all__ = ["CONTAINER_STATUSES", "CONTAINER_TYPES", "MAX_BOX_SIDE", "Container", "StorageBox", "StorageEvent"]

CONTAINER_TYPES = ("bag", "vial")
MAX_BOX_SIDE = 26


class StorageBox(Audited, Base):
    __tablename__ = "storage_boxes"
    __table_args__ = (
        UniqueConstraint("site", "tank", "rack", "name"),
        CheckConstraint(
            f"row_count BETWEEN 1 AND {MAX_BOX_SIDE} AND col_count BETWEEN 1 AND {MAX_BOX_SIDE}", name="size"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(80))
    tank: Mapped[str] = mapped_column(String(40))
    rack: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    row_count: Mapped[int] = mapped_column(Integer)
    col_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def location(self) -> str:
        return t(
            "%(site)s › tank %(tank)s › rack %(rack)s › box %(box)s",
            site=self.site,
            tank=self.tank,
            rack=self.rack,
            box=self.name,
        )


class Container(Audited, Versioned, Base):
    __tablename__ = "containers"
    __table_args__ = (
        UniqueConstraint("lot_id", "division"),
        UniqueConstraint("box_id", "position_row", "position_col"),  # one container per position
        CheckConstraint("container_type IN ('bag', 'vial')", name="container_type"),
        CheckConstraint(one_of("status", CONTAINER_WORKFLOW.states), name="status"),
        CheckConstraint(
            "(box_id IS NULL AND position_row IS NULL AND position_col IS NULL) OR "
            "(box_id IS NOT NULL AND position_row >= 1 AND position_col >= 1)",
            name="position",
        ),
        CheckConstraint("status <> 'stored' OR box_id IS NOT NULL", name="stored_has_position"),
        # The shelf in expiry order: every allocation reads it first-expiring first (doses FEFO).
        partial_index("ix_containers_shelf_expiry", "expires_at", where="status = 'stored'"),
        CheckConstraint("cells >= 0 AND volume_ml > 0", name="amounts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    division: Mapped[str] = mapped_column(String(2))
    product_code: Mapped[str] = mapped_column(String(8))  # ISBT 128: description + donation type + division
    container_type: Mapped[str] = mapped_column(String(10))
    cells: Mapped[float] = mapped_column(Float)  # viable cells; 0 for a placebo
    volume_ml: Mapped[float] = mapped_column(Float)
    cryoprotectant: Mapped[str] = mapped_column(String(80))
    frozen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="formulated")
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    box_id: Mapped[int | None] = mapped_column(ForeignKey("storage_boxes.id"), index=True)
    position_row: Mapped[int | None] = mapped_column(Integer)
    position_col: Mapped[int | None] = mapped_column(Integer)

    lot: Mapped[Lot] = relationship(lazy="joined")
    box: Mapped[StorageBox | None] = relationship(lazy="select")

    @property
    def identifier(self) -> str:
        """DIN + product code + division, as printed: e.g. G123426000001 S00011A0."""
        return f"{self.lot.din} {self.product_code}"

    @property
    def position_label(self) -> str:
        if self.box_id is None:
            return t("not in storage")
        return t(
            "%(box)s › row %(row)s, column %(col)s",
            box=self.box.location,
            row=self.position_row,
            col=self.position_col,
        )


class StorageEvent(Base):
    """Append-only: a container put into, moved within, or taken out of storage (database triggers)."""

    __tablename__ = "storage_events"
    __table_args__ = (CheckConstraint("action IN ('stored', 'moved', 'removed')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("containers.id"), index=True)
    action: Mapped[str] = mapped_column(String(10))
    box_id: Mapped[int | None] = mapped_column(ForeignKey("storage_boxes.id"))
    position_row: Mapped[int | None] = mapped_column(Integer)
    position_col: Mapped[int | None] = mapped_column(Integer)
    from_box_id: Mapped[int | None] = mapped_column(ForeignKey("storage_boxes.id"))
    from_row: Mapped[int | None] = mapped_column(Integer)
    from_col: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(160))
    reason: Mapped[str | None] = mapped_column(Text)

    # The boxes by name where events are shown (issue 21: never "box #2"); joined, so no query per event.
    box: Mapped[StorageBox | None] = relationship(foreign_keys=[box_id], lazy="joined")
    from_box: Mapped[StorageBox | None] = relationship(foreign_keys=[from_box_id], lazy="joined")
