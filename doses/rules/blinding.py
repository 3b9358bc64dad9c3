"""Matched presentation of a blinded protocol (DOMAIN.md §5, "Blinding, what must match"): every
attribute a blinded person can read on a container — product code and name, volume, container type,
storage, expiry rule, statements — is the same for the active product and the placebo."""

from __future__ import annotations

from dataclasses import dataclass, fields

from bank.i18n import t
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
    "volume_ml": t("volume (mL)"),
    "container_type": t("container type"),
    "storage_temperature": t("storage temperature"),
    "shelf_life_days": t("shelf life (expiry rule, days)"),
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
                    t(
                        "%(what)s would not match the other arm of blinded protocol %(protocol)s: its "
                        "%(attribute)s is %(actual)s where every container must have %(expected)s.",
                        what=what,
                        protocol=protocol.code,
                        attribute=LABELS[f.name],
                        actual=got,
                        expected=want,
                    ),
                    t(
                        "protocol %(protocol)s; %(attribute)s: %(actual)s, expected %(expected)s",
                        protocol=protocol.code,
                        attribute=LABELS[f.name],
                        actual=got,
                        expected=want,
                    ),
                    field=f.name if f.name in ("volume_ml", "container_type") else None,
                    reveals_treatment=True,
                )
            )
    return out


def visible_product_code(protocol: Protocol, division: str) -> str:
    """The ISBT 128 product code a blinded protocol prints and shows for both arms: the trial-specific
    description code, the protocol's type of donation, and the container's own division."""
    return f"{protocol.blinded_product.isbt_code}{DONATION_CHARACTER[protocol.origin]}{division}"
