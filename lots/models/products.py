"""Product types as versioned data: each lot records the exact version whose limits it was made under."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.clock import utcnow
from bank.db import Base, one_of
from bank.i18n import t
from bank.models import Audited
from lots.rules import ProductLimits
from lots.rules.plausibility import PlausibilityLimits
from lots.states import PRODUCT_TYPE_WORKFLOW

SOURCES = ("adipose", "bone_marrow", "none")
ORIGINS = ("autologous", "allogeneic", "placebo")
# ISBT 128 type of donation (ST-001 §2.4.3): '1' for autologous use only, 'V' volunteer allogeneic;
# a placebo is not a donation: '0' (not specified).
DONATION_TYPE = {"autologous": "1", "allogeneic": "V", "placebo": "0"}
# Which collected tissue a product is made from (a lipoaspirate cannot become a BM-MSC lot).
TISSUE_FOR_SOURCE = {"adipose": "lipoaspirate", "bone_marrow": "bone_marrow_aspirate"}


class ProductType(Audited, Base):
    __tablename__ = "product_types"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        CheckConstraint("source IN ('adipose', 'bone_marrow', 'none')", name="source"),
        CheckConstraint("origin IN ('autologous', 'allogeneic', 'placebo')", name="origin"),
        CheckConstraint(one_of("status", PRODUCT_TYPE_WORKFLOW.states), name="status"),
        CheckConstraint("max_passage >= 0 AND max_cumulative_pd > 0 AND shelf_life_days > 0", name="limits"),
        CheckConstraint(
            "max_fold_per_day > 1 AND viability_drop_pct >= 0 AND viability_drop_pct <= 100",
            name="plausibility",
        ),
        # A placebo is suspension media: it has no tissue source, and only a placebo lacks one.
        CheckConstraint("(origin = 'placebo') = (source = 'none')", name="placebo_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(160))
    trials: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(20))
    max_passage: Mapped[int] = mapped_column(Integer)
    max_cumulative_pd: Mapped[float] = mapped_column(Float)
    shelf_life_days: Mapped[int] = mapped_column(Integer)
    # Plausibility of bench entries (lots.rules.plausibility): the largest fold increase of viable cells a
    # day of culture, and the viability drop (points) that needs a confirmation with a comment.
    max_fold_per_day: Mapped[float] = mapped_column(Float, server_default="8")
    viability_drop_pct: Mapped[float] = mapped_column(Float, server_default="20")
    storage_temperature: Mapped[str] = mapped_column(String(80))
    isbt_code: Mapped[str] = mapped_column(String(5))  # product description code, e.g. S0001 (local)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def is_placebo(self) -> bool:
        return self.origin == "placebo"

    @property
    def donation_type(self) -> str:
        return DONATION_TYPE[self.origin]

    @property
    def tissue(self) -> str | None:
        return TISSUE_FOR_SOURCE.get(self.source)

    def limits(self) -> ProductLimits:
        return ProductLimits(self.max_passage, self.max_cumulative_pd)

    def plausibility(self) -> PlausibilityLimits:
        return PlausibilityLimits(self.max_fold_per_day, self.viability_drop_pct)

    def product_code(self, division: str) -> str:
        """ISBT 128 product code (8 characters): description code + type of donation + division."""
        return f"{self.isbt_code}{self.donation_type}{division}"

    @property
    def label(self) -> str:
        # The seeded names are in the catalogue (lots.reference): shown in the reader's language.
        return t("%(key)s v%(version)s — %(name)s", key=self.key, version=self.version, name=t(self.name))
