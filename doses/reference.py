"""The seed trial protocols as versioned reference data (MESEMS, MAESTRO-4MS, MSC-AT-SSc; DOMAIN.md §1,
seeds 000–004), and how a stored version reads. Pure data: stored once by doses.services.ensure_seed_protocols;
whatever a public record does not state is listed in `Protocol.assumptions` so the site can confirm or
change it in a new version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from bank.i18n import N_
from doses.rules.protocol import (
    ENDOTOXIN_K_EU_PER_KG_H,
    BlindedProduct,
    Criterion,
    CriterionKind,
    DoseBasis,
    DoseRule,
    DoseStep,
    FollowUpStep,
    Labelling,
    Measure,
    Origin,
    Protocol,
    Region,
    Route,
)


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

# Annex VI particulars the public records do not give are placeholders for the site to set in a new
# version (README, "Labels and chain of custody"): telephone numbers of zeros, EU CT numbers of zeros,
# investigators "à désigner par le site".
_PLACEHOLDERS = N_(
    "Label particulars: the contact telephone, the EU CT number and the investigator are placeholders to be "
    "set by the site (telephone and EU CT number of zeros); contact and address are plausible, to confirm."
)


def _first_version(code: str, route: Route, **particulars: Any) -> Protocol:
    """Version 1 of a seed protocol. Every seed counts one hour's exposure for the endotoxin limit (an
    intrathecal bolus too) with the K of its route (DOMAIN.md §5)."""
    return Protocol(
        code=code,
        version="1",
        route=route,
        infusion_hours=Decimal("1"),
        endotoxin_k_eu_per_kg_h=ENDOTOXIN_K_EU_PER_KG_H[route],
        **particulars,
    )


def _french_label(
    pharmacy_of: str,
    address: str,
    phone: str,
    eu_ct_number: str,
    sponsor: str,
    site: str,
    form: str,
    product: str,
) -> Labelling:
    """Annex VI particulars of a seed trial run in France (EU rules, labels in French): the contact is the
    hospital pharmacy (pharmacie à usage intérieur) and the investigator is for the site to name."""
    return Labelling(
        Region.EU,
        ("fr",),
        contact_name=f"Pharmacie à usage intérieur, {pharmacy_of}",
        contact_address=address,
        contact_phone=phone,
        trial_reference=eu_ct_number,
        sponsor=sponsor,
        investigator="investigateur principal à désigner par le site",
        site=site,
        pharmaceutical_form=form,
        product_name=product,
    )


# The enrolment checklist of each seed, one row an item (kept unformatted so it reads as the protocol's list).
# fmt: off
_MESEMS_CHECKLIST = (
    _inc("MESEMS-I01", N_("Age 18 to 50 years"), Measure.AGE_YEARS, "18", "50"),
    _inc("MESEMS-I02", N_("Disease duration 2 to 10 years (included)"),
         Measure.DISEASE_DURATION_YEARS, "2", "10"),
    _inc("MESEMS-I03", N_("EDSS 3.0 to 6.5"), Measure.EDSS, "3.0", "6.5"),
    _inc("MESEMS-I04", N_("Diagnosis of MS: RRMS or SPMS not responding to at least one year of approved "
                          "therapy, or PPMS with EDSS progression and ≥1 GEL in the last 12 months, as the "
                          "protocol defines for each type")),
    _inc("MESEMS-I05", N_("Positive cerebrospinal fluid (oligoclonal banding)")),
    _inc("MESEMS-I06", N_("Women of childbearing age: effective contraception")),
    _exc("MESEMS-E01", N_("Less than 3 months since any immunosuppressive therapy, including natalizumab "
                          "and fingolimod")),
    _exc("MESEMS-E02", N_("1 month or less since last interferon-beta or glatiramer acetate")),
    _exc("MESEMS-E03", N_("Corticosteroid treatment within the last 30 days")),
    _exc("MESEMS-E04", N_("Relapse within the last 60 days")),
    _exc("MESEMS-E05", N_("Active or chronic infection, including HIV-1/2, HTLV-I/II, syphilis, chronic "
                          "hepatitis B or C")),
    _exc("MESEMS-E06", N_("History of malignancy other than basal cell carcinoma of the skin or carcinoma "
                          "in situ in remission for more than one year")),
    _exc("MESEMS-E07", N_("Severely limited life expectancy from another co-morbid illness")),
    _exc("MESEMS-E08", N_("Myelodysplasia, previous haematological disease, or clinically relevant white "
                          "blood cell count abnormalities")),
    _exc("MESEMS-E09", N_("Pregnancy or risk of pregnancy (unwilling to practise contraception)")),
    _exc("MESEMS-E10", N_("eGFR below 60 mL/min/1.73 m², known renal failure, or unable to undergo MRI")),
    _exc("MESEMS-E11", N_("Unable to give written informed consent")),
)
# fmt: on

MESEMS = _first_version(
    code="MESEMS",
    title=N_("MEsenchymal StEm Cells for Multiple Sclerosis (Phase I/II, Toulouse)"),
    nct_id="NCT02403947",
    product_key="BM-MSC-AUTO",
    route=Route.IV,
    origin=Origin.AUTOLOGOUS,
    dose_rule=DoseRule(DoseBasis.PER_KG, 1 * _M, 2 * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 168, 14)),  # week 0 and week 24
    blinded=True,  # quadruple masked
    placebo_product_key="PLACEBO-MEDIA",  # suspension media
    sequences=("MSC-PLACEBO", "PLACEBO-MSC"),  # crossover: treatments reversed at week 24
    sites=("Purpan Hospital, Toulouse University Hospital",),
    checklist=_MESEMS_CHECKLIST,
    assumptions=(
        N_("Week-24 window ±14 days; dose 1 has no window (it anchors the schedule)."),
        N_("Infusion duration 1 hour for the endotoxin limit."),
        N_("Body weight used for dosing must be at most 7 days old."),
        N_(
            "Blinded product code S9001 is a local trial-specific code; every MESEMS bag (MSC or placebo) is "
            "filled to 50 mL."
        ),
        _PLACEHOLDERS,
    ),
    blinded_product=BlindedProduct(
        "S9001", "MESEMS investigational product (MSC or placebo)", Decimal("50"), "bag"
    ),
    labelling=_french_label(
        pharmacy_of="CHU de Toulouse",
        address="Hôpital Purpan, place du Dr Baylac, 31059 Toulouse",
        phone="+33 (0)5 00 00 00 00",
        eu_ct_number="2025-500000-00-00",
        sponsor="CHU de Toulouse",
        site="Hôpital Purpan, CHU de Toulouse",
        form="suspension pour perfusion",
        product="CSM autologues de moelle osseuse ou placebo (milieu de suspension)",
    ),
    follow_up=(FollowUpStep("W24", 24, 14), FollowUpStep("W48", 48, 14)),
)


# fmt: off
_MAESTRO_4MS_CHECKLIST = (
    _inc("MAESTRO-I01", N_("Primary progressive MS according to the McDonald 2017 criteria")),
    _inc("MAESTRO-I02", N_("Age between 18 and 55 years"), Measure.AGE_YEARS, "18", "55"),
    _inc("MAESTRO-I03", N_("EDSS 3 to 6 at inclusion"), Measure.EDSS, "3", "6"),
    _inc("MAESTRO-I04", N_("Documented disability progression independent of relapse activity in the 2 "
                           "years before the screening visit")),
    _inc("MAESTRO-I05", N_("Positive CSF with oligoclonal bands")),
    _inc("MAESTRO-I06", N_("Women of childbearing potential: effective contraception per the CTFG "
                           "recommendations (version 1.1)")),
    _inc("MAESTRO-I07", N_("Free, informed and written consent signed")),
    _inc("MAESTRO-I08", N_("Affiliated to a social security scheme")),
    _exc("MAESTRO-E01", N_("Inflammatory activity during the past year (relapses or new T2 MRI lesions)")),
    _exc("MAESTRO-E02", N_("Disease-modifying drugs during the past year")),
    _exc("MAESTRO-E03", N_("High-dose corticosteroids during the 30 days before inclusion")),
    _exc("MAESTRO-E04", N_("Contraindication to lumbar puncture or intrathecal injection: intracranial "
                           "hypertension, puncture-site infection, platelets < 50 G/L, anticoagulant or "
                           "fibrinolytic treatment")),
    _exc("MAESTRO-E05", N_("Participation in another therapeutic trial in the last 6 months")),
    _exc("MAESTRO-E06", N_("Adult under legal protection, deprived of liberty, pregnant or breastfeeding, "
                           "minor, or unable to express consent")),
)
# fmt: on

MAESTRO_4MS = _first_version(
    code="MAESTRO-4MS",
    title=N_("Allogeneic adipose MSC intrathecal injections in primary progressive MS (Phase I, Rennes)"),
    nct_id="NCT06592703",
    product_key="AT-MSC-ALLO",
    route=Route.IT,
    origin=Origin.ALLOGENEIC,
    dose_rule=DoseRule(DoseBasis.FIXED, 45 * _M, 55 * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 91, 7), DoseStep(3, 182, 7)),  # every 3 months
    blinded=False,  # open label, single group
    placebo_product_key=None,
    sequences=("MSC-MSC-MSC",),
    sites=("Rennes University Hospital",),
    checklist=_MAESTRO_4MS_CHECKLIST,
    assumptions=(
        N_("Dose per injection not public: fixed 50 × 10⁶ cells, accepted 45–55 × 10⁶ (placeholder)."),
        N_("Every 3 months = days 0, 91, 182, window ±7 days, counted from dose 1."),
        N_("Body weight used for the endotoxin limit must be at most 7 days old."),
        _PLACEHOLDERS,
    ),
    labelling=_french_label(
        pharmacy_of="CHU de Rennes",
        address="Hôpital Pontchaillou, 2 rue Henri Le Guilloux, 35033 Rennes",
        phone="+33 (0)2 00 00 00 00",
        eu_ct_number="2024-500000-00-00",
        sponsor="CHU de Rennes",
        site="Hôpital Pontchaillou, CHU de Rennes",
        form="suspension injectable",
        product="CSM allogéniques de tissu adipeux",
    ),
    follow_up=(FollowUpStep("M12", 52, 14),),
)


# fmt: off
_MSC_AT_SSC_CHECKLIST = (
    _inc("SSC-I01", N_("Adult (18 years or older)"), Measure.AGE_YEARS, "18", None),
    _inc("SSC-I02", N_("Systemic sclerosis fulfilling the 2013 ACR/EULAR classification criteria")),
    _inc("SSC-I03", N_("Severe systemic sclerosis as defined by the protocol (skin and/or visceral "
                       "involvement)")),
    _inc("SSC-I04", N_("Women of childbearing potential: effective contraception")),
    _inc("SSC-I05", N_("Free, informed and written consent signed")),
    _inc("SSC-I06", N_("Affiliated to a social security scheme")),
    _exc("SSC-E01", N_("Active infection (including HIV, HBV, HCV)")),
    _exc("SSC-E02", N_("Active cancer or cancer in the past 5 years")),
    _exc("SSC-E03", N_("Pregnancy or breastfeeding")),
    _exc("SSC-E04", N_("End-stage organ failure (heart, lung, kidney, liver)")),
    _exc("SSC-E05", N_("Participation in another interventional trial in the last 3 months")),
    _exc("SSC-E06", N_("Adult under legal protection or deprived of liberty")),
)
# fmt: on

MSC_AT_SSC = _first_version(
    code="MSC-AT-SSc",
    title=N_("Allogeneic adipose MSC systemic infusion in severe systemic sclerosis (Phase I/II, AP-HP)"),
    nct_id="NCT06722105",
    product_key="AT-MSC-ALLO",
    route=Route.IV,
    origin=Origin.ALLOGENEIC,
    dose_rule=DoseRule(DoseBasis.PER_KG, Decimal("0.9") * _M, Decimal("1.1") * _M),
    schedule=(DoseStep(1, 0, 0), DoseStep(2, 91, 7)),
    blinded=True,
    placebo_product_key="PLACEBO-MEDIA",
    # Arms of the record: 2 infusions of MSC, 1 infusion of MSC, placebo.
    sequences=("MSC-MSC", "MSC-PLACEBO", "PLACEBO-PLACEBO"),
    sites=("Saint-Louis Hospital, AP-HP, Paris",),
    checklist=_MSC_AT_SSC_CHECKLIST,
    assumptions=(
        N_(
            "Patient criteria of NCT06722105 not in the seeds: items SSC-I02..E06 are plausible placeholders."
        ),
        N_(
            "Dose 1 × 10⁶ MSC/kg, accepted 0.9–1.1 × 10⁶/kg (the earlier SSc trial NCT02213705 used 1 "
            "then 3 × 10⁶/kg)."
        ),
        N_(
            "Two infusions, day 0 and day 91 ±7; the single-infusion arm receives placebo at dose 2 so that "
            "every subject has two masked administrations (dose 2 is therefore not optional)."
        ),
        N_("Infusion duration 1 hour; body weight at most 7 days old."),
        N_(
            "Follow-up visits at months 6 and 12 after the first infusion (placeholder: the trial's schedule "
            "is not in the seeds)."
        ),
        N_(
            "Blinded product code S9002 is a local trial-specific code; every bag (MSC or placebo) is filled to "
            "50 mL."
        ),
        _PLACEHOLDERS,
    ),
    blinded_product=BlindedProduct(
        "S9002", "MSC-AT-SSc investigational product (MSC or placebo)", Decimal("50"), "bag"
    ),
    labelling=_french_label(
        pharmacy_of="Hôpital Saint-Louis, AP-HP",
        address="1 avenue Claude Vellefaux, 75010 Paris",
        phone="+33 (0)1 00 00 00 00",
        eu_ct_number="2024-500001-00-00",
        sponsor="Assistance Publique – Hôpitaux de Paris",
        site="Hôpital Saint-Louis, AP-HP, Paris",
        form="suspension pour perfusion",
        product="CSM allogéniques de tissu adipeux ou placebo (milieu de suspension)",
    ),
    follow_up=(FollowUpStep("M6", 26, 14), FollowUpStep("M12", 52, 14)),
)

PROTOCOLS: Mapping[str, Protocol] = MappingProxyType({p.code: p for p in (MESEMS, MAESTRO_4MS, MSC_AT_SSC)})


def get_protocol(code: str) -> Protocol:
    """The seed protocol with this code; KeyError if unknown."""
    return PROTOCOLS[code]


# Blinded seed versions by (code, version): their product identity for rows stored before issue 16.
SEED_IDENTITIES: Mapping[tuple[str, str], BlindedProduct] = MappingProxyType(
    {(p.code, p.version): p.blinded_product for p in PROTOCOLS.values() if p.blinded_product is not None}
)


# Seed versions by (code, version): their region and label particulars for rows stored before issue 19.
SEED_LABELLING: Mapping[tuple[str, str], Labelling] = MappingProxyType(
    {(p.code, p.version): p.labelling for p in PROTOCOLS.values() if p.labelling is not None}
)


# Seed versions by (code, version): their follow-up visits for rows stored before issue 22.
SEED_FOLLOW_UP: Mapping[tuple[str, str], tuple[FollowUpStep, ...]] = MappingProxyType(
    {(p.code, p.version): p.follow_up for p in PROTOCOLS.values()}
)


@lru_cache(maxsize=256)
def stored_protocol(definition: str) -> Protocol:
    """The protocol a stored version's JSON defines (a blinded seed version stored before issue 16 reads
    with its seed's identity, a seed version stored before issue 19 with its seed's label particulars), remembered by the text itself, so never stale (Protocol is frozen, so every
    reader of that text may share it). The rules read a protocol several times a request."""
    return Protocol.from_dict(json.loads(definition), SEED_IDENTITIES, SEED_LABELLING, SEED_FOLLOW_UP)
