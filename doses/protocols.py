"""Trial protocols as versioned data: dose rule, schedule, blinding, endotoxin K, enrolment checklist.

Figures come from the trial records (DOMAIN.md §1, seeds 000–004); whatever a public record does not
state is listed in `Protocol.assumptions` so the site can confirm or change it in a new version.
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
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Protocol:
        """Inverse of to_dict; raises KeyError/ValueError on a malformed record."""
        r = d["dose_rule"]
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
            blinded_product=BlindedProduct.from_dict(d.get("blinded_product")) or _seed_identity(d),
        )


def _seed_identity(d: Mapping[str, Any]) -> BlindedProduct | None:
    """A blinded seed protocol version stored before protocols named their blinded product identity
    (issue 16) reads with the identity its seed definition gives that same code and version: the stored
    text stays as it was recorded (no edit outside the audit trail), and no other protocol is guessed."""
    if not d.get("blinded"):
        return None
    for seed in PROTOCOLS.values():
        if (seed.code, seed.version) == (d.get("code"), d.get("version")):
            return seed.blinded_product
    return None


def _dec_str(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _inc(
    id_: str, text: str, measure: Measure | None = None, lo: str | None = None, hi: str | None = None
) -> Criterion:
    return Criterion(
        id_,
        CriterionKind.INCLUSION,
        text,
        measure,
        None if lo is None else Decimal(lo),
        None if hi is None else Decimal(hi),
    )


def _exc(id_: str, text: str) -> Criterion:
    return Criterion(id_, CriterionKind.EXCLUSION, text)


_M = Decimal(1_000_000)  # 10⁶ cells

MESEMS = Protocol(
    code="MESEMS",
    version="1",
    title="MEsenchymal StEm Cells for Multiple Sclerosis (Phase I/II, Toulouse)",
    nct_id="NCT02403947",
    product_key="BM-MSC-AUTO",
    route=Route.IV,
    origin=Origin.AUTOLOGOUS,
    dose_rule=DoseRule(DoseBasis.PER_KG, 1 * _M, 2 * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 168, 14)),  # week 0 and week 24
    infusion_hours=Decimal("1"),
    endotoxin_k_eu_per_kg_h=ENDOTOXIN_K_EU_PER_KG_H[Route.IV],
    blinded=True,  # quadruple masked
    placebo_product_key="PLACEBO-MEDIA",  # suspension media
    sequences=("MSC-PLACEBO", "PLACEBO-MSC"),  # crossover: treatments reversed at week 24
    sites=("Purpan Hospital, Toulouse University Hospital",),
    checklist=(
        _inc("MESEMS-I01", "Age 18 to 50 years", Measure.AGE_YEARS, "18", "50"),
        _inc(
            "MESEMS-I02",
            "Disease duration 2 to 10 years (included)",
            Measure.DISEASE_DURATION_YEARS,
            "2",
            "10",
        ),
        _inc("MESEMS-I03", "EDSS 3.0 to 6.5", Measure.EDSS, "3.0", "6.5"),
        _inc(
            "MESEMS-I04",
            "Diagnosis of MS: RRMS or SPMS not responding to at least one year of approved "
            "therapy, or PPMS with EDSS progression and ≥1 GEL in the last 12 months, as the protocol "
            "defines for each type",
        ),
        _inc("MESEMS-I05", "Positive cerebrospinal fluid (oligoclonal banding)"),
        _inc("MESEMS-I06", "Women of childbearing age: effective contraception"),
        _exc(
            "MESEMS-E01",
            "Less than 3 months since any immunosuppressive therapy, including natalizumab and fingolimod",
        ),
        _exc("MESEMS-E02", "1 month or less since last interferon-beta or glatiramer acetate"),
        _exc("MESEMS-E03", "Corticosteroid treatment within the last 30 days"),
        _exc("MESEMS-E04", "Relapse within the last 60 days"),
        _exc(
            "MESEMS-E05",
            "Active or chronic infection, including HIV-1/2, HTLV-I/II, syphilis, chronic hepatitis B or C",
        ),
        _exc(
            "MESEMS-E06",
            "History of malignancy other than basal cell carcinoma of the skin or carcinoma "
            "in situ in remission for more than one year",
        ),
        _exc("MESEMS-E07", "Severely limited life expectancy from another co-morbid illness"),
        _exc(
            "MESEMS-E08",
            "Myelodysplasia, previous haematological disease, or clinically relevant "
            "white blood cell count abnormalities",
        ),
        _exc("MESEMS-E09", "Pregnancy or risk of pregnancy (unwilling to practise contraception)"),
        _exc("MESEMS-E10", "eGFR below 60 mL/min/1.73 m², known renal failure, or unable to undergo MRI"),
        _exc("MESEMS-E11", "Unable to give written informed consent"),
    ),
    assumptions=(
        "Week-24 window ±14 days; dose 1 has no window (it anchors the schedule).",
        "Infusion duration 1 hour for the endotoxin limit.",
        "Body weight used for dosing must be at most 7 days old.",
        "Blinded product code S9001 is a local trial-specific code; every MESEMS bag (MSC or placebo) is "
        "filled to 50 mL.",
    ),
    blinded_product=BlindedProduct(
        "S9001", "MESEMS investigational product (MSC or placebo)", Decimal("50"), "bag"
    ),
)

MAESTRO_4MS = Protocol(
    code="MAESTRO-4MS",
    version="1",
    title="Allogeneic adipose MSC intrathecal injections in primary progressive MS (Phase I, Rennes)",
    nct_id="NCT06592703",
    product_key="AT-MSC-ALLO",
    route=Route.IT,
    origin=Origin.ALLOGENEIC,
    dose_rule=DoseRule(DoseBasis.FIXED, 45 * _M, 55 * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 91, 7), DoseStep(3, 182, 7)),  # every 3 months
    infusion_hours=Decimal("1"),  # a bolus counts as one hour's exposure
    endotoxin_k_eu_per_kg_h=ENDOTOXIN_K_EU_PER_KG_H[Route.IT],
    blinded=False,  # open label, single group
    placebo_product_key=None,
    sequences=("MSC-MSC-MSC",),
    sites=("Rennes University Hospital",),
    checklist=(
        _inc("MAESTRO-I01", "Primary progressive MS according to the McDonald 2017 criteria"),
        _inc("MAESTRO-I02", "Age between 18 and 55 years", Measure.AGE_YEARS, "18", "55"),
        _inc("MAESTRO-I03", "EDSS 3 to 6 at inclusion", Measure.EDSS, "3", "6"),
        _inc(
            "MAESTRO-I04",
            "Documented disability progression independent of relapse activity in the "
            "2 years before the screening visit",
        ),
        _inc("MAESTRO-I05", "Positive CSF with oligoclonal bands"),
        _inc(
            "MAESTRO-I06",
            "Women of childbearing potential: effective contraception per the CTFG "
            "recommendations (version 1.1)",
        ),
        _inc("MAESTRO-I07", "Free, informed and written consent signed"),
        _inc("MAESTRO-I08", "Affiliated to a social security scheme"),
        _exc("MAESTRO-E01", "Inflammatory activity during the past year (relapses or new T2 MRI lesions)"),
        _exc("MAESTRO-E02", "Disease-modifying drugs during the past year"),
        _exc("MAESTRO-E03", "High-dose corticosteroids during the 30 days before inclusion"),
        _exc(
            "MAESTRO-E04",
            "Contraindication to lumbar puncture or intrathecal injection: intracranial "
            "hypertension, puncture-site infection, platelets < 50 G/L, anticoagulant or fibrinolytic "
            "treatment",
        ),
        _exc("MAESTRO-E05", "Participation in another therapeutic trial in the last 6 months"),
        _exc(
            "MAESTRO-E06",
            "Adult under legal protection, deprived of liberty, pregnant or breastfeeding, "
            "minor, or unable to express consent",
        ),
    ),
    assumptions=(
        "Dose per injection not public: fixed 50 × 10⁶ cells, accepted 45–55 × 10⁶ (placeholder).",
        "Every 3 months = days 0, 91, 182, window ±7 days, counted from dose 1.",
        "Body weight used for the endotoxin limit must be at most 7 days old.",
    ),
)

MSC_AT_SSC = Protocol(
    code="MSC-AT-SSc",
    version="1",
    title="Allogeneic adipose MSC systemic infusion in severe systemic sclerosis (Phase I/II, AP-HP)",
    nct_id="NCT06722105",
    product_key="AT-MSC-ALLO",
    route=Route.IV,
    origin=Origin.ALLOGENEIC,
    dose_rule=DoseRule(DoseBasis.PER_KG, Decimal("0.9") * _M, Decimal("1.1") * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 91, 7)),
    infusion_hours=Decimal("1"),
    endotoxin_k_eu_per_kg_h=ENDOTOXIN_K_EU_PER_KG_H[Route.IV],
    blinded=True,
    placebo_product_key="PLACEBO-MEDIA",
    # Arms of the record: 2 infusions of MSC, 1 infusion of MSC, placebo.
    sequences=("MSC-MSC", "MSC-PLACEBO", "PLACEBO-PLACEBO"),
    sites=("Saint-Louis Hospital, AP-HP, Paris",),
    checklist=(
        _inc("SSC-I01", "Adult (18 years or older)", Measure.AGE_YEARS, "18", None),
        _inc("SSC-I02", "Systemic sclerosis fulfilling the 2013 ACR/EULAR classification criteria"),
        _inc(
            "SSC-I03",
            "Severe systemic sclerosis as defined by the protocol (skin and/or visceral involvement)",
        ),
        _inc("SSC-I04", "Women of childbearing potential: effective contraception"),
        _inc("SSC-I05", "Free, informed and written consent signed"),
        _inc("SSC-I06", "Affiliated to a social security scheme"),
        _exc("SSC-E01", "Active infection (including HIV, HBV, HCV)"),
        _exc("SSC-E02", "Active cancer or cancer in the past 5 years"),
        _exc("SSC-E03", "Pregnancy or breastfeeding"),
        _exc("SSC-E04", "End-stage organ failure (heart, lung, kidney, liver)"),
        _exc("SSC-E05", "Participation in another interventional trial in the last 3 months"),
        _exc("SSC-E06", "Adult under legal protection or deprived of liberty"),
    ),
    assumptions=(
        "Patient criteria of NCT06722105 not in the seeds: items SSC-I02..E06 are plausible placeholders.",
        "Dose 1 × 10⁶ MSC/kg, accepted 0.9–1.1 × 10⁶/kg (the earlier SSc trial NCT02213705 used 1 "
        "then 3 × 10⁶/kg).",
        "Two infusions, day 0 and day 91 ±7; the single-infusion arm receives placebo at dose 2 so that "
        "every subject has two masked administrations (dose 2 is therefore not optional).",
        "Infusion duration 1 hour; body weight at most 7 days old.",
        "Blinded product code S9002 is a local trial-specific code; every bag (MSC or placebo) is filled to "
        "50 mL.",
    ),
    blinded_product=BlindedProduct(
        "S9002", "MSC-AT-SSc investigational product (MSC or placebo)", Decimal("50"), "bag"
    ),
)

PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({p.code: p for p in (MESEMS, MAESTRO_4MS, MSC_AT_SSC)})


def get_protocol(code: str) -> Protocol:
    """The seed protocol with this code; KeyError if unknown."""
    return PROTOCOLS[code]
