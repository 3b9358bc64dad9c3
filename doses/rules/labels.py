"""Label rules (DOMAIN.md §5; ISBT 128 ST-001): which container of which dose may be labelled now, the
words a blinded label uses for the dose, and what a print request may ask for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bank.refusals import Problem
from doses.rules.protocol import DoseBasis, Protocol

PRINTABLE = ("allocated", "issued")  # a held, administered or deallocated dose gets no new label
MAX_COPIES = 20


@dataclass(frozen=True)
class LabelFacts:
    """What the records say about one container to be labelled. `dose_status` is None when no dose
    holds the container; `on_this_dose` whether it is an active container of the dose being labelled."""

    container: str  # identifier (DIN + product code)
    dose_status: str | None
    on_this_dose: bool
    lot_released: bool
    lot_din: str
    lot_status: str
    on_hold: bool
    hold_reason: str | None
    expires_at: datetime


def label_problems(f: LabelFacts, now: datetime) -> list[Problem]:
    """Every reason this container cannot be labelled now (empty: it can)."""
    out = []
    c = f"container={f.container}"
    if f.dose_status is None:
        out.append(
            Problem(
                "label.not_allocated",
                f"Container {f.container} is not allocated to a dose: labels "
                "are printed for allocated doses only.",
                c,
            )
        )
    else:
        if not f.on_this_dose:
            out.append(
                Problem("label.other_dose", f"Container {f.container} is not allocated to this dose.", c)
            )
        if f.dose_status not in PRINTABLE:
            out.append(
                Problem(
                    "label.dose_status",
                    f"The dose is {f.dose_status.replace('_', ' ')}: labels are "
                    "printed for allocated or issued doses only.",
                    f"status={f.dose_status}",
                )
            )
    if not f.lot_released:
        out.append(
            Problem(
                "label.not_released",
                f"Container {f.container} is not released (lot {f.lot_din} is "
                f"{f.lot_status.replace('_', ' ')}, or held, or has a late-result alert).",
                c,
            )
        )
    if f.on_hold:
        out.append(
            Problem(
                "label.on_hold", f"Container {f.container} is on hold: {f.hold_reason or 'see the lot'}.", c
            )
        )
    if f.expires_at <= now:
        out.append(
            Problem(
                "label.expired", f"Container {f.container} expired on {f.expires_at:%Y-%m-%d %H:%M} UTC.", c
            )
        )
    return out


def empty_dose(subject_id: str, dose_number: int) -> Problem:
    return Problem(
        "label.no_container",
        f"The dose ({subject_id} dose {dose_number}) holds no container: labels "
        "are printed for allocated doses only.",
        f"subject={subject_id}; dose={dose_number}",
    )


def blinded_storage_differs(active_key: str, placebo_key: str) -> Problem:
    """Printing either storage text would tell the arm (or store the bag wrongly): stop and say why."""
    return Problem(
        "label.storage_differs",
        f"Blinded labels need one storage condition for active and placebo, "
        f"but {active_key} and {placebo_key} differ: make them match in a new product version.",
        f"products={active_key},{placebo_key}",
    )


def _mega(value: float) -> str:
    return f"{value / 1e6:g}"


def nominal_dose_text(protocol: Protocol) -> str:
    """The protocol's dose, the same words for both arms: '1–2 × 10⁶ viable cells/kg (protocol dose)'."""
    rule = protocol.dose_rule
    unit = "viable cells/kg" if rule.basis is DoseBasis.PER_KG else "viable cells"
    span = (
        _mega(float(rule.min_cells))
        if rule.min_cells == rule.max_cells
        else f"{_mega(float(rule.min_cells))}–{_mega(float(rule.max_cells))}"
    )
    return f"{span} × 10⁶ {unit} (protocol dose)"


def validate_print(size: str | None, copies, sizes) -> dict[str, str]:
    """Field problems of a print request: a known size and 1–MAX_COPIES copies of each label."""
    errors = {}
    if size not in sizes:
        errors["size"] = f"Label size must be one of {', '.join(sizes)}."
    try:
        n = int(copies)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_COPIES:
        errors["copies"] = f"Copies must be a whole number from 1 to {MAX_COPIES}."
    return errors
