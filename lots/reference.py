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
_VAPOUR_PHASE = N_("≤ −150 °C (liquid nitrogen vapour phase)")


def _product(
    key: str,
    name: str,
    trials: str,
    source: str,
    origin: str,
    max_passage: int,
    max_pd: float,
    isbt_code: str,
) -> dict:
    """Version 1 of a seed product type: kept a year in the vapour phase of liquid nitrogen, with the
    plausibility limits above (the keys in the order of the product type's columns)."""
    return {
        "key": key,
        "version": 1,
        "name": name,
        "trials": trials,
        "source": source,
        "origin": origin,
        "max_passage": max_passage,
        "max_cumulative_pd": max_pd,
        "shelf_life_days": 365,
        "storage_temperature": _VAPOUR_PHASE,
        "isbt_code": isbt_code,
        **PLAUSIBILITY,
    }


# One row a product: key, name, trials, source, origin, max passage, max cumulative PD, ISBT 128 code.
# fmt: off
SEED_PRODUCTS = (
    _product("BM-MSC-AUTO", N_("Autologous bone-marrow MSC"), "MESEMS", "bone_marrow", "autologous",
             4, 25.0, "S0001"),
    _product("AT-MSC-ALLO", N_("Allogeneic adipose-tissue MSC"), "MAESTRO-4MS, SSc", "adipose", "allogeneic",
             6, 30.0, "S0002"),
    # Placebo for blinded trials: suspension media filled like a dose, never from a donor.
    _product("PLACEBO-MEDIA", N_("Placebo (suspension media)"), "MESEMS, SSc", "none", "placebo",
             0, 1.0, "S0003"),
)
# fmt: on
