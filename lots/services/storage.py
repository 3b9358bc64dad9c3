"""Cryopreservation and storage: formulation into containers, boxes, positions, and storage events.

One container per position is guaranteed by the database (unique box/row/column); the check here only
gives the friendly message. A concurrent request that wins the race makes the other's flush fail, and
that failure is turned into the same message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.i18n import t
from bank.refusals import Problem, Refused, refuse_if
from bank.signals import formulation_requested
from bank.status import change_status, initial_status
from bank.uow import acting_with, current_actor
from lots.models import Container, Lot, StorageBox, StorageEvent
from lots.models.storage import CONTAINER_TYPES, MAX_BOX_SIDE
from lots.rules import check_position, container_expiry, status_word, validate_formulation
from lots.rules.plausibility import Neighbour, check_freezing_date
from lots.services.materials import check_material_lots, record_material_uses
from lots.services.processing import passages, require_in_process
from lots.states import CONTAINER_WORKFLOW, STORABLE

_DIVISION_SECOND = "0abcdefghijklmnopqrstuvwxyz"  # ISBT 128 division: A0…Z0, then Aa…Za, …
MAX_DIVISIONS = 26 * len(_DIVISION_SECOND)


def division_code(index: int) -> str:
    """Division of the index-th container of a lot (0-based): A0, B0, … Z0, Aa, … (702 in all)."""
    if not 0 <= index < MAX_DIVISIONS:
        raise ValueError("a lot has at most 702 divisions")
    return chr(ord("A") + index % 26) + _DIVISION_SECOND[index // 26]


def create_box(
    session: Session,
    *,
    site: str,
    tank: str,
    rack: str,
    name: str,
    row_count: int | None,
    col_count: int | None,
) -> StorageBox:
    fields = {"site": site, "tank": tank, "rack": rack, "name": name}
    errors = {k: t("Required.") for k, v in fields.items() if not (v or "").strip()}
    for key, value in (("row_count", row_count), ("col_count", col_count)):
        if value is None or not 1 <= value <= MAX_BOX_SIDE:
            errors[key] = t("Between 1 and %(max)s.", max=MAX_BOX_SIDE)
    fields = {k: (v or "").strip() for k, v in fields.items()}
    duplicate = None
    if not errors and session.scalar(select(StorageBox.id).filter_by(**fields)):
        duplicate = t("This box already exists at that place.")
    refuse_if(errors, [Problem("lots.storage.box_exists", duplicate, field="name")] if duplicate else ())
    box = StorageBox(**fields, row_count=row_count, col_count=col_count)
    session.add(box)
    session.flush()
    return box


def containers_of(session: Session, lot: Lot) -> list[Container]:
    return list(session.scalars(select(Container).where(Container.lot_id == lot.id).order_by(Container.id)))


def available_cells(session: Session, lot: Lot) -> float:
    """Cells of the final verified passage not yet put into containers of this lot."""
    done = passages(session, lot)
    if not done:
        raise Refused.rule("lots.formulation.no_passage", t("No passage recorded: nothing to formulate yet."))
    last = done[-1]
    if not last.verified:
        raise Refused.rule(
            "lots.formulation.unverified",
            t("P%(number)s is not verified: its cells do not count yet.", number=last.number),
            evidence=f"P{last.number}",
        )
    used = session.scalar(
        select(func.coalesce(func.sum(Container.cells), 0)).where(Container.lot_id == lot.id)
    )
    return last.harvested_cells - float(used)


def formulate_containers(
    session: Session,
    lot: Lot,
    *,
    n_containers: int | None,
    container_type: str | None,
    cells_per_container: float | None,
    volume_ml: float | None,
    cryoprotectant: str,
    frozen_at: datetime | None,
    material_lot_ids=(),
) -> list[Container]:
    """Fill N containers (bags or vials) from the final passage; each gets the next ISBT 128 division.
    A placebo lot is suspension media: its containers hold no cells."""
    require_in_process(lot)
    product = lot.product_type
    if product.is_placebo:
        errors = validate_formulation(n_containers, 1, volume_ml, float("inf"))
        if cells_per_container:
            errors["cells_per_container"] = t("A placebo holds no cells: leave 0.")
        cells_per_container = 0.0
    else:
        errors = validate_formulation(
            n_containers, cells_per_container, volume_ml, available_cells(session, lot)
        )
    start = session.scalar(select(func.count()).select_from(Container).where(Container.lot_id == lot.id))
    room = MAX_DIVISIONS - start
    if "n_containers" not in errors and n_containers > room:
        errors["n_containers"] = t(
            "At most %(room)s more containers: ISBT 128 divisions of one lot run out at %(max)s.",
            room=room,
            max=MAX_DIVISIONS,
        )
    if container_type not in CONTAINER_TYPES:
        errors["container_type"] = t("Choose bag or vial.")
    if not (cryoprotectant or "").strip():
        errors["cryoprotectant"] = t("Required (e.g. 10 % DMSO).")
    if frozen_at is None:
        errors["frozen_at"] = t("Required.")
    elif frozen_at > utcnow():
        errors["frozen_at"] = t("Cannot be in the future.")
    refuse_if(errors)
    done = passages(session, lot)
    last = Neighbour(f"P{done[-1].number}", done[-1].harvested_on) if done else None
    refuse_if(problems=check_freezing_date(frozen_at.date(), last))
    # A placebo must be filled like the active product of the blinded protocols it serves (doses rules).
    mismatch = [
        p
        for _, found in formulation_requested.send(
            session, lot=lot, volume_ml=volume_ml, container_type=container_type
        )
        for p in found or ()
    ]
    if mismatch:
        raise Refused(problems=mismatch)
    materials = check_material_lots(session, material_lot_ids, frozen_at.date())
    expires_at = container_expiry(frozen_at, product.shelf_life_days)
    made = []
    for index in range(start, start + n_containers):
        division = division_code(index)
        made.append(
            Container(
                lot_id=lot.id,
                division=division,
                product_code=product.product_code(division),
                container_type=container_type,
                cells=float(cells_per_container),
                volume_ml=float(volume_ml),
                cryoprotectant=cryoprotectant.strip(),
                frozen_at=frozen_at,
                expires_at=expires_at,
                status=CONTAINER_WORKFLOW.initial,
            )
        )
    session.add_all(made)
    session.flush()
    for container in made:
        initial_status(session, container, CONTAINER_WORKFLOW)
    record_material_uses(session, lot, materials, "formulation", None, frozen_at.date())
    return made


def occupancy(session: Session, box: StorageBox) -> dict[tuple[int, int], Container]:
    rows = session.scalars(select(Container).where(Container.box_id == box.id))
    return {(c.position_row, c.position_col): c for c in rows}


def _refuse_position(box: StorageBox, row: int | None, col: int | None, taken: dict) -> None:
    """A missing or outside position is an input error (on the field that is wrong); an occupied one is a
    rule refusal."""
    if row is None or col is None:
        raise Refused({k: t("Required.") for k, v in (("row", row), ("col", col)) if v is None})
    problems = check_position(
        box.row_count, box.col_count, row, col, {k: c.identifier for k, c in taken.items()}
    )
    if not problems:
        return
    p = problems[0]
    if p.rule_id == "lots.storage.occupied":
        raise Refused(problems=[replace(p, field="row")])
    field = "col" if 1 <= row <= box.row_count and p.rule_id == "lots.storage.outside_box" else "row"
    raise Refused({field: p.message})


def _event(session: Session, container: Container, action: str, old: tuple, reason: str | None) -> None:
    actor = current_actor(session)
    session.add(
        StorageEvent(
            container_id=container.id,
            action=action,
            box_id=container.box_id,
            position_row=container.position_row,
            position_col=container.position_col,
            from_box_id=old[0],
            from_row=old[1],
            from_col=old[2],
            at=utcnow(),
            actor_id=actor.id,
            actor_name=actor.name,
            reason=reason,
        )
    )


def _place(session: Session, container: Container, box: StorageBox, row: int, col: int) -> None:
    """Put the container at (row, col); a container not yet stored takes the step to 'stored' (a move
    within storage keeps its status)."""
    where = f"row {row}, column {col} of box {box.name}"
    try:
        with session.begin_nested():  # a concurrent request may have taken the position meanwhile
            container.box_id, container.position_row, container.position_col = box.id, row, col
            if container.status == "stored":
                session.flush()
            else:
                change_status(session, container, CONTAINER_WORKFLOW, "stored")
    except IntegrityError:
        session.refresh(container)
        raise Refused(
            problems=[
                Problem(
                    "lots.storage.occupied",
                    t(
                        "Position row %(row)s, column %(col)s of box %(box)s was just taken by another container.",
                        row=row,
                        col=col,
                        box=box.name,
                    ),
                    evidence=where,
                    field="row",
                )
            ]
        ) from None


def store_container(
    session: Session,
    container: Container,
    box: StorageBox,
    row: int | None,
    col: int | None,
    reason: str | None = None,
) -> None:
    """Put a container into (or move it to) a free position of `box`; recorded as a storage event."""
    if container.status not in STORABLE:
        raise Refused.rule(
            "lots.storage.not_storable",
            t(
                "Container %(container)s is %(status)s: it cannot be stored.",
                container=container.identifier,
                status=status_word(container.status),
            ),
            evidence=f"status={container.status}",
        )
    _refuse_position(box, row, col, occupancy(session, box))
    old = (container.box_id, container.position_row, container.position_col)
    _place(session, container, box, row, col)
    _event(session, container, "moved" if old[0] is not None else "stored", old, reason)
    session.flush()


def store_lot_containers(
    session: Session, lot: Lot, box: StorageBox, row: int | None, col: int | None
) -> int:
    """Store every container of `lot` not yet in storage into the free positions of `box`, row by row
    from (row, col). Refused as a whole when the box has too few free positions from there."""
    waiting = [c for c in containers_of(session, lot) if c.status == "formulated"]
    if not waiting:
        raise Refused.rule(
            "lots.storage.nothing_to_store", t("Every container of this lot is already stored.")
        )
    taken = occupancy(session, box)
    _refuse_position(box, row, col, {})
    free = [
        (r, c)
        for r in range(1, box.row_count + 1)
        for c in range(1, box.col_count + 1)
        if (r, c) >= (row, col) and (r, c) not in taken
    ]
    if len(free) < len(waiting):
        raise Refused(
            problems=[
                Problem(
                    "lots.storage.box_full",
                    t(
                        "Box %(box)s has %(free)s free positions from row %(row)s, column %(col)s; "
                        "%(waiting)s containers wait to be stored.",
                        box=box.name,
                        free=len(free),
                        row=row,
                        col=col,
                        waiting=len(waiting),
                    ),
                    evidence=f"free={len(free)}; waiting={len(waiting)}",
                    field="row",
                )
            ]
        )
    for container, (r, c) in zip(waiting, free, strict=False):
        _place(session, container, box, r, c)
        _event(session, container, "stored", (None, None, None), None)
    session.flush()
    return len(waiting)


def remove_container(session: Session, container: Container, reason: str) -> None:
    """Take a container out of storage (thaw, shipment, destruction follow elsewhere); reason required.

    An allocated container leaves its position as a step of its dose's chain of custody (doses calls
    this for an issue from storage or an administration): that custody step holds the permission, so
    the container's step is taken on its behalf (bank.uow.acting_with)."""
    if container.box_id is None:
        raise Refused.rule(
            "lots.storage.not_stored",
            t("Container %(container)s is not in storage.", container=container.identifier),
        )
    if not (reason or "").strip():
        raise Refused({"reason": t("Say why the container leaves storage.")})
    old = (container.box_id, container.position_row, container.position_col)
    container.box_id = container.position_row = container.position_col = None
    if container.status == "allocated":
        with acting_with(session, CONTAINER_WORKFLOW.find("allocated", "removed").permission):
            change_status(session, container, CONTAINER_WORKFLOW, "removed", reason=reason.strip())
    else:
        change_status(session, container, CONTAINER_WORKFLOW, "removed", reason=reason.strip())
    _event(session, container, "removed", old, reason.strip())
    session.flush()


def storage_events(session: Session, container: Container) -> list[StorageEvent]:
    return list(
        session.scalars(
            select(StorageEvent).where(StorageEvent.container_id == container.id).order_by(StorageEvent.id)
        )
    )
