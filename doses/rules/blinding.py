"""Matched presentation of a blinded protocol (DOMAIN.md §5, "Blinding, what must match"): every
attribute a blinded person can read on a container — product code and name, volume, container type,
storage, expiry rule, statements — is the same for the active product and the placebo."""

from __future__ import annotations

from dataclasses import dataclass, fields

from bank.refusals import Problem
from doses.rules.protocol import Origin, Protocol

# ISBT 128 type of donation shown for both arms: the protocol's, never the placebo's own '0'.
DONATION_CHARACTER = {Origin.AUTOLOGOUS: "1", Origin.ALLOGENEIC: "V"}


@dataclass(frozen=True)
class Presentation:
    """What a blinded person can see of one container, apart from its own identifiers."""

    volume_ml: float
    container_type: str
    storage_temperature: str
    shelf_life_days: int


LABELS = {
    "volume_ml": "volume (mL)",
    "container_type": "container type",
    "storage_temperature": "storage temperature",
    "shelf_life_days": "shelf life (expiry rule, days)",
}


def expected_presentation(protocol: Protocol, active: Presentation) -> Presentation:
    """The presentation every container of the blinded protocol must have: the protocol's fill (volume,
    container type) and the active product's storage and expiry rule."""
    bp = protocol.blinded_product
    return Presentation(
        float(bp.volume_ml), bp.container_type, active.storage_temperature, active.shelf_life_days
    )


def presentation_problems(
    protocol: Protocol, expected: Presentation, actual: Presentation, what: str
) -> list[Problem]:
    """Every visible attribute of `what` (a container, a formulation) that differs from the protocol's
    matched presentation: a blinded person could tell the arm from it. Marked as revealing the
    treatment, so a blinded reader gets the neutral refusal instead of the comparison."""
    out = []
    for f in fields(Presentation):
        want, got = getattr(expected, f.name), getattr(actual, f.name)
        if want != got:
            out.append(
                Problem(
                    "blinding.presentation_differs",
                    f"{what} would not match the other arm of blinded protocol {protocol.code}: its "
                    f"{LABELS[f.name]} is {got:g} where every container must have {want:g}."
                    if isinstance(got, float)
                    else f"{what} would not match the other arm of blinded protocol {protocol.code}: its "
                    f"{LABELS[f.name]} is {got} where every container must have {want}.",
                    f"protocol={protocol.code}; {f.name}: expected={want}; actual={got}",
                    field=f.name if f.name in ("volume_ml", "container_type") else None,
                    reveals_treatment=True,
                )
            )
    return out


def visible_product_code(protocol: Protocol, division: str) -> str:
    """The ISBT 128 product code a blinded protocol prints and shows for both arms: the trial-specific
    description code, the protocol's type of donation, and the container's own division."""
    return f"{protocol.blinded_product.isbt_code}{DONATION_CHARACTER[protocol.origin]}{division}"
