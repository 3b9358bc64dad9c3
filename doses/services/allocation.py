"""Allocation of containers to a scheduled dose (DOMAIN.md §5): released, unexpired, unallocated
containers of the right product, first-expiry-first-out; dose and per-patient endotoxin limit from the
current weight; autologous only to the donor-patient, allogeneic only from a donor signed eligible and
not under look-back; schedule respected. One container, one dose — also under concurrent requests:
the container rows are locked (SELECT … FOR UPDATE on PostgreSQL; SQLite transactions that write are
IMMEDIATE, so writers queue) and a partial unique index refuses a second active allocation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from bank.clock import utcnow
from bank.db import rows_of
from bank.i18n import t
from bank.refusals import Refused, refuse_if
from bank.status import change_status, initial_status
from bank.uow import acting_with, current_actor
from donors.services import donor_use_facts
from doses.models import AllocatedContainer, Allocation, Patient
from doses.rules import (
    AllocationRequest,
    ContainerFacts,
    Problem,
    Selection,
    administration_errors,
    arm_for_dose,
    check_dose_set,
    choose_containers,
    endotoxin_limit_eu,
    nothing_free,
    patient_problems,
    storage_problems,
    taken_meanwhile,
    target_dose,
    validate_dose_number,
    weight_missing,
)
from doses.rules.allocation import reasons_none_fit
from doses.rules.protocol import Origin, Protocol
from doses.services.patients import current_weight
from doses.services.randomisation import sequence_of
from doses.states import ACTIVE_STATES, ALLOCATION_WORKFLOW
from lots.models import Container, Lot, ProductType
from lots.services import remove_container
from lots.states import CONTAINER_WORKFLOW
from release.services import lot_endotoxin_eu_per_ml, lot_is_released, release_record

CLOCK_SKEW = timedelta(minutes=5)


def allocations_of(session: Session, patient: Patient) -> list[Allocation]:
    return rows_of(session, Allocation, Allocation.dose_number, Allocation.id, patient_id=patient.id)


def holder_of(session: Session, container: Container) -> str | None:
    """Subject id of the dose that holds the container now (None when free)."""
    return session.scalar(
        select(Patient.subject_id)
        .join(Allocation, Allocation.patient_id == Patient.id)
        .join(AllocatedContainer, AllocatedContainer.allocation_id == Allocation.id)
        .where(AllocatedContainer.container_id == container.id, AllocatedContainer.released_at.is_(None))
    )


def _lot_facts(session: Session, lot: Lot) -> tuple:
    use = donor_use_facts(session, lot.donor_id) if lot.donor_id is not None else None
    record = release_record(session, lot)
    return lot_is_released(session, lot, record), lot_endotoxin_eu_per_ml(session, lot, record), use


def container_facts(
    session: Session, container: Container, lots: dict | None = None, known_free: bool = False
) -> ContainerFacts:
    """What the lot, release and donor records say about one container, for the pure rules. `lots`
    memoises the lot-level facts (release, endotoxin, donor) over the containers of one proposal: the
    bags of a lot share them, and reading them is most of the cost of judging a container."""
    lot = container.lot
    if lots is None:
        lots = {}
    if lot.id not in lots:
        lots[lot.id] = _lot_facts(session, lot)
    released, endotoxin, use = lots[lot.id]
    return ContainerFacts(
        container_id=container.identifier,
        product_key=lot.product_type.key,
        lot_released=released,
        expires_at=container.expires_at,
        total_cells=Decimal(str(container.cells)),
        volume_ml=Decimal(str(container.volume_ml)),
        endotoxin_eu_per_ml=endotoxin,
        donor_id=str(lot.donor_id) if lot.donor_id is not None else None,
        autologous=lot.autologous_only or lot.product_type.origin == "autologous",
        donor_eligible=bool(use and use.eligible_signed),
        donor_look_back=bool(use and use.under_lookback),
        allocated_to=None if known_free else holder_of(session, container),
        on_hold=container.on_hold,
    )


def build_request(
    session: Session, patient: Patient, dose_number, planned_at: datetime | None
) -> tuple[AllocationRequest | None, list[Problem]]:
    """The allocation request of this patient's dose, or the problems that prevent making one.
    Raises Refused for impossible input (dose number beyond the protocol, no planned time)."""
    protocol = patient.protocol_version.protocol()
    errors = validate_dose_number(protocol, dose_number)
    if planned_at is None:
        errors["planned_date"] = t("Required.")
    elif planned_at.tzinfo is None:
        raise ValueError("planned_at must be timezone-aware")
    refuse_if(errors)
    # Plain rows, not Allocation objects: those load their patient, protocol and containers too.
    earlier = session.execute(
        select(Allocation.id, Allocation.dose_number, Allocation.status, Allocation.administered_at).where(
            Allocation.patient_id == patient.id
        )
    ).all()
    held = next(
        ((a.id, a.status) for a in earlier if a.dose_number == dose_number and a.status != "deallocated"),
        None,
    )
    problems = patient_problems(patient.subject_id, patient.status, dose_number, held)
    weight = current_weight(session, patient, planned_at.date())
    if weight is None:
        return None, [*problems, weight_missing(patient.subject_id, planned_at.date())]
    administered = {
        a.dose_number: a.administered_at.astimezone(planned_at.tzinfo).date()
        for a in earlier
        if a.status == "administered"
    }
    request = AllocationRequest(
        protocol=protocol,
        subject_id=patient.subject_id,
        dose_number=dose_number,
        planned_at=planned_at,
        weight_kg=Decimal(str(weight.weight_kg)),
        weight_measured_on=weight.measured_on,
        sequence=sequence_of(session, patient),
        patient_donor_id=str(patient.donor_id) if patient.donor_id is not None else None,
        administered=administered,
    )
    return request, problems


def _candidates(
    session: Session,
    patient: Patient,
    protocol: Protocol,
    request: AllocationRequest,
    exclude: frozenset[int] = frozenset(),
    limit: int | None = None,
    lock: bool = False,
) -> list[Container]:
    """Containers worth judging, first-expiring first: the product this dose needs, on the shelf, not
    held, unexpired, free. The rules judge each again; this only keeps the list short. Ties in expiry
    are ordered by DIN then product code, as the rules order them (doses.rules.choose_containers), so
    the first `limit` rows are the start of the rules' own FEFO order."""
    sequence = request.sequence or (protocol.sequences[0] if len(protocol.sequences) == 1 else None)
    if sequence is None:
        return []
    arm = arm_for_dose(sequence, request.dose_number)
    key = protocol.product_key if arm == "active" else protocol.placebo_product_key
    # NOT EXISTS, not NOT IN: a probe of the active-line index per container read, where NOT IN hashed
    # every active allocation line of ten years (155 ms a proposal at full data, 0.7 ms this way).
    taken = (
        select(AllocatedContainer.id)
        .where(AllocatedContainer.container_id == Container.id, AllocatedContainer.released_at.is_(None))
        .exists()
    )
    # Joined eager loads, which SQLAlchemy applies outside the LIMIT: loading the lot and its product
    # type through the filter's own joins (contains_eager) made SQLite sort the wide rows of every
    # candidate (2 to 10 ms at full data), and joining the donor as well cost PostgreSQL more planning
    # than the one read of the donor it saved.
    stmt = (
        select(Container)
        .join(Lot, Container.lot_id == Lot.id)
        .join(ProductType, Lot.product_type_id == ProductType.id)
        .where(
            ProductType.key == key,
            Container.status == "stored",
            Container.on_hold.is_(False),
            Lot.status == "released",
            Container.expires_at >= request.planned_at,
            ~taken,
        )
        .order_by(Container.expires_at, Lot.din, Container.product_code, Container.id)
        .options(joinedload(Container.lot).joinedload(Lot.product_type))
    )
    if arm == "active" and protocol.origin is Origin.AUTOLOGOUS:
        stmt = stmt.where(Lot.donor_id == patient.donor_id)
    if exclude:
        stmt = stmt.where(Container.id.not_in(exclude))
    if limit is not None:
        stmt = stmt.limit(limit)
    if lock and session.get_bind().dialect.name == "postgresql":
        # Lock what is returned, passing over rows another request holds: concurrent allocations of one
        # product each get the next free bag in one statement. A row allocated meanwhile is read again
        # once its lock is released and fails status = 'stored'. (SQLite: the unit of work's IMMEDIATE
        # transaction already excludes every other writer.)
        stmt = stmt.with_for_update(of=Container, skip_locked=True).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


FIRST_LOOK = 12  # candidates judged before the rest, in expiry order


def _choose(
    session: Session, patient: Patient, request: AllocationRequest, exclude: frozenset[int], lots: dict
) -> tuple[Selection, dict[str, Container]]:
    """choose_containers over the candidates, judging the first-expiring ones before the rest: a dose
    that one container fills is decided by the start of the FEFO list (the fewest containers win, then
    the earliest expiry, and the list is in the rules' order), so the first candidate, then the first
    FIRST_LOOK, and only then every candidate are read and judged."""
    containers: dict[str, Container] = {}
    facts: list[ContainerFacts] = []
    selection = Selection((), ())
    for limit in (1, FIRST_LOOK, None):
        batch = _candidates(session, patient, request.protocol, request, exclude, limit)
        for c in batch:
            if c.identifier not in containers:
                containers[c.identifier] = c
                # _candidates keeps only containers no active allocation holds: no need to ask each again.
                facts.append(container_facts(session, c, lots, known_free=True))
        selection = choose_containers(request, facts)
        if len(selection.containers) == 1 or limit is None or len(batch) < limit:
            break
    if any(p.rule_id == "selection.none_fit" for p in selection.problems):
        # Name why: each of the first-expiring candidates judged as the dose on its own.
        reasons = reasons_none_fit(request, sorted(facts, key=lambda f: f.expires_at)[:FIRST_LOOK])
        selection = dataclasses.replace(selection, problems=selection.problems + tuple(reasons))
    return selection, containers


def propose(
    session: Session,
    patient: Patient,
    dose_number,
    planned_at: datetime | None,
    exclude: frozenset[int] = frozenset(),
    lots: dict | None = None,
) -> tuple[Selection, dict[str, Container]]:
    """The FEFO proposal for a dose (doses.rules.choose_containers) and the containers by identifier;
    containers in `exclude` (taken by a concurrent request) are left out. `lots` memoises lot facts."""
    request, problems = build_request(session, patient, dose_number, planned_at)
    if request is None:
        return Selection((), tuple(problems)), {}
    selection, containers = _choose(session, patient, request, exclude, {} if lots is None else lots)
    return Selection(
        selection.containers, tuple(problems) + selection.problems, selection.rejected
    ), containers


def allocate_dose(
    session: Session,
    patient: Patient,
    dose_number,
    planned_at: datetime | None,
    container_ids: list[int] | None = None,
) -> Allocation:
    """Allocate containers to the patient's dose `dose_number`, administered at `planned_at`. Without
    `container_ids` the FEFO proposal is taken. Raises Refused: input errors by field (422), or every rule
    problem (409, e.g. lot.not_released, container.expired, container.allocated, donor.not_patient,
    endotoxin.over_limit, schedule.outside_window); nothing is written then."""
    if container_ids is None:
        request, containers, lots = _first_free(session, patient, dose_number, planned_at)
        # Locked and read fresh by _first_free, and no active allocation holds them: a rival must lock a
        # container before allocating it, so none can have taken one since.
        facts = [container_facts(session, c, lots, known_free=True) for c in containers]
        problems: list[Problem] = []
    else:
        ids = sorted({int(i) for i in container_ids})
        if not ids:
            raise Refused({"containers": t("Choose at least one container.")})
        # Lock the rows first (in id order, so two requests never wait on each other crosswise), then read
        # them fresh: whoever got the lock first has committed or rolled back by now.
        session.execute(
            select(Container.id).where(Container.id.in_(ids)).order_by(Container.id).with_for_update()
        )
        containers = list(
            session.scalars(
                select(Container)
                .where(Container.id.in_(ids))
                .order_by(Container.id)
                .execution_options(populate_existing=True)
            )
        )
        if len(containers) != len(ids):
            raise Refused({"containers": t("Unknown container.")})
        request, problems = build_request(session, patient, dose_number, planned_at)
        facts = [container_facts(session, c) for c in containers]
    for c, f in zip(containers, facts, strict=True):
        problems += storage_problems(c.identifier, c.status, f.allocated_to)
    if request is not None:
        problems += check_dose_set(request, facts)
    refuse_if(problems=problems)
    return _write(session, patient, request, containers)


MAX_PROPOSALS = 20


def _first_free(
    session: Session, patient: Patient, dose_number, planned_at: datetime | None
) -> tuple[AllocationRequest, list[Container], dict]:
    """The request, the containers of the FEFO proposal (locked for this transaction and read fresh) and
    the lot facts read on the way. On PostgreSQL a container another request is allocating right now
    (row locked) or has just allocated is skipped and the next one in expiry order proposed, so
    concurrent allocations of one product proceed side by side instead of queueing on the same
    first-expiring bag and being refused one after the other. allocate_dose re-checks every rule on
    the locked rows."""
    request, problems = build_request(session, patient, dose_number, planned_at)
    if request is None or problems:
        raise Refused(problems=problems)
    lots: dict = {}
    # Most doses are one bag: the first free bag on the shelf, locked as it is read, decides when it
    # fits the dose alone (then no other choice comes first in FEFO order among the free ones).
    first = _candidates(session, patient, request.protocol, request, limit=1, lock=True)
    if first:
        alone = choose_containers(request, [container_facts(session, first[0], lots, known_free=True)])
        if len(alone.containers) == 1 and not alone.problems:
            return request, first, lots
    busy: set[int] = set()
    for _ in range(MAX_PROPOSALS):
        selection, by_identifier = _choose(session, patient, request, frozenset(busy), lots)
        if selection.problems or not selection.containers:
            raise Refused(
                problems=selection.problems or [Problem("selection.empty", t("No container chosen."))]
            )
        ids = sorted(by_identifier[f.container_id].id for f in selection.containers)
        lock = (
            select(Container)
            .where(Container.id.in_(ids))
            .order_by(Container.id)
            .execution_options(populate_existing=True)
        )
        if session.get_bind().dialect.name == "postgresql":
            lock = lock.with_for_update(skip_locked=True, of=Container)
        # SQLite: the unit of work's IMMEDIATE transaction already excludes every other writer.
        containers = list(session.scalars(lock))
        taken = set(
            session.scalars(
                select(AllocatedContainer.container_id).where(
                    AllocatedContainer.container_id.in_(ids), AllocatedContainer.released_at.is_(None)
                )
            )
        )
        if len(containers) == len(ids) and not taken:
            return request, containers, lots
        busy |= (set(ids) - {c.id for c in containers}) | taken
    raise Refused(problems=[nothing_free(len(busy))])


def _write(
    session: Session, patient: Patient, request: AllocationRequest, containers: list[Container]
) -> Allocation:
    protocol = request.protocol
    target = target_dose(protocol.dose_rule, request.weight_kg)
    limit = endotoxin_limit_eu(protocol.endotoxin_k_eu_per_kg_h, request.weight_kg, protocol.infusion_hours)
    actor = current_actor(session)
    allocation = Allocation(
        patient_id=patient.id,
        protocol_version_id=patient.protocol_version_id,
        dose_number=request.dose_number,
        planned_at=request.planned_at,
        weight_kg=float(request.weight_kg),
        weight_measured_on=request.weight_measured_on,
        target_min_cells=float(target.min_cells),
        target_max_cells=float(target.max_cells),
        endotoxin_limit_eu=float(limit),
        allocated_by_id=actor.id if actor else None,
        lines=[AllocatedContainer(container=c) for c in containers],
    )
    session.add(allocation)
    names = ", ".join(c.identifier for c in containers)  # read now: a failed flush leaves nothing loadable
    try:
        # A concurrent request may win the partial unique index meanwhile. No savepoint: a refusal ends
        # the unit of work, whose rollback undoes everything this request wrote.
        initial_status(session, allocation, ALLOCATION_WORKFLOW)
    except IntegrityError:
        raise Refused(problems=[taken_meanwhile(names)]) from None
    why = f"allocated to {patient.subject_id} dose {request.dose_number}"
    for c in containers:
        change_status(session, c, CONTAINER_WORKFLOW, "allocated", reason=why)
    return allocation


def deallocate(session: Session, allocation: Allocation, reason: str | None) -> None:
    """Free the containers of an allocated (or held) dose; the workflow table asks for a reason, kept in the
    status history and the audit trail. The containers go back to the shelf (or stay 'removed')."""
    now = utcnow()
    why = (reason or session.info.get("reason") or "").strip() or None  # the one change_status records
    allocation.deallocated_at, allocation.deallocation_reason = now, why
    allocation.held_from = None
    change_status(session, allocation, ALLOCATION_WORKFLOW, "deallocated", reason=reason)
    for line in allocation.lines:
        if line.released_at is None:
            line.released_at = now
            _free_container(session, line.container, why)
    session.flush()


def _free_container(session: Session, container: Container, reason: str | None) -> None:
    """Where a deallocated dose's container goes (CONTAINER_WORKFLOW): an allocated one, still in its
    position (only a stored container is allocated, and leaving storage makes it 'removed'), back to
    'stored'; a shipped one of a held dose to 'removed', out of storage; a removed one (issued, returned)
    stays removed and a destroyed bag stays destroyed."""
    if container.status == "allocated":
        change_status(session, container, CONTAINER_WORKFLOW, "stored", reason=reason)
    elif container.status == "shipped":
        # shipped -> removed is the custody return's step (custody.record, the common case); freeing a
        # held dose's shipped container is part of its deallocation, taken on the pharmacy's behalf.
        with acting_with(session, CONTAINER_WORKFLOW.find("shipped", "removed").permission):
            change_status(session, container, CONTAINER_WORKFLOW, "removed", reason=reason)


def lots_released_at(session: Session, allocation: Allocation) -> datetime | None:
    """When the last of the dose's lots was released (its QA decision's signature time), None if any is not."""
    times = []
    for lot in {line.container.lot for line in allocation.lines}:
        record = release_record(session, lot)
        if record is None or record.decided_at is None:
            return None
        times.append(record.decided_at)
    return max(times, default=None)


def record_administration(session: Session, allocation: Allocation, administered_at: datetime | None) -> None:
    """The dose was given at `administered_at` (later doses are scheduled from dose 1's actual date).
    The chain of custody records the 'administered' event and calls this."""
    refuse_if(
        administration_errors(administered_at, utcnow(), CLOCK_SKEW, lots_released_at(session, allocation))
    )
    allocation.administered_at = administered_at
    change_status(session, allocation, ALLOCATION_WORKFLOW, "administered")
    why = f"administered: {allocation.patient.subject_id} dose {allocation.dose_number}"
    for line in allocation.lines:
        if line.container.box_id is not None:  # out of the tank: the storage grid must show it free
            remove_container(session, line.container, why)
        change_status(session, line.container, CONTAINER_WORKFLOW, "administered", reason=why)
    session.flush()


def is_active(allocation: Allocation) -> bool:
    return allocation.status in ACTIVE_STATES
