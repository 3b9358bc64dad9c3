"""Genealogy both ways: from a donor every lot (master → working → dose) and container; from a
container back to its lots, passages, materials and donor."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from donors.models import Donor
from lots.models import Container, Harvest, Isolation, Lot, MaterialUse, Passage
from lots.services.materials import material_uses
from lots.services.processing import isolation_of, passages
from lots.services.storage import containers_of


@dataclass
class LotNode:
    lot: Lot
    containers: list[Container]
    children: list[LotNode] = field(default_factory=list)


def lot_tree(session: Session, lot: Lot) -> LotNode:
    """The lot, its containers, and every lot derived from it, recursively."""
    children = session.scalars(select(Lot).where(Lot.parent_lot_id == lot.id).order_by(Lot.id))
    return LotNode(lot, containers_of(session, lot), [lot_tree(session, c) for c in children])


def donor_tree(session: Session, donor_id: int) -> list[LotNode]:
    """Forward genealogy of a donor: the lots opened at their harvests, with everything derived."""
    roots = session.scalars(
        select(Lot).where(Lot.donor_id == donor_id, Lot.parent_lot_id.is_(None)).order_by(Lot.id)
    )
    return [lot_tree(session, lot) for lot in roots]


@dataclass
class LotStep:
    lot: Lot
    harvest: Harvest | None
    isolation: Isolation | None
    passages: list[Passage]
    materials: list[MaterialUse]


@dataclass
class Trace:
    container: Container
    chain: list[LotStep]  # the container's lot first, then its parent, … back to the harvest lot
    donor: Donor | None


def lineage(session: Session, lot: Lot) -> list[Lot]:
    chain, current = [], lot
    while current is not None and current not in chain:
        chain.append(current)
        current = session.get(Lot, current.parent_lot_id) if current.parent_lot_id else None
    return chain


def trace_container(session: Session, container: Container) -> Trace:
    """Backward genealogy of a container."""
    chain = []
    for lot in lineage(session, container.lot):
        harvest = session.scalar(select(Harvest).where(Harvest.lot_id == lot.id))
        chain.append(
            LotStep(
                lot, harvest, isolation_of(session, lot), passages(session, lot), material_uses(session, lot)
            )
        )
    donor_id = container.lot.donor_id
    return Trace(container, chain, session.get(Donor, donor_id) if donor_id else None)
