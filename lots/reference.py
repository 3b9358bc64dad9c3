"""Seed reference data of the lots domain: the product types (versioned; a site changes a value by adding
a version, lots.services.products.add_product_version). Pure data: no database code."""

from __future__ import annotations

from bank.i18n import N_

# Names and storage texts are stored in English as seeded; N_ marks them for the catalogue (shown with |tr).

# Plausibility of bench entries (lots.rules.plausibility), per product version [check]:
# - max_fold_per_day: MSC in culture double at best about once a day (doubling times of a day or more),
#   so 8-fold a day (3 PD, with PD = log2(harvested/seeded), DOMAIN.md §3) is beyond a real culture and
#   still covers counting error; a million cells becoming 10¹² in a day (issue 18) is refused.
# - viability_drop_pct: a fall of more than 20 points from the step before is confirmed with a comment.
PLAUSIBILITY = dict(max_fold_per_day=8.0, viability_drop_pct=20.0)

# Starting values: clinical MSC use is typically P3–P6 (DOMAIN §3); the PD ceilings sit well under the
# in-vitro capacity (BM 20–50 PD, adipose 44–80 PD). Shelf life and codes are local choices [check].
SEED_PRODUCTS = (
    dict(
        key="BM-MSC-AUTO",
        version=1,
        name=N_("Autologous bone-marrow MSC"),
        trials="MESEMS",
        source="bone_marrow",
        origin="autologous",
        max_passage=4,
        max_cumulative_pd=25.0,
        shelf_life_days=365,
        storage_temperature=N_("≤ −150 °C (liquid nitrogen vapour phase)"),
        isbt_code="S0001",
        **PLAUSIBILITY,
    ),
    dict(
        key="AT-MSC-ALLO",
        version=1,
        name=N_("Allogeneic adipose-tissue MSC"),
        trials="MAESTRO-4MS, SSc",
        source="adipose",
        origin="allogeneic",
        max_passage=6,
        max_cumulative_pd=30.0,
        shelf_life_days=365,
        storage_temperature=N_("≤ −150 °C (liquid nitrogen vapour phase)"),
        isbt_code="S0002",
        **PLAUSIBILITY,
    ),
    # Placebo for blinded trials: suspension media filled like a dose, never from a donor.
    dict(
        key="PLACEBO-MEDIA",
        version=1,
        name=N_("Placebo (suspension media)"),
        trials="MESEMS, SSc",
        source="none",
        origin="placebo",
        max_passage=0,
        max_cumulative_pd=1.0,
        shelf_life_days=365,
        storage_temperature=N_("≤ −150 °C (liquid nitrogen vapour phase)"),
        isbt_code="S0003",
        **PLAUSIBILITY,
    ),
)
