"""Use cases of biovigilance: record an adverse event and its follow-ups, find every other product of the
same lot and donor (look-forward) and hold them, investigate and close, follow-up visits, the annual
summary. Services load facts, call biovigilance.rules, write and flush; the caller's unit of work commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import today, utcnow
from bank.db import rows_of
from bank.esign import sign
from bank.i18n import t
from bank.models import User
from bank.refusals import Problem, Refused, control_character_errors, refuse_if
from bank.signals import serious_reaction_reported
from bank.status import add_new, change_status
from bank.uow import acting_with, current_actor
from biovigilance import rules
from biovigilance.models import AdverseEvent, AdverseEventUpdate, FollowUpVisit
from biovigilance.states import EVENT_WORKFLOW, LOOK_FORWARD_HOLD_MEANING
from doses.models import Allocation, Patient, ProtocolVersion
from doses.services import allocations_of_containers, hold_doses
from lots.models import Container, Lot
from lots.services import containers_of, hold_lot_and_containers, lots_of_donor

TEXT_LIMIT = 4000


@dataclass(frozen=True)
class EventInput(rules.EventEntry):
    """What a clinician types about an event, and the dose it names (by its allocation), if any."""

    allocation_id: int | None = None


def _dose_of(session: Session, patient: Patient, allocation_id: int | None) -> Allocation | None:
    if allocation_id is None:
        return None
    allocation = session.get(Allocation, allocation_id)
    if allocation is None or allocation.patient_id != patient.id:
        raise Refused({"allocation_id": t("Choose one of this patient's doses.")})
    return allocation


def _input_problems(data: EventInput, dose: Allocation | None) -> tuple[dict, list[Problem]]:
    errors = control_character_errors({"description": data.description})
    if not data.description.strip():
        errors["description"] = t("Describe the event.")
    elif len(data.description) > TEXT_LIMIT:
        errors["description"] = t("At most %(count)s characters.", count=TEXT_LIMIT)
    if data.onset_at is None:
        errors["onset_at"] = t("Give the date and time of onset.")
    elif data.onset_at > utcnow():
        errors["onset_at"] = t("The onset cannot be in the future.")
    facts = rules.EventFacts(
        data.onset_at,
        data.description,
        tuple(data.seriousness),
        data.grade,
        data.outcome,
        data.imputability,
        dose.administered_at if dose is not None else None,
        dose_linked=dose is not None,
        dose_administered=dose is None or dose.status == "administered",
    )
    return errors, rules.event_problems(facts)


def record_event(session: Session, patient: Patient, data: EventInput) -> AdverseEvent:
    """Record an adverse event in `patient`, possibly linked to one of their administered doses. A serious
    event judged possibly related or more holds the lot's products not yet administered at once and
    alerts QA (bank.signals.serious_reaction_reported)."""
    dose = _dose_of(session, patient, data.allocation_id)
    errors, problems = _input_problems(data, dose)
    refuse_if(errors, problems)
    actor = current_actor(session)
    event = AdverseEvent(
        patient_id=patient.id,
        allocation_id=dose.id if dose else None,
        onset_at=data.onset_at,
        description=data.description.strip(),
        seriousness=",".join(sorted(set(data.seriousness))),
        serious=rules.is_serious(data.seriousness, data.grade),
        grade=data.grade,
        outcome=data.outcome,
        imputability=data.imputability,
        reported_by_id=actor.id if actor else None,
    )
    add_new(session, event, EVENT_WORKFLOW)
    _hold_at_once_if_needed(session, event)
    return event


def _hold_at_once_if_needed(session: Session, event: AdverseEvent) -> None:
    if (
        event.held_at is None
        and event.allocation is not None
        and rules.holds_at_once(event.seriousness_list, event.grade, event.imputability)
    ):
        # The hold follows from the recorded judgement, not from a choice of whoever recorded it: taken
        # with the hold permissions for this call only, still attributed to them (as a donor look-back).
        with acting_with(session, "lot.hold"):
            _hold(
                session,
                event,
                _lots_of_dose(session, event.allocation),
                f"Serious adverse reaction {event.reference}",
            )
        serious_reaction_reported.send(session, event=event)


def _lots_of_dose(session: Session, allocation: Allocation) -> list[Lot]:
    return sorted({c.lot for c in allocation.containers}, key=lambda lot: lot.id)


def _hold(session: Session, event: AdverseEvent, lots: list[Lot], reason: str) -> list[str]:
    given = {line.container_id for line in event.allocation.lines} if event.allocation else set()
    for lot in lots:
        hold_lot_and_containers(session, lot, reason)
    ids = [c.id for lot in lots for c in containers_of(session, lot) if c.id not in given]
    lines = hold_doses(session, ids, reason)
    event.held_at = utcnow()
    session.flush()
    return lines


UPDATABLE = ("description", "seriousness", "grade", "outcome", "imputability")


def update_event(session: Session, event: AdverseEvent, data: EventInput, note: str) -> AdverseEventUpdate:
    """A follow-up of the event: new values and a note, kept as one row of its history (append-only).
    Judged serious and possibly related now, the lot's products are held at once as at recording."""
    if event.status == "closed":
        raise Refused.rule("event.closed", t("This event is closed: its investigation was signed."))
    dose = event.allocation
    errors, problems = _input_problems(replace(data, onset_at=event.onset_at), dose)
    errors |= control_character_errors({"note": note})
    if not (note or "").strip():
        errors["note"] = t("Say what the follow-up found.")
    refuse_if(errors, problems)
    before = {f: getattr(event, f) for f in UPDATABLE}
    event.description = data.description.strip()
    event.seriousness = ",".join(sorted(set(data.seriousness)))
    event.grade, event.outcome, event.imputability = data.grade, data.outcome, data.imputability
    event.serious = rules.is_serious(data.seriousness, data.grade)
    changes = {f: [before[f], getattr(event, f)] for f in UPDATABLE if before[f] != getattr(event, f)}
    actor = current_actor(session)
    update = AdverseEventUpdate(
        event_id=event.id,
        recorded_by_id=actor.id if actor else None,
        changes=json.dumps(changes, sort_keys=True),
        note=note.strip()[:TEXT_LIMIT],
    )
    session.add(update)
    session.flush()
    _hold_at_once_if_needed(session, event)
    return update


def updates_of(session: Session, event: AdverseEvent) -> list[AdverseEventUpdate]:
    return rows_of(session, AdverseEventUpdate, AdverseEventUpdate.id, event_id=event.id)


# ---- look-forward --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuspectProduct:
    """A container of the same lot or donor, with the dose it went into (if any) and its patient."""

    container: Container
    allocation: Allocation | None
    same: str  # "lot" or "donor"

    @property
    def where(self) -> str:
        if self.allocation is None:
            return self.container.status
        return self.allocation.status


@dataclass(frozen=True)
class LookForward:
    lots: list[Lot]
    products: list[SuspectProduct]

    @property
    def patients(self) -> list[str]:
        return sorted({p.allocation.patient.subject_id for p in self.products if p.allocation is not None})


def look_forward(session: Session, event: AdverseEvent) -> LookForward | None:
    """For an event judged possibly related or more: every product of the dose's lots and of every other
    lot of the same donor, with the dose each went into and its patient. None otherwise."""
    if event.allocation is None or not rules.is_related(event.imputability):
        return None
    own = _lots_of_dose(session, event.allocation)
    lots = {lot.id: (lot, "lot") for lot in own}
    for lot in own:
        if lot.donor_id is not None:
            for other in lots_of_donor(session, lot.donor_id):
                lots.setdefault(other.id, (other, "donor"))
    products = []
    for lot, same in sorted(lots.values(), key=lambda x: x[0].id):
        containers = containers_of(session, lot)
        by_container = _allocation_by_container(session, [c.id for c in containers])
        for c in containers:
            allocation = by_container.get(c.id)
            if allocation is not None and allocation.id == event.allocation_id:
                continue  # the dose the event is about
            products.append(SuspectProduct(c, allocation, same))
    return LookForward([x[0] for x in sorted(lots.values(), key=lambda x: x[0].id)], products)


def _allocation_by_container(session: Session, container_ids: list[int]) -> dict[int, Allocation]:
    found = {}
    for allocation in allocations_of_containers(session, container_ids):
        for line in allocation.lines:
            if line.released_at is None:
                found[line.container_id] = allocation
    # Administered doses keep their lines; a deallocated dose released its containers.
    return found


def hold_look_forward(session: Session, event: AdverseEvent, user: User, password: str) -> list[str]:
    """QA's one signed act: hold every lot and remaining product the look-forward found, and every dose
    made from them not yet administered. Returns one line per patient dose concerned."""
    found = look_forward(session, event)
    if found is None:
        raise Refused.rule(
            "event.not_related",
            t("Only an event judged possibly related or more makes the other products suspect."),
        )
    content = {
        "event": event.reference,
        "lots": [lot.din for lot in found.lots],
        "containers": sorted(p.container.id for p in found.products),
    }
    sign(session, user, password, LOOK_FORWARD_HOLD_MEANING, event.__tablename__, event.id, content)
    return _hold(session, event, found.lots, f"Look-forward of {event.reference}")


# ---- investigation --------------------------------------------------------------------------------


def event_content(event: AdverseEvent) -> dict:
    """What QA signs when closing: the event as recorded and the investigation's findings."""
    return {
        "event": event.reference,
        "patient": event.patient.subject_id,
        "dose": event.allocation.dose_number if event.allocation else None,
        "onset_at": event.onset_at.isoformat(),
        "description": event.description,
        "seriousness": event.seriousness_list,
        "grade": event.grade,
        "outcome": event.outcome,
        "imputability": event.imputability,
        "conclusion": event.conclusion,
        "corrective_actions": event.corrective_actions,
    }


def start_investigation(session: Session, event: AdverseEvent, reason: str | None = None) -> None:
    change_status(session, event, EVENT_WORKFLOW, "under_investigation", reason=reason)


def close_investigation(
    session: Session, event: AdverseEvent, user: User, password: str, conclusion: str, corrective_actions: str
) -> None:
    """QA closes the event with the conclusion and corrective actions, signed ('Investigation closed')."""
    errors = control_character_errors({"conclusion": conclusion, "corrective_actions": corrective_actions})
    refuse_if(errors)
    event.conclusion = conclusion.strip()[:TEXT_LIMIT] or None
    event.corrective_actions = corrective_actions.strip()[:TEXT_LIMIT] or None
    change_status(
        session,
        event,
        EVENT_WORKFLOW,
        "closed",
        password=password,
        content=event_content(event),
        signer=user,
        problems=rules.investigation_problems(conclusion, corrective_actions),
    )


# ---- lists -----------------------------------------------------------------------------------------


def events_query(status: str | None = None, protocol: str | None = None, patient_id: int | None = None):
    stmt = select(AdverseEvent).order_by(AdverseEvent.id.desc())
    if status:
        stmt = stmt.where(AdverseEvent.status == status)
    if patient_id:
        stmt = stmt.where(AdverseEvent.patient_id == patient_id)
    if protocol:
        stmt = (
            stmt.join(Patient, Patient.id == AdverseEvent.patient_id)
            .join(ProtocolVersion, ProtocolVersion.id == Patient.protocol_version_id)
            .where(ProtocolVersion.code == protocol)
        )
    return stmt


def events_of_patient(session: Session, patient: Patient) -> list[AdverseEvent]:
    return list(session.scalars(events_query(patient_id=patient.id)))


def administered_doses(session: Session, patient: Patient) -> list[Allocation]:
    return rows_of(session, Allocation, Allocation.dose_number, patient_id=patient.id, status="administered")


# ---- follow-up visits ------------------------------------------------------------------------------


def first_dose_on(session: Session, patient: Patient) -> date | None:
    first = session.scalar(
        select(func.min(Allocation.administered_at)).where(
            Allocation.patient_id == patient.id, Allocation.status == "administered"
        )
    )
    return first.date() if first else None


def follow_up_schedule(session: Session, patient: Patient) -> list[rules.FollowUpDue]:
    visits = [(f.label, f.weeks, f.window_days) for f in patient.protocol_version.protocol().follow_up]
    recorded = {
        v.label: v.visit_on
        for v in session.scalars(select(FollowUpVisit).where(FollowUpVisit.patient_id == patient.id))
    }
    return rules.follow_up_schedule(first_dose_on(session, patient), visits, recorded)


def record_follow_up(
    session: Session, patient: Patient, label: str, visit_on: date | None, findings: str
) -> FollowUpVisit:
    """Record a follow-up visit the protocol schedules, once, on or after the first dose and not later
    than today."""
    schedule = {f.label: f for f in follow_up_schedule(session, patient)}
    errors = control_character_errors({"findings": findings})
    if label not in schedule:
        errors["label"] = t("Choose a follow-up visit of the protocol (after the first dose).")
    elif schedule[label].done:
        errors["label"] = t("This visit is already recorded.")
    if visit_on is None:
        errors["visit_on"] = t("Give the date of the visit.")
    elif visit_on > today():
        errors["visit_on"] = t("The visit cannot be in the future.")
    else:
        first = first_dose_on(session, patient)
        if first is not None and visit_on < first:
            errors["visit_on"] = t("The visit cannot be before the first dose.")
    refuse_if(errors)
    actor = current_actor(session)
    visit = FollowUpVisit(
        patient_id=patient.id,
        label=label,
        visit_on=visit_on,
        findings=(findings or "").strip()[:TEXT_LIMIT],
        recorded_by_id=actor.id if actor else None,
    )
    session.add(visit)
    session.flush()
    return visit


# ---- annual summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnualSummary:
    protocol: str
    year: int
    rows: list[rules.SummaryRow]
    events: list[AdverseEvent]
    patients_dosed: int
    doses_given: int


def annual_summary(session: Session, protocol: str, year: int) -> AnnualSummary:
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    events = list(
        session.scalars(
            events_query(protocol=protocol).where(AdverseEvent.onset_at >= start, AdverseEvent.onset_at < end)
        )
    )
    given = (
        select(Allocation)
        .join(ProtocolVersion, ProtocolVersion.id == Allocation.protocol_version_id)
        .where(
            ProtocolVersion.code == protocol,
            Allocation.status == "administered",
            Allocation.administered_at >= start,
            Allocation.administered_at < end,
        )
        .subquery()
    )
    doses = session.scalar(select(func.count()).select_from(given)) or 0
    patients = session.scalar(select(func.count(func.distinct(given.c.patient_id)))) or 0
    rows = rules.annual_summary((e.serious, e.imputability) for e in events)
    return AnnualSummary(protocol, year, rows, events, patients, doses)
