"""Material register: materials, their lots and status, and the check that a lot may be used at a step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.db import rows_of
from bank.i18n import t
from bank.refusals import Problem, Refused, refuse_if
from bank.status import change_status, initial_status
from lots.models import Lot, Material, MaterialLot, MaterialUse
from lots.rules import MaterialLotFacts, check_material_lot
from lots.states import MATERIAL_LOT_WORKFLOW, MATERIAL_STATUSES

CHOOSE_STATUS = t("Choose approved, quarantined or rejected.")


def add_material(
    session: Session, name: str, supplier: str, catalogue_number: str = "", animal_origin: bool = False
) -> Material:
    name, supplier = (name or "").strip(), (supplier or "").strip()
    errors = {}
    if not name:
        errors["name"] = t("Required.")
    elif session.scalar(select(Material.id).where(Material.name == name)):
        errors["name"] = t("A material named '%(name)s' is already in the catalogue.", name=name)
    if not supplier:
        errors["supplier"] = t("Required.")
    refuse_if(errors)
    material = Material(
        name=name,
        supplier=supplier,
        catalogue_number=(catalogue_number or "").strip(),
        animal_origin=bool(animal_origin),
    )
    session.add(material)
    session.flush()
    return material


def add_material_lot(
    session: Session, material: Material, lot_number: str, expiry: date | None, status: str = "quarantined"
) -> MaterialLot:
    """Register a received lot; it stays quarantined until approved (unless received as approved)."""
    lot_number = (lot_number or "").strip()
    errors = {}
    if not lot_number:
        errors["lot_number"] = t("Required.")
    elif session.scalar(
        select(MaterialLot.id).where(
            MaterialLot.material_id == material.id, MaterialLot.lot_number == lot_number
        )
    ):
        errors["lot_number"] = t(
            "Lot %(lot_number)s of %(material)s is already registered.",
            lot_number=lot_number,
            material=material.name,
        )
    if expiry is None:
        errors["expiry"] = t("Required: a material lot without an expiry date cannot be used.")
    if status not in MATERIAL_STATUSES:
        errors["status"] = CHOOSE_STATUS
    refuse_if(errors)
    lot = MaterialLot(material_id=material.id, lot_number=lot_number, expiry=expiry, status=status)
    session.add(lot)
    # A lot is registered in the status it is received in (quarantined unless its certificate was
    # reviewed at receipt): its creation state in the status history, not a step of the workflow.
    initial_status(session, lot, replace(MATERIAL_LOT_WORKFLOW, initial=status))
    return lot


def set_material_lot_status(session: Session, lot: MaterialLot, status: str) -> None:
    """Approve, quarantine or reject a material lot (MATERIAL_LOT_WORKFLOW); setting the status it already
    has changes nothing."""
    if status not in MATERIAL_STATUSES:
        raise Refused({"status": CHOOSE_STATUS})
    if status != lot.status:
        change_status(session, lot, MATERIAL_LOT_WORKFLOW, status)


def facts(lot: MaterialLot) -> MaterialLotFacts:
    return MaterialLotFacts(
        lot.material.name, lot.lot_number, lot.expiry, lot.status, lot.material.animal_origin
    )


def check_material_lots(
    session: Session, ids: Iterable[int], use_date: date, field: str = "material_lot_ids"
) -> list[MaterialLot]:
    """Load the material lots chosen for a step; refuse naming every one that may not be used (on `field`)."""
    lots, problems = [], []
    for ident in dict.fromkeys(int(i) for i in ids or ()):
        lot = session.get(MaterialLot, ident)
        if lot is None:
            problems.append(
                Problem(
                    "lots.material.unknown",
                    t("Material lot #%(id)s does not exist.", id=ident),
                    evidence=f"id={ident}",
                    field=field,
                )
            )
            continue
        problems.extend(
            Problem(p.rule_id, p.message, p.evidence, field) for p in check_material_lot(facts(lot), use_date)
        )
        lots.append(lot)
    refuse_if(problems=problems)
    return lots


def record_material_uses(
    session: Session,
    lot: Lot,
    material_lots: list[MaterialLot],
    step: str,
    step_id: int | None,
    used_on: date,
) -> None:
    for material_lot in material_lots:
        session.add(
            MaterialUse(
                lot_id=lot.id, material_lot_id=material_lot.id, step=step, step_id=step_id, used_on=used_on
            )
        )
    session.flush()


def material_uses(session: Session, lot: Lot) -> list[MaterialUse]:
    return rows_of(session, MaterialUse, MaterialUse.used_on, MaterialUse.id, lot_id=lot.id)


def usable_material_lots(session: Session, include_rejected: bool = False) -> list[MaterialLot]:
    """Material lots listed on bench forms (the check at use refuses expired, quarantined and rejected ones;
    the forms show those disabled with the reason)."""
    stmt = select(MaterialLot).join(Material).order_by(Material.name, MaterialLot.expiry)
    if not include_rejected:
        stmt = stmt.where(MaterialLot.status != "rejected")
    return list(session.scalars(stmt))
