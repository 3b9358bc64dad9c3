"""Bench processing: isolation and culture passages, their four-eyes verification, and PD arithmetic.

An entry counts (for cumulative PD, formulation, derivation, QC) only once a second person verified it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import today as utc_today
from bank.clock import utcnow
from bank.i18n import t
from bank.refusals import FORM, Problem, Refused, refuse_if
from bank.uow import current_actor
from lots.models import Harvest, Isolation, Lot, Passage
from lots.rules import (
    check_bench_open,
    check_passage_allowed,
    check_verification,
    cumulative_population_doublings,
    population_doublings,
    validate_isolation_entry,
    validate_passage_entry,
)
from lots.rules.plausibility import Findings, Neighbour, check_passage_plausibility, confirmation_errors
from lots.services.materials import check_material_lots, record_material_uses

# Rule parameter names → form field names.
MAX_VESSELS = 1000  # input sanity bound (a 10-layer stack counts as one vessel)
PASSAGE_FIELDS = {"seeded": "seeded_cells", "harvested": "harvested_cells"}


def require_in_process(lot: Lot) -> None:
    refuse_if(problems=check_bench_open(lot.din, lot.status))


def passages(session: Session, lot: Lot) -> list[Passage]:
    """The lot's passages in force (corrected and voided ones stay on record: passage_history)."""
    return list(
        session.scalars(
            select(Passage).where(Passage.lot_id == lot.id, Passage.in_force).order_by(Passage.number)
        )
    )


def passage_history(session: Session, lot: Lot) -> list[Passage]:
    """Every passage entry of the lot, in force or not (corrected, voided, a correction pending)."""
    return list(
        session.scalars(select(Passage).where(Passage.lot_id == lot.id).order_by(Passage.number, Passage.id))
    )


def isolation_of(session: Session, lot: Lot) -> Isolation | None:
    """The lot's isolation in force."""
    return session.scalar(select(Isolation).where(Isolation.lot_id == lot.id, Isolation.in_force))


def isolation_history(session: Session, lot: Lot) -> list[Isolation]:
    return list(session.scalars(select(Isolation).where(Isolation.lot_id == lot.id).order_by(Isolation.id)))


def isolation_neighbour(isolation: Isolation) -> Neighbour:
    return Neighbour(t("the isolation"), isolation.isolated_on, isolation.cell_count, isolation.viability_pct)


def harvested_neighbour(p: Passage) -> Neighbour:
    return Neighbour(f"P{p.number}", p.harvested_on, p.harvested_cells, p.viability_pct)


def seeded_neighbour(p: Passage) -> Neighbour:
    return Neighbour(f"P{p.number}", p.seeded_on, p.seeded_cells)


# The bench values of an entry as typed: what its verifier checks and the batch record shows.
ISOLATION_VALUES = ("cell_count", "viability_pct", "isolated_on", "operator")
PASSAGE_VALUES = (
    "number",
    "seeded_cells",
    "harvested_cells",
    "viability_pct",
    "vessels",
    "seeded_on",
    "harvested_on",
    "operator",
)


def isolation_values(iso: Isolation) -> dict:
    return {name: getattr(iso, name) for name in ISOLATION_VALUES}


def passage_values(p: Passage) -> dict:
    return {name: getattr(p, name) for name in PASSAGE_VALUES}


def confirm_soft_limits(findings: Findings, confirmed: bool, comment: str | None) -> tuple[str, str | None]:
    """Refuse hard limits; refuse soft ones until confirmed with a comment (every warning next to its field,
    the confirmation and comment asked for). Returns what to store: (rule ids confirmed, comment)."""
    refuse_if(problems=findings.refusals)
    unconfirmed = confirmation_errors(findings.warnings, confirmed, comment)
    if unconfirmed:
        raise Refused(unconfirmed, findings.warnings)
    if not findings.warnings:
        return "", None
    return " ".join(w.rule_id for w in findings.warnings), comment.strip()


def cumulative_pd(session: Session, lot: Lot) -> float:
    """Cumulative PD of the lot: the PD carried from its parent plus its *verified* passages."""
    return cumulative_population_doublings(
        [p.population_doublings for p in passages(session, lot) if p.verified], lot.starting_pd
    )


def unverified_entries(session: Session, lot: Lot) -> list[str]:
    """Critical entries still waiting for their second-person verification."""
    waiting = []
    isolation = isolation_of(session, lot)
    if isolation is not None and not isolation.verified:
        waiting.append(t("isolation not verified"))
    waiting += [
        t("P%(number)s not verified", number=p.number) for p in passages(session, lot) if not p.verified
    ]
    return waiting


@dataclass(frozen=True)
class IsolationValues:
    """An isolation's values as typed on the form (a new isolation or a correction)."""

    cell_count: float | None
    viability_pct: float | None
    isolated_on: date | None
    operator: str


def isolation_value_errors(v: IsolationValues, harvest: Harvest, today: date) -> dict[str, str]:
    """The isolation form's own errors by field: impossible values (lots.rules.validate_isolation_entry,
    against the lot's harvest) and the operator."""
    errors = validate_isolation_entry(
        v.cell_count, v.viability_pct, harvest.collected_at.date(), v.isolated_on, today
    )
    if "harvested_on" in errors:  # the harvest date is not on this form: say it plainly
        errors[FORM] = t("Harvest date: %(why)s", why=errors.pop("harvested_on"))
    if not (v.operator or "").strip():
        errors["operator"] = t("Required.")
    return errors


def new_isolation(session: Session, lot: Lot, v: IsolationValues, **entry) -> Isolation:
    """The Isolation row of valid values, entered by the acting user; `entry`: whether it is in force."""
    return Isolation(
        lot_id=lot.id,
        cell_count=float(v.cell_count),
        viability_pct=float(v.viability_pct),
        isolated_on=v.isolated_on,
        operator=v.operator.strip(),
        entered_by_id=current_actor(session).id,
        **entry,
    )


def record_isolation(
    session: Session,
    lot: Lot,
    *,
    cell_count: float | None,
    viability_pct: float | None,
    isolated_on: date | None,
    operator: str,
    material_lot_ids=(),
    today: date | None = None,
) -> Isolation:
    """Record the isolation of a harvest lot (unverified until a second person verifies it)."""
    require_in_process(lot)
    harvest = session.scalar(select(Harvest).where(Harvest.lot_id == lot.id))
    if harvest is None:
        raise Refused.rule(
            "lots.isolation.no_harvest", t("Only a lot opened at harvest has an isolation step.")
        )
    if isolation_of(session, lot) is not None:
        raise Refused.rule("lots.isolation.recorded", t("The isolation of this lot is already recorded."))
    v = IsolationValues(cell_count, viability_pct, isolated_on, operator)
    refuse_if(isolation_value_errors(v, harvest, today or utc_today()))
    materials = check_material_lots(session, material_lot_ids, isolated_on)
    isolation = new_isolation(session, lot, v)
    session.add(isolation)
    session.flush()
    record_material_uses(session, lot, materials, "isolation", isolation.id, isolated_on)
    return isolation


@dataclass(frozen=True)
class PassageValues:
    """A passage's values as typed on the form (a new passage or a correction)."""

    seeded_cells: float | None
    harvested_cells: float | None
    viability_pct: float | None
    vessels: int | None
    seeded_on: date | None
    harvested_on: date | None
    operator: str


def passage_value_errors(v: PassageValues, today: date) -> dict[str, str]:
    """The passage form's own errors by field: impossible values (lots.rules.validate_passage_entry), the
    number of vessels and the operator."""
    errors = {
        PASSAGE_FIELDS.get(k, k): m
        for k, m in validate_passage_entry(
            v.seeded_cells, v.harvested_cells, v.viability_pct, v.seeded_on, v.harvested_on, today
        ).items()
    }
    if v.vessels is None or not 1 <= v.vessels <= MAX_VESSELS:
        errors["vessels"] = t("Between 1 and %(max)s culture vessels.", max=MAX_VESSELS)
    if not (v.operator or "").strip():
        errors["operator"] = t("Required.")
    return errors


def passage_plausibility(lot: Lot, v: PassageValues, before: Neighbour | None, **later) -> Findings:
    """check_passage_plausibility of valid values against the product's limits; `later`: the next
    passage and the freezing, for a correction."""
    return check_passage_plausibility(
        lot.product_type.plausibility(),
        seeded=float(v.seeded_cells),
        harvested=float(v.harvested_cells),
        viability_pct=float(v.viability_pct),
        seeded_on=v.seeded_on,
        harvested_on=v.harvested_on,
        before=before or None,
        **later,
    )


def new_passage(session: Session, lot: Lot, number: int, v: PassageValues, **entry) -> Passage:
    """The Passage row of valid values, entered by the acting user; `entry`: its plausibility confirmation
    (and whether it is in force)."""
    return Passage(
        lot_id=lot.id,
        number=number,
        seeded_cells=float(v.seeded_cells),
        harvested_cells=float(v.harvested_cells),
        viability_pct=float(v.viability_pct),
        vessels=v.vessels,
        seeded_on=v.seeded_on,
        harvested_on=v.harvested_on,
        operator=v.operator.strip(),
        population_doublings=population_doublings(v.seeded_cells, v.harvested_cells),
        entered_by_id=current_actor(session).id,
        **entry,
    )


def record_passage(
    session: Session,
    lot: Lot,
    *,
    seeded_cells: float | None,
    harvested_cells: float | None,
    viability_pct: float | None,
    vessels: int | None,
    seeded_on: date | None,
    harvested_on: date | None,
    operator: str,
    material_lot_ids=(),
    today: date | None = None,
    confirm_plausibility: bool = False,
    plausibility_comment: str | None = None,
) -> Passage:
    """Record the next passage Pn; refused beyond the product's maximum passage or cumulative PD.

    The limit check counts every recorded passage, verified or not: an entry waiting for verification
    must not let the culture run past its validated limit. Implausible values are refused (dates out of
    order, growth beyond the product's fold-a-day ceiling); a negative PD or a steep viability drop is
    refused until `confirm_plausibility` with a `plausibility_comment`, which is stored with the entry."""
    require_in_process(lot)
    if (
        session.scalar(select(Harvest.id).where(Harvest.lot_id == lot.id))
        and isolation_of(session, lot) is None
    ):
        raise Refused.rule("lots.passage.no_isolation", t("Record the isolation before the first passage."))
    if lot.product_type.is_placebo:
        raise Refused.rule("lots.passage.placebo", t("A placebo lot has no culture passages."))
    v = PassageValues(
        seeded_cells, harvested_cells, viability_pct, vessels, seeded_on, harvested_on, operator
    )
    refuse_if(passage_value_errors(v, today or utc_today()))
    earlier = passages(session, lot)
    number = earlier[-1].number + 1 if earlier else lot.first_passage
    pd = population_doublings(seeded_cells, harvested_cells)
    after = cumulative_population_doublings([p.population_doublings for p in earlier] + [pd], lot.starting_pd)
    problems = check_passage_allowed(lot.product_type.limits(), number, after)
    product = f"{lot.product_type.key} v{lot.product_type.version}"
    isolation = isolation_of(session, lot)
    before = harvested_neighbour(earlier[-1]) if earlier else isolation and isolation_neighbour(isolation)
    findings = passage_plausibility(lot, v, before)
    refuse_if(
        problems=[
            Problem(
                p.rule_id,
                t(
                    "P%(number)s refused for %(product)s: %(why)s",
                    number=number,
                    product=product,
                    why=p.message,
                ),
                evidence=p.evidence,
            )
            for p in problems
        ]
        + list(findings.refusals)
    )
    confirmed_rules, comment = confirm_soft_limits(findings, confirm_plausibility, plausibility_comment)
    materials = check_material_lots(session, material_lot_ids, seeded_on)
    passage = new_passage(
        session, lot, number, v, plausibility_rules=confirmed_rules, plausibility_comment=comment
    )
    session.add(passage)
    session.flush()
    record_material_uses(session, lot, materials, "passage", passage.id, seeded_on)
    return passage


def verify_entry(session: Session, entry: Isolation | Passage) -> None:
    """Second-person verification of a critical entry: never by the person who entered it."""
    actor = current_actor(session)
    lot = session.get(Lot, entry.lot_id)
    if not entry.in_force:
        raise Refused.rule(
            "lots.verify.not_in_force",
            t("This entry is not in force (corrected, voided, or a correction waiting for confirmation)."),
        )
    refuse_if(problems=check_verification(entry.entered_by_id, actor.id, entry.verified, lot.din, lot.status))
    entry.verified_by_id = actor.id
    entry.verified_at = utcnow()
    session.flush()


@dataclass(frozen=True)
class PassageLine:
    passage: Passage
    cumulative_pd: float | None  # None while this or an earlier passage is unverified


def passage_lines(session: Session, lot: Lot) -> list[PassageLine]:
    """Each passage with the cumulative PD reached at its end, counting verified entries only."""
    lines, total, broken = [], lot.starting_pd, False
    for p in passages(session, lot):
        broken = broken or not p.verified
        total = total + p.population_doublings if not broken else total
        lines.append(PassageLine(p, None if broken else total))
    return lines
