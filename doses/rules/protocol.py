"""What a trial protocol version is: dose rule, schedule, blinding, endotoxin K, enrolment checklist, the
regulatory region and label particulars (EU 536/2014 Annex VI), the invariants every version must keep (checked on construction) and its JSON form for storage. Pure: no
Flask, no SQLAlchemy. The seed protocols are doses.reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Route(StrEnum):
    IV = "IV"
    IT = "IT"


class Origin(StrEnum):
    AUTOLOGOUS = "autologous"
    ALLOGENEIC = "allogeneic"


class DoseBasis(StrEnum):
    PER_KG = "per_kg"  # bounds are cells per kg of current body weight
    FIXED = "fixed"  # bounds are cells per dose


class CriterionKind(StrEnum):
    INCLUSION = "inclusion"
    EXCLUSION = "exclusion"


class Measure(StrEnum):
    """What a computed checklist item measures; bounds are inclusive, in completed years or EDSS points."""

    AGE_YEARS = "age_years"
    EDSS = "edss"
    DISEASE_DURATION_YEARS = "disease_duration_years"


class ScheduleAnchor(StrEnum):
    FIRST_DOSE = "first_dose"  # offsets counted from the actual date of dose 1 (no drift)
    PREVIOUS_DOSE = "previous_dose"  # interval counted from the actual date of the previous dose


# Treatment tokens of a sequence code, one per dose: "MSC-PLACEBO" = active at dose 1, placebo at dose 2.
ACTIVE_TOKEN = "MSC"
PLACEBO_TOKEN = "PLACEBO"

# USP <85> / Ph. Eur. 5.1.10 threshold pyrogenic dose per route, EU per kg per hour (DOMAIN.md §5).
ENDOTOXIN_K_EU_PER_KG_H: Mapping[Route, Decimal] = MappingProxyType(
    {Route.IV: Decimal("5"), Route.IT: Decimal("0.2")}
)


@dataclass(frozen=True)
class DoseRule:
    """Dose range of one administration: per kg (cells/kg × current weight) or fixed (cells)."""

    basis: DoseBasis
    min_cells: Decimal
    max_cells: Decimal

    def __post_init__(self) -> None:
        if not (Decimal(0) < self.min_cells <= self.max_cells):
            raise ValueError("dose rule needs 0 < min_cells <= max_cells")


@dataclass(frozen=True)
class DoseStep:
    """One planned dose: days after dose 1 (dose 1 has 0) and the ± window in days around its due date."""

    number: int
    offset_days: int
    window_days: int
    optional: bool = False  # may be skipped without blocking later doses


@dataclass(frozen=True)
class Criterion:
    """One enrolment checklist item. With `measure` set it is computed from data (bounds inclusive,
    None = unbounded); without it the investigator attests it and signs."""

    id: str
    kind: CriterionKind
    text: str
    measure: Measure | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def computed(self) -> bool:
        return self.measure is not None


CONTAINER_TYPES = ("bag", "vial")
NO_IDENTITIES: Mapping[tuple[str, str], BlindedProduct] = MappingProxyType({})


@dataclass(frozen=True)
class BlindedProduct:
    """The one product identity and presentation a blinded protocol shows for both arms (DOMAIN.md §5,
    "Blinding, what must match"): the ISBT 128 product description code and the product name printed and
    shown for active and placebo alike, and the fill every container of either arm must have."""

    isbt_code: str  # trial-specific local product description code, e.g. S9001
    name: str  # e.g. "MESEMS investigational product (MSC or placebo)"
    volume_ml: Decimal
    container_type: str

    def __post_init__(self) -> None:
        if not (len(self.isbt_code) == 5 and self.isbt_code[0] == "S" and self.isbt_code[1:].isalnum()):
            raise ValueError("a blinded product code is S + 4 characters (ISBT 128 product description code)")
        if not self.name.strip() or self.volume_ml <= 0 or self.container_type not in CONTAINER_TYPES:
            raise ValueError("a blinded product has a name, a volume > 0 and a container type (bag or vial)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "isbt_code": self.isbt_code,
            "name": self.name,
            "volume_ml": _dec_str(self.volume_ml),
            "container_type": self.container_type,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> BlindedProduct | None:
        if d is None:
            return None
        return cls(d["isbt_code"], d["name"], Decimal(d["volume_ml"]), d["container_type"])


class Region(StrEnum):
    EU = "EU"  # Regulation (EU) No 536/2014, Articles 66-67 and Annex VI
    US = "US"  # FDA IND, 21 CFR 312.6


LABEL_LANGUAGES = ("fr", "en")
NO_LABELLING: Mapping[tuple[str, str], Labelling] = MappingProxyType({})
NO_FOLLOW_UP: Mapping[tuple[str, str], tuple] = MappingProxyType({})


@dataclass(frozen=True)
class Labelling:
    """Where a protocol version's labels are used and what they must state there. For the EU, the Annex VI
    particulars not held elsewhere in the protocol: main contact for information and emergency unblinding
    (name, address, telephone), trial reference (EU CT number), sponsor, investigator, site, pharmaceutical
    form and the product name in the label language (for a blinded trial: the active together with the
    placebo, printed on both arms). A US version needs none of them (21 CFR 312.6 statement)."""

    region: Region
    languages: tuple[str, ...]
    contact_name: str = ""
    contact_address: str = ""
    contact_phone: str = ""
    trial_reference: str = ""  # EU CT number, e.g. 2024-512345-12-00
    sponsor: str = ""
    investigator: str = ""
    site: str = ""
    pharmaceutical_form: str = ""  # in the label language, e.g. "suspension pour perfusion"
    product_name: str = ""  # in the label language

    _EU_FIELDS = (
        "contact_name",
        "contact_address",
        "contact_phone",
        "trial_reference",
        "sponsor",
        "investigator",
        "site",
        "pharmaceutical_form",
        "product_name",
    )

    def __post_init__(self) -> None:
        if len(self.languages) != 1 or self.languages[0] not in LABEL_LANGUAGES:
            raise ValueError(
                f"labels are printed in one language, one of {', '.join(LABEL_LANGUAGES)} (got {self.languages})"
            )
        if self.region is Region.EU:
            missing = [f for f in self._EU_FIELDS if not getattr(self, f).strip()]
            if missing:
                raise ValueError(f"an EU label needs the Annex VI particulars: {', '.join(missing)} missing")

    @property
    def language(self) -> str:
        return self.languages[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region.value,
            "languages": list(self.languages),
            **{f: getattr(self, f) for f in self._EU_FIELDS},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Labelling | None:
        if d is None:
            return None
        return cls(Region(d["region"]), tuple(d["languages"]), **{f: d.get(f, "") for f in cls._EU_FIELDS})


@dataclass(frozen=True)
class FollowUpStep:
    """A follow-up visit after the doses (DOMAIN.md §8): its label, weeks after the first dose, window."""

    label: str
    weeks: int
    window_days: int = 14

    def __post_init__(self) -> None:
        if self.weeks < 1 or self.window_days < 0 or not self.label.strip():
            raise ValueError(f"follow-up {self.label!r}: weeks >= 1, window >= 0, a label")


@dataclass(frozen=True)
class Protocol:
    """One version of a trial protocol. Invariants are checked on construction (see __post_init__)."""

    code: str
    version: str
    title: str
    nct_id: str
    product_key: str
    route: Route
    origin: Origin
    dose_rule: DoseRule
    schedule: tuple[DoseStep, ...]
    infusion_hours: Decimal
    endotoxin_k_eu_per_kg_h: Decimal
    blinded: bool
    placebo_product_key: str | None
    sequences: tuple[str, ...]
    sites: tuple[str, ...]
    checklist: tuple[Criterion, ...]
    weight_max_age_days: int = 7
    schedule_anchor: ScheduleAnchor = ScheduleAnchor.FIRST_DOSE
    assumptions: tuple[str, ...] = ()
    blinded_product: BlindedProduct | None = None  # one visible identity for both arms (blinded only)
    labelling: Labelling | None = None  # None: stored before issue 19, labels as before (US and EU lines)
    follow_up: tuple[FollowUpStep, ...] = ()  # visits after the doses (issue 22)

    @property
    def number_of_doses(self) -> int:
        return len(self.schedule)

    def __post_init__(self) -> None:
        self._check_schedule()
        self._check_arms()
        if self.infusion_hours <= 0 or self.endotoxin_k_eu_per_kg_h <= 0 or self.weight_max_age_days < 0:
            raise ValueError(f"{self.code}: infusion hours and K are > 0, weight age >= 0")
        self._check_checklist()

    def _check_schedule(self) -> None:
        numbers = [s.number for s in self.schedule]
        if numbers != list(range(1, len(numbers) + 1)) or not numbers:
            raise ValueError(f"{self.code}: doses must be numbered 1..n")
        offsets = [s.offset_days for s in self.schedule]
        if offsets[0] != 0 or any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)):
            raise ValueError(f"{self.code}: dose 1 has offset 0 and offsets increase")
        if any(s.window_days < 0 for s in self.schedule):
            raise ValueError(f"{self.code}: windows are >= 0 days")

    def _check_arms(self) -> None:
        """Blinding (placebo and one visible identity) and the treatment sequences that go with it."""
        if self.blinded != (self.placebo_product_key is not None):
            raise ValueError(f"{self.code}: a blinded protocol names a placebo product, an open one none")
        if self.blinded != (self.blinded_product is not None):
            raise ValueError(
                f"{self.code}: a blinded protocol has one visible product identity, an open one none"
            )
        if self.blinded and self.labelling and self.labelling.region is Region.EU:
            if "placebo" not in self.labelling.product_name.lower():  # Annex VI: active with placebo, on both
                raise ValueError(
                    f"{self.code}: a blinded EU label names the active together with the placebo"
                )
        if not self.sequences:
            raise ValueError(f"{self.code}: at least one treatment sequence")
        allowed = {ACTIVE_TOKEN, PLACEBO_TOKEN} if self.blinded else {ACTIVE_TOKEN}
        for seq in self.sequences:
            tokens = seq.split("-")
            if len(tokens) != self.number_of_doses or not set(tokens) <= allowed:
                raise ValueError(f"{self.code}: sequence {seq!r} needs one of {sorted(allowed)} per dose")

    def _check_checklist(self) -> None:
        ids = [c.id for c in self.checklist]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.code}: checklist ids are unique")
        for c in self.checklist:
            if c.computed and c.kind is not CriterionKind.INCLUSION:
                raise ValueError(f"{self.code}: computed item {c.id} must be an inclusion item")

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (Decimals as strings, tuples as lists) for database storage."""
        return {
            "code": self.code,
            "version": self.version,
            "title": self.title,
            "nct_id": self.nct_id,
            "product_key": self.product_key,
            "route": self.route.value,
            "origin": self.origin.value,
            "dose_rule": {
                "basis": self.dose_rule.basis.value,
                "min_cells": _dec_str(self.dose_rule.min_cells),
                "max_cells": _dec_str(self.dose_rule.max_cells),
            },
            "schedule": [
                {
                    "number": s.number,
                    "offset_days": s.offset_days,
                    "window_days": s.window_days,
                    "optional": s.optional,
                }
                for s in self.schedule
            ],
            "infusion_hours": _dec_str(self.infusion_hours),
            "endotoxin_k_eu_per_kg_h": _dec_str(self.endotoxin_k_eu_per_kg_h),
            "blinded": self.blinded,
            "placebo_product_key": self.placebo_product_key,
            "sequences": list(self.sequences),
            "sites": list(self.sites),
            "checklist": [
                {
                    "id": c.id,
                    "kind": c.kind.value,
                    "text": c.text,
                    "measure": c.measure.value if c.measure else None,
                    "minimum": _dec_str(c.minimum),
                    "maximum": _dec_str(c.maximum),
                }
                for c in self.checklist
            ],
            "weight_max_age_days": self.weight_max_age_days,
            "schedule_anchor": self.schedule_anchor.value,
            "assumptions": list(self.assumptions),
            "blinded_product": self.blinded_product.to_dict() if self.blinded_product else None,
            "labelling": self.labelling.to_dict() if self.labelling else None,
            "follow_up": [[f.label, f.weeks, f.window_days] for f in self.follow_up],
        }

    @classmethod
    def from_dict(
        cls,
        d: Mapping[str, Any],
        seed_identities: Mapping[tuple[str, str], BlindedProduct] = NO_IDENTITIES,
        seed_labelling: Mapping[tuple[str, str], Labelling] = NO_LABELLING,
        seed_follow_up: Mapping[tuple[str, str], tuple[FollowUpStep, ...]] = NO_FOLLOW_UP,
    ) -> Protocol:
        """Inverse of to_dict; raises KeyError/ValueError on a malformed record. A blinded version stored
        before protocols named their blinded product identity (issue 16) takes the identity
        `seed_identities` gives its (code, version) — its seed's (doses.reference.stored_protocol): the
        stored text stays as it was recorded, and no other protocol's identity is guessed. Likewise a
        version stored before protocols stated their region and label particulars (issue 19) takes its
        seed's from `seed_labelling`; any other keeps none (labels as before). A version stored before
        protocols stated their follow-up visits (issue 22) takes its seed's from `seed_follow_up`."""
        r = d["dose_rule"]
        key = (d.get("code"), d.get("version"))
        return cls(
            code=d["code"],
            version=d["version"],
            title=d["title"],
            nct_id=d["nct_id"],
            product_key=d["product_key"],
            route=Route(d["route"]),
            origin=Origin(d["origin"]),
            dose_rule=DoseRule(DoseBasis(r["basis"]), Decimal(r["min_cells"]), Decimal(r["max_cells"])),
            schedule=tuple(
                DoseStep(s["number"], s["offset_days"], s["window_days"], s.get("optional", False))
                for s in d["schedule"]
            ),
            infusion_hours=Decimal(d["infusion_hours"]),
            endotoxin_k_eu_per_kg_h=Decimal(d["endotoxin_k_eu_per_kg_h"]),
            blinded=d["blinded"],
            placebo_product_key=d["placebo_product_key"],
            sequences=tuple(d["sequences"]),
            sites=tuple(d["sites"]),
            checklist=tuple(
                Criterion(
                    c["id"],
                    CriterionKind(c["kind"]),
                    c["text"],
                    Measure(c["measure"]) if c.get("measure") else None,
                    _dec_or_none(c.get("minimum")),
                    _dec_or_none(c.get("maximum")),
                )
                for c in d["checklist"]
            ),
            weight_max_age_days=d.get("weight_max_age_days", 7),
            schedule_anchor=ScheduleAnchor(d.get("schedule_anchor", ScheduleAnchor.FIRST_DOSE)),
            assumptions=tuple(d.get("assumptions", ())),
            blinded_product=BlindedProduct.from_dict(d.get("blinded_product"))
            or (seed_identities.get(key) if d.get("blinded") else None),
            labelling=Labelling.from_dict(d.get("labelling")) or seed_labelling.get(key),
            follow_up=tuple(FollowUpStep(*f) for f in d["follow_up"])
            if "follow_up" in d
            else seed_follow_up.get(key, ()),
        )


def _dec_str(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
