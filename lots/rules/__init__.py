"""Lot rules: population doublings, passage limits, material lots, harvest permission, storage, formulation.

Pure decisions on plain values (DOMAIN.md §3; donor quarantine per 21 CFR 1271.60/1271.65, autologous
exception 1271.90). Every limit comes from data (ProductLimits, material facts), never from constants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from bank.i18n import N_, Text, t
from bank.refusals import Problem
from lots.states import BENCH_OPEN, FINISHED, HOLDABLE, LOT_WORKFLOW, MATERIAL_STATUSES, MATERIAL_USABLE

# Float noise only: summing log2 values can land a hair above a limit that was met exactly
# (e.g. 40.000000000000007 for a true 40). This is not a product limit.
PD_TOLERANCE = 1e-9

DONOR_ELIGIBLE = "eligible"
DONOR_INELIGIBLE = "ineligible"
# A determination still open: harvest may go ahead, but everything made stays quarantined (1271.60).
DONOR_UNDER_DETERMINATION = frozenset({"pending", "incomplete"})

# A Problem's evidence here is data (status keys, counts, ids, as "key=value"), read by API clients like
# a rule id and never translated; its message is the sentence for people, written with t().


def status_word(status: str) -> Text:
    """A status as people read it in a sentence (a lot's: LOT_WORKFLOW's label; a material lot's or a
    donor's: the stored word), in the reader's language where shown."""
    return t(LOT_WORKFLOW.label(status) if status in LOT_WORKFLOW.states else status)


# Stored words the messages below and the lots pages name (statuses, steps, tiers), marked for the
# catalogue: stored keys stay English, shown with |tr or status_word.
STORED_WORDS = (
    N_("in process"),
    N_("awaiting QC"),
    N_("released"),
    N_("rejected"),
    N_("on hold"),
    N_("approved"),
    N_("quarantined"),
    N_("pending"),
    N_("incomplete"),
    N_("eligible"),
    N_("ineligible"),
    N_("formulated"),
    N_("stored"),
    N_("removed"),
    N_("allocated"),
    N_("shipped"),
    N_("administered"),
    N_("destroyed"),
    N_("open"),
    N_("closed"),
    N_("harvest"),
    N_("isolation"),
    N_("passage"),
    N_("formulation"),
    N_("master"),
    N_("working"),
    N_("dose"),
    N_("moved"),
    N_("usable"),
    N_("expiring soon"),
    N_("expired"),
    N_("bone marrow"),
    N_("adipose"),
    N_("none"),
    N_("autologous"),
    N_("allogeneic"),
    N_("placebo"),
    N_("active"),
    N_("retired"),
    N_("bag"),
    N_("vial"),
)


@dataclass(frozen=True)
class ProductLimits:
    """Validated expansion limits of one product (from its versioned product record)."""

    max_passage: int
    max_cumulative_pd: float

    def __post_init__(self) -> None:
        if self.max_passage < 0:
            raise ValueError("max_passage must be >= 0")
        if not (self.max_cumulative_pd > 0 and math.isfinite(self.max_cumulative_pd)):
            raise ValueError("max_cumulative_pd must be a positive finite number")


@dataclass(frozen=True)
class MaterialLotFacts:
    """What the material register knows about one reagent lot (collagenase, medium, lysate, DMSO…)."""

    material: str
    lot_number: str
    expiry: date | None
    status: str  # 'approved' | 'quarantined' | 'rejected'
    animal_origin: bool  # TSE-risk flag: shown, recorded, not a refusal by itself


@dataclass(frozen=True)
class HarvestDecision:
    """Outcome of check_harvest_allowed; `allowed` is False exactly when `problems` is non-empty."""

    allowed: bool
    quarantined: bool
    autologous_only: bool
    problems: tuple[Problem, ...] = ()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _finite(value: float) -> bool:
    return math.isfinite(float(value))


# --- population doublings -------------------------------------------------------------------


def population_doublings(seeded: float, harvested: float) -> float:
    """PD of one passage = log2(harvested / seeded).

    Both counts must be > 0 (raises ValueError otherwise; validate the entry first with
    validate_passage_entry). A harvest smaller than the seeding gives a negative PD, returned as is.
    """
    if not (_is_number(seeded) and _is_number(harvested)):
        raise ValueError("cell counts must be numbers")
    if not (seeded > 0 and harvested > 0 and _finite(seeded) and _finite(harvested)):
        raise ValueError(f"PD undefined for seeded={seeded!r}, harvested={harvested!r}")
    return math.log2(float(harvested) / float(seeded))


def cumulative_population_doublings(passage_pds: Iterable[float], starting_pd: float = 0.0) -> float:
    """Cumulative PD = starting_pd + sum of the per-passage PDs (exact float sum).

    `starting_pd` carries the PD already accumulated upstream, e.g. in the master cell bank a
    working bank was thawed from.
    """
    return math.fsum([starting_pd, *passage_pds])


def _check_count(errors: dict[str, str], field: str, value: float | None) -> None:
    """Record a message for a missing, non-numeric, non-finite or negative cell count."""
    if value is None:
        errors[field] = t("Required.")
    elif not _is_number(value) or not _finite(value):
        errors[field] = t("Must be a number.")
    elif value < 0:
        errors[field] = t("A cell count cannot be negative.")


def _check_viability(errors: dict[str, str], field: str, value: float | None) -> None:
    if value is None:
        errors[field] = t("Required.")
    elif not _is_number(value) or not _finite(value) or not 0 <= value <= 100:
        errors[field] = t("Viability is a percentage between 0 and 100.")


# The date fields of bench entries as a sentence names them.
DATE_NAMES = {
    "harvested_on": t("the harvest date"),
    "seeded_on": t("the seeding date"),
    "isolated_on": t("the isolation date"),
}


def _check_dates(
    errors: dict[str, str],
    first: str,
    first_on: date | None,
    then: str,
    then_on: date | None,
    today: date | None,
) -> None:
    for field, value in ((first, first_on), (then, then_on)):
        if value is None:
            errors[field] = t("Required.")
        elif today is not None and value > today:
            errors[field] = t("Cannot be in the future.")
    if first_on is not None and then_on is not None and then_on < first_on and then not in errors:
        errors[then] = t("Cannot be before %(date)s (%(day)s).", date=DATE_NAMES[first], day=first_on)


def validate_passage_entry(
    seeded: float | None,
    harvested: float | None,
    viability_pct: float | None,
    seeded_on: date | None,
    harvested_on: date | None,
    today: date | None = None,
) -> dict[str, str]:
    """Check a passage record for impossible values; return {parameter name: message}, empty if fine.

    Refused: missing values, negative or non-finite counts, nothing seeded (PD undefined, and cells
    cannot be harvested from an empty vessel), nothing harvested (a failed culture is a deviation, not
    a passage), viability outside 0–100 %, harvest before seeding, dates after `today` when given.
    """
    errors: dict[str, str] = {}
    _check_count(errors, "seeded", seeded)
    _check_count(errors, "harvested", harvested)
    if "seeded" not in errors and seeded == 0:
        if "harvested" not in errors and harvested and harvested > 0:
            errors["harvested"] = t("Cells harvested from a vessel seeded with none.")
        errors["seeded"] = t("No cells seeded: population doublings are undefined.")
    if "harvested" not in errors and harvested == 0:
        errors["harvested"] = t("No cells harvested: record a failed culture as a deviation.")
    _check_viability(errors, "viability_pct", viability_pct)
    _check_dates(errors, "seeded_on", seeded_on, "harvested_on", harvested_on, today)
    return errors


def validate_isolation_entry(
    cell_count: float | None,
    viability_pct: float | None,
    harvested_on: date | None,
    isolated_on: date | None,
    today: date | None = None,
) -> dict[str, str]:
    """Check an isolation (SVF / mononuclear cells) record; return {parameter name: message}.

    Refused: missing values, negative, zero or non-finite cell count, viability outside 0–100 %,
    isolation before the harvest, dates after `today` when given.
    """
    errors: dict[str, str] = {}
    _check_count(errors, "cell_count", cell_count)
    if "cell_count" not in errors and cell_count == 0:
        errors["cell_count"] = t("No cells isolated: record a failed isolation as a deviation.")
    _check_viability(errors, "viability_pct", viability_pct)
    _check_dates(errors, "harvested_on", harvested_on, "isolated_on", isolated_on, today)
    return errors


# --- passage limits -------------------------------------------------------------------------


def check_passage_allowed(
    product: ProductLimits, passage_number: int, cumulative_pd_after: float
) -> list[Problem]:
    """Refuse a passage beyond the product's validated maximum passage or cumulative PD.

    Reaching a limit exactly is allowed; exceeding it is not. Returns every problem found.
    """
    problems: list[Problem] = []
    add, pd, max_pd = problems.append, cumulative_pd_after, product.max_cumulative_pd
    if passage_number < 0:
        msg = t("Passage number cannot be negative.")
        add(Problem("lots.passage.number_invalid", msg, evidence=f"P{passage_number}"))
    elif passage_number > product.max_passage:
        msg = t(
            "Passage P%(number)s is beyond the validated maximum P%(max)s.",
            number=passage_number,
            max=product.max_passage,
        )
        add(Problem("lots.passage.max_passage", msg, evidence=f"P{passage_number} > P{product.max_passage}"))
    if not _finite(pd):
        msg = t("Cumulative population doublings are not a finite number.")
        add(Problem("lots.passage.pd_invalid", msg, evidence=f"cumulative_pd_after={pd!r}"))
    elif pd > max_pd + PD_TOLERANCE:
        msg = t(
            "Cumulative population doublings %(pd)s exceed the validated maximum %(max)s.",
            pd=Decimal(f"{pd:.2f}"),
            max=max_pd,
        )
        add(Problem("lots.passage.max_cumulative_pd", msg, evidence=f"cumulative PD {pd!r} > {max_pd!r}"))
    return problems


# --- materials ------------------------------------------------------------------------------


def check_material_lot(lot: MaterialLotFacts, use_date: date) -> list[Problem]:
    """Refuse a material lot that may not be used on `use_date`; return every problem.

    Usable through its expiry date inclusive; expired, missing expiry, quarantined, rejected or an
    unknown status refuse. Animal origin is a TSE-risk flag for the record, not a refusal.
    """
    ident, problems = material_lot_name(lot.material, lot.lot_number), []
    add = problems.append
    if lot.expiry is None:
        msg = t("%(lot)s has no expiry date recorded.", lot=ident)
        add(Problem("lots.material.expiry_missing", msg, evidence="expiry=None"))
    elif use_date > lot.expiry:
        msg = t("%(lot)s expired on %(day)s.", lot=ident, day=lot.expiry)
        add(Problem("lots.material.expired", msg, evidence=f"expiry={lot.expiry}; use_date={use_date}"))
    if lot.status in MATERIAL_STATUSES and lot.status != MATERIAL_USABLE:
        msg = t("%(lot)s is %(status)s, not approved for use.", lot=ident, status=status_word(lot.status))
        add(Problem(f"lots.material.{lot.status}", msg, evidence=f"status={lot.status}"))
    elif lot.status != MATERIAL_USABLE:
        msg = t("%(lot)s has an unknown status.", lot=ident)
        add(Problem("lots.material.status_unknown", msg, evidence=f"status={lot.status!r}"))
    return problems


def material_lot_name(material: str, lot_number: str) -> Text:
    """How a sentence names a material lot: "Collagenase NB4 lot 123"."""
    return t("%(material)s lot %(lot_number)s", material=material, lot_number=lot_number)


MATERIAL_USABILITY = ("usable", "expiring_soon", "expired", "quarantined", "rejected")


def material_usability(lot: MaterialLotFacts, today: date, soon_days: int) -> tuple[str, str]:
    """How a material lot stands for use today, with the reason to show: 'expired' (or no expiry),
    'rejected', 'quarantined' (not usable; the same facts check_material_lot refuses), 'expiring_soon'
    (usable, expires within `soon_days` days) or 'usable'."""
    if lot.expiry is None:
        return "expired", t("no expiry date recorded")
    if today > lot.expiry:
        return "expired", t("expired on %(day)s", day=lot.expiry)
    if lot.status != MATERIAL_USABLE:
        return ("rejected" if lot.status == "rejected" else "quarantined"), t(
            "%(status)s, not approved for use", status=status_word(lot.status)
        )
    left = (lot.expiry - today).days
    if left <= soon_days:
        return "expiring_soon", t("expires in %(days)s day(s), on %(day)s", days=left, day=lot.expiry)
    return "usable", t("expires on %(day)s", day=lot.expiry)


# --- harvest permission by donor status -----------------------------------------------------


def check_harvest_allowed(donor_status: str, is_autologous: bool, under_lookback: bool) -> HarvestDecision:
    """Decide whether a harvest may be recorded for a donor, and how its products are held.

    - donor under look-back: refused (every product of that donor is held, DOMAIN §2);
    - autologous: allowed, products marked for autologous use only; eligibility is not required
      for autologous use (21 CFR 1271.90(a)(1)), so no eligibility quarantine;
    - eligible: allowed;
    - 'pending' / 'incomplete' determination: allowed, products quarantined until signed (1271.60);
    - ineligible or any unknown status: refused (1271.65).
    """
    problems: list[Problem] = []
    add = problems.append
    if under_lookback:
        msg = t("Donor is under look-back: harvests are held.")
        add(Problem("lots.harvest.lookback", msg, evidence="look-back"))
    quarantined = False
    if not is_autologous:
        if donor_status in DONOR_UNDER_DETERMINATION:
            quarantined = True
        elif donor_status == DONOR_INELIGIBLE:
            msg = t("Donor is determined ineligible: allogeneic material may not be collected.")
            add(Problem("lots.harvest.donor_ineligible", msg, evidence=f"donor_status={donor_status}"))
        elif donor_status != DONOR_ELIGIBLE:
            msg = t("Donor eligibility status is not recognised.")
            add(Problem("lots.harvest.donor_status_unknown", msg, evidence=f"donor_status={donor_status!r}"))
    ok = not problems
    return HarvestDecision(ok, quarantined and ok, is_autologous, tuple(problems))


# --- storage --------------------------------------------------------------------------------


def check_position(
    rows: int, cols: int, row: int, col: int, occupied: Mapping[tuple[int, int], str] | None = None
) -> list[Problem]:
    """Refuse a storage position outside a rows × cols box (1-based) or, when `occupied` is given,
    already holding a container (mapping (row, col) → container identifier)."""
    box = f"{rows} × {cols} box"
    if rows < 1 or cols < 1:
        msg = t("A box needs at least one row and one column.")
        return [Problem("lots.storage.box_invalid", msg, evidence=box)]
    where = f"row {row}, column {col}"
    if not (1 <= row <= rows and 1 <= col <= cols):
        msg = t(
            "Position row %(row)s, column %(col)s is outside the %(rows)s × %(cols)s box.",
            row=row,
            col=col,
            rows=rows,
            cols=cols,
        )
        return [Problem("lots.storage.outside_box", msg, evidence=f"{where}; {box}")]
    if occupied is not None and (row, col) in occupied:
        msg = t(
            "Position row %(row)s, column %(col)s already holds %(container)s.",
            row=row,
            col=col,
            container=occupied[(row, col)],
        )
        return [Problem("lots.storage.occupied", msg, evidence=f"{where}: {occupied[(row, col)]}")]
    return []


def box_grid(rows: int, cols: int, occupied: Mapping[tuple[int, int], str]) -> list[list[str | None]]:
    """Grid of a box for display: grid[row-1][col-1] is the container id there or None.

    Raises ValueError if an occupied position lies outside the box (a data error to surface, not hide).
    """
    if rows < 1 or cols < 1:
        raise ValueError(f"invalid box size {rows} x {cols}")
    grid: list[list[str | None]] = [[None] * cols for _ in range(rows)]
    for (row, col), container in occupied.items():
        if not (1 <= row <= rows and 1 <= col <= cols):
            raise ValueError(f"position ({row}, {col}) of {container} is outside the {rows} x {cols} box")
        grid[row - 1][col - 1] = container
    return grid


# --- formulation and expiry -----------------------------------------------------------------


def validate_formulation(
    n_containers: int | None,
    cells_per_container: float | None,
    volume_ml: float | None,
    available_cells: float,
) -> dict[str, str]:
    """Check a formulation into containers; return {parameter name: message}, empty if fine.

    `available_cells` is the number harvested at the final passage: n_containers × cells_per_container
    may not exceed it (reported under 'cells_per_container'). Counts and volume must be positive.
    """
    errors: dict[str, str] = {}
    if n_containers is None:
        errors["n_containers"] = t("Required.")
    elif isinstance(n_containers, bool) or not isinstance(n_containers, int) or n_containers < 1:
        errors["n_containers"] = t("At least one whole container.")
    for field, value in (("cells_per_container", cells_per_container), ("volume_ml", volume_ml)):
        if value is None:
            errors[field] = t("Required.")
        elif not _is_number(value) or not _finite(value) or value <= 0:
            errors[field] = t("Must be a number greater than zero.")
    if not errors:
        # Decimal keeps n × cells exact, so a formulation using every cell is not refused by rounding.
        total = Decimal(n_containers) * Decimal(str(cells_per_container))
        if total > Decimal(str(available_cells)):
            errors["cells_per_container"] = t(
                "%(n)s × %(cells)s = %(total)s cells, more than the %(available)s harvested at the final "
                "passage.",
                n=n_containers,
                # Cell counts as typed and stored ("2.5e+06"): read, not parsed, in every language.
                cells=format(cells_per_container, "g"),
                total=format(float(total), "g"),
                available=format(available_cells, "g"),
            )
    return errors


def container_expiry(frozen_at: datetime, shelf_life_days: float) -> datetime:
    """Expiry of a container = freezing time + shelf life (days, from the product record).

    The time zone of `frozen_at` is kept (store UTC). Raises ValueError on a non-positive shelf life.
    """
    if not (_is_number(shelf_life_days) and _finite(shelf_life_days) and shelf_life_days > 0):
        raise ValueError(f"shelf life must be a positive number of days, got {shelf_life_days!r}")
    return frozen_at + timedelta(days=float(shelf_life_days))


# --- lot steps ------------------------------------------------------------------------------


def check_bench_open(din: str, status: str) -> list[Problem]:
    """Bench entries (isolation, passages, formulation) are recorded only while the lot is in process."""
    if status == BENCH_OPEN:
        return []
    return [
        Problem(
            "lots.bench.closed",
            t("Lot %(din)s is %(status)s: bench entries are closed.", din=din, status=status_word(status)),
            evidence=f"status={status}",
        )
    ]


def check_verification(
    entered_by_id: int | None, verifier_id: int | None, already_verified: bool, din: str, lot_status: str
) -> list[Problem]:
    """Second-person verification of a critical entry: once, never by the person who entered it, and not
    after the lot is released or rejected."""
    if already_verified:
        return [Problem("lots.verify.already", t("Already verified."))]
    problems = []
    if entered_by_id == verifier_id:
        problems.append(
            Problem(
                "lots.verify.four_eyes",
                t("You entered these values: a second person must verify them."),
                evidence=f"user={verifier_id}",
            )
        )
    if lot_status in FINISHED:
        problems.append(
            Problem(
                "lots.verify.lot_finished",
                t("Lot %(din)s is %(status)s.", din=din, status=status_word(lot_status)),
                evidence=f"status={lot_status}",
            )
        )
    return problems


def check_ready_for_qc(
    unverified: Iterable[str],
    is_harvest_lot: bool,
    has_isolation: bool,
    is_placebo: bool,
    n_passages: int,
    n_containers: int,
) -> list[Problem]:
    """Why a lot cannot go to QC yet (empty when it can): every critical entry verified, the isolation of a
    harvest lot recorded, a culture passage (except for a placebo) and a formulated container."""
    problems = [
        Problem(
            "lots.qc.unverified", t("Entry waiting for second-person verification: %(entry)s.", entry=w), w
        )
        for w in unverified
    ]
    if is_harvest_lot and not has_isolation:
        problems.append(Problem("lots.qc.no_isolation", t("The isolation is not recorded.")))
    if not is_placebo and not n_passages:
        problems.append(Problem("lots.qc.no_passage", t("No culture passage is recorded.")))
    if not n_containers:
        problems.append(Problem("lots.qc.no_container", t("No container is formulated.")))
    return problems


def check_hold_lift(under_lookback: bool) -> list[Problem]:
    """A hold stays while the lot's donor is under look-back."""
    if under_lookback:
        return [
            Problem(
                "lots.hold.lookback",
                t("The donor is under look-back: the hold stays until the look-back is closed."),
                evidence="look-back",
            )
        ]
    return []


def check_holdable(status: str) -> list[Problem]:
    if status in HOLDABLE:
        return []
    return [
        Problem(
            "lots.hold.not_holdable",
            t("A lot %(status)s cannot be put on hold.", status=status_word(status)),
            evidence=f"status={status}",
        )
    ]


def check_quarantine_lift(
    din: str, quarantined: bool, donor_code: str, donor_status: str, eligible_signed: bool
) -> list[Problem]:
    """The donor-eligibility quarantine (21 CFR 1271.60) ends once the donor's eligibility is signed."""
    if not quarantined:
        return [Problem("lots.quarantine.not_quarantined", t("Lot %(din)s is not quarantined.", din=din))]
    if not eligible_signed:
        return [
            Problem(
                "lots.quarantine.eligibility_unsigned",
                t(
                    "Donor %(code)s is %(status)s: eligibility is not signed yet, the lot stays quarantined "
                    "(21 CFR 1271.60).",
                    code=donor_code,
                    status=status_word(donor_status),
                ),
                evidence=f"donor_status={donor_status}",
            )
        ]
    return []
