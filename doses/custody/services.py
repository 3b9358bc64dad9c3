"""Recording the chain of custody of a dose (DOMAIN.md §5): each hand-off scans the dose's label (or
takes the DIN typed with its check character), refuses a code that is not ISBT 128, a wrong check
character, another dose's or another patient's container; the person handing over signs with their
password and the person receiving countersigns with theirs (21 CFR 11.50/11.200). Nothing is written
on a refusal. A temperature excursion puts the dose on hold; 'administered' records the administration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank import isbt128
from bank.clock import utcnow
from bank.esign import SignatureError, countersign, sign, signature_valid
from bank.models import User
from bank.status import change_status
from bank.uow import current_actor
from bank.users import actor_for
from doses import services as dose_services
from doses.custody.models import CustodyEvent
from doses.custody.states import (
    IN_STORAGE,
    KINDS,
    event_problems,
    excursion_found,
    next_events,
    storage_limit_c,
    validate_temperatures,
)
from doses.models import AllocatedContainer, Allocation
from doses.states import ALLOCATION_WORKFLOW, HOLDABLE
from lots.models import Container, Lot
from lots.services import remove_container
from release.services import lot_is_released

FORM = "form"
CLOCK_SKEW = timedelta(minutes=5)
RECORD_PERMISSION = "custody.record"


class CustodyError(ValueError):
    """`errors` maps a form field (or FORM) to a message saying what is wrong; nothing was recorded."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(self.errors.values()))


# --- Reading the chain ---------------------------------------------------------------------------


def custody_events(session: Session, allocation: Allocation) -> list[CustodyEvent]:
    return list(session.scalars(select(CustodyEvent).where(CustodyEvent.allocation_id == allocation.id)
                                .order_by(CustodyEvent.sequence)))


def last_event(session: Session, allocation: Allocation) -> CustodyEvent | None:
    return session.scalar(select(CustodyEvent).where(CustodyEvent.allocation_id == allocation.id)
                          .order_by(CustodyEvent.sequence.desc()).limit(1))


def custody_state(session: Session, allocation: Allocation) -> str:
    """The dose's last custody event, or IN_STORAGE before the first."""
    last = last_event(session, allocation)
    return last.event if last else IN_STORAGE


def permitted_events(session: Session, allocation: Allocation) -> list[str]:
    """The events the custody form offers now (the workflow's next steps the dose's status allows)."""
    last = last_event(session, allocation)
    state = last.event if last else None
    return [e for e in next_events(state) if not event_problems(state, e, allocation.status)]


def active_containers(allocation: Allocation) -> list[Container]:
    """The containers the dose holds now (lines not freed by a de-allocation)."""
    return [line.container for line in allocation.lines if line.released_at is None]


def event_content(*, allocation_id: int, sequence: int, event: str, container: str, occurred_at: datetime,
                  place: str, shipper, logger_id, temperature_min_c, temperature_max_c, excursion: bool,
                  excursion_description, condition_on_receipt, scanned_code: str, subject_id_checked, notes,
                  handed_over_by: str, received_by: str) -> dict:
    """What both signatures of an event are bound to (rebuilt from the row to check them later)."""
    return {"allocation": allocation_id, "sequence": sequence, "event": event, "container": container,
            "occurred_at": occurred_at.isoformat(), "place": place, "shipper": shipper, "logger_id": logger_id,
            "temperature_min_c": temperature_min_c, "temperature_max_c": temperature_max_c,
            "excursion": excursion, "excursion_description": excursion_description,
            "condition_on_receipt": condition_on_receipt, "scanned_code": scanned_code,
            "subject_id_checked": subject_id_checked, "notes": notes, "handed_over_by": handed_over_by,
            "received_by": received_by}


def row_content(e: CustodyEvent) -> dict:
    return event_content(
        allocation_id=e.allocation_id, sequence=e.sequence, event=e.event, container=e.container.identifier,
        occurred_at=e.occurred_at, place=e.place, shipper=e.shipper, logger_id=e.logger_id,
        temperature_min_c=e.temperature_min_c, temperature_max_c=e.temperature_max_c, excursion=e.excursion,
        excursion_description=e.excursion_description, condition_on_receipt=e.condition_on_receipt,
        scanned_code=e.scanned_code, subject_id_checked=e.subject_id_checked, notes=e.notes,
        handed_over_by=e.handed_over_by.username, received_by=e.received_by.username)


def signatures_valid(e: CustodyEvent) -> bool:
    """Both signatures still match the event as stored (a row edited behind the application fails)."""
    content = row_content(e)
    return signature_valid(e.handover_signature, content) and signature_valid(e.receipt_signature, content)


# --- The scan --------------------------------------------------------------------------------------


def _dose_name(allocation: Allocation) -> str:
    return f"subject {allocation.patient.subject_id} dose {allocation.dose_number}"


def _holders(session: Session, din: str, product_code: str | None) -> list[tuple[Container, Allocation]]:
    """Containers with this DIN (and product code) and the active dose that holds each, if any."""
    stmt = (select(Container, Allocation).join(Lot, Container.lot_id == Lot.id)
            .outerjoin(AllocatedContainer, (AllocatedContainer.container_id == Container.id)
                       & AllocatedContainer.released_at.is_(None))
            .outerjoin(Allocation, Allocation.id == AllocatedContainer.allocation_id)
            .where(Lot.din == din).order_by(Container.id))
    if product_code:
        stmt = stmt.where(Container.product_code == product_code)
    return [(c, a) for c, a in session.execute(stmt)]


def match_scan(session: Session, allocation: Allocation, scanned_code: str) -> Container:
    """The container of this dose that `scanned_code` identifies, or CustodyError(scanned_code=…) saying
    what is wrong: not ISBT 128, wrong check character, not a DIN, another dose or another patient."""
    text = (scanned_code or "").strip()
    if not text:
        raise CustodyError({"scanned_code": "Scan the dose's label (DIN bar code or Data Matrix), or type "
                                            "the DIN with its boxed check character."})
    try:
        scan = isbt128.parse_scan(text)
    except isbt128.Isbt128Error as e:
        raise CustodyError({"scanned_code": f"Not a valid ISBT 128 code: {e}. Nothing was recorded."}) from None
    if scan.din is None:
        what = {"product": "the product code bar code", "expiry": "the expiry bar code"}.get(scan.kind, "no DIN")
        raise CustodyError({"scanned_code": f"This is {what}: scan the DIN bar code (top left of the label) "
                                            "or the Data Matrix."})
    mine = active_containers(allocation)
    matches = [c for c in mine if c.lot.din == scan.din
               and (scan.product_code is None or c.product_code == scan.product_code)]
    printed = isbt128.format_din(scan.din, flags=None)
    if not matches:
        others = [(c, a) for c, a in _holders(session, scan.din, scan.product_code) if a is not None]
        if others:
            container, other = others[0]
            if other.patient_id != allocation.patient_id:
                raise CustodyError({"scanned_code": (
                    f"Patient mismatch: {container.identifier} belongs to {_dose_name(other)}, another patient; "
                    f"this is {_dose_name(allocation)}. Do not hand it over. Nothing was recorded.")})
            raise CustodyError({"scanned_code": (
                f"Wrong dose: {container.identifier} is dose {other.dose_number} of this patient; this is "
                f"dose {allocation.dose_number}. Nothing was recorded.")})
        code = f" {scan.product_code}" if scan.product_code else ""
        raise CustodyError({"scanned_code": (
            f"Wrong container: {printed}{code} is not a container of this dose ({_dose_name(allocation)}; "
            f"expected {', '.join(c.identifier for c in mine) or 'none'}). Nothing was recorded.")})
    if scan.product_code is None:
        # A DIN names a lot; a lot's bags (divisions) may belong to several doses. A DIN alone is
        # accepted only when no other active dose holds a bag of that lot.
        others = [a for _, a in _holders(session, scan.din, None) if a is not None and a.id != allocation.id]
        if others:
            raise CustodyError({"scanned_code": (
                f"{printed} is shared by bags of several doses: scan the Data Matrix (it carries the product "
                "code and division) to say which bag this is.")})
    return matches[0]


def as_utc(value: datetime | None) -> datetime | None:
    """Form date-times are entered in UTC (the label says so): attach the zone to a naive one."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# --- Recording an event ----------------------------------------------------------------------------


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _receiver(session: Session, username: str | None) -> User:
    name = (username or "").strip()
    if not name:
        raise CustodyError({"receiver_username": "The person receiving the dose enters their user name."})
    user = session.scalar(select(User).where(User.username == name))
    if user is None or not user.is_active or user.is_locked:
        raise CustodyError({"receiver_username": f"No active account '{name}' can sign for receipt."})
    if RECORD_PERMISSION not in actor_for(user).permissions:
        raise CustodyError({"receiver_username": f"{user.full_name} does not hold the permission to take "
                                                 "custody of doses (custody.record)."})
    return user


def record_custody_event(session: Session, allocation: Allocation, scanned_code: str, event: str, *,
                         user: User, password: str, receiver_username: str, receiver_password: str,
                         place: str, occurred_at: datetime | None = None, shipper: str | None = None,
                         logger_id: str | None = None, temperature_min_c: float | None = None,
                         temperature_max_c: float | None = None, excursion: bool = False,
                         excursion_description: str | None = None, condition_on_receipt: str | None = None,
                         subject_id_checked: str | None = None, notes: str | None = None) -> CustodyEvent:
    """Record the next custody event of `allocation`, handed over by `user` (the signed-in person, who
    signs with `password`) and received by `receiver_username` (who countersigns with their own
    password). Raises CustodyError (field → message) or SignatureError; nothing is written then.

    Refused: an event that is not a next step of the chain or that the dose's status forbids (on hold:
    only returned/destroyed), a scan that is not this dose's container, a wristband of another patient,
    a time in the future or before the previous event, impossible temperatures, an excursion without a
    description. An excursion (ticked, or a logger maximum above the product's storage limit while the
    dose is frozen) puts the dose on hold. 'issued_from_storage' takes the containers out of their box
    and the dose to 'issued'; 'administered' records the administration at `occurred_at`."""
    actor = current_actor(session)
    if actor is None or actor.id != user.id:
        raise CustodyError({FORM: "Custody is recorded by the signed-in person handing the dose over."})
    # Lock the dose row: two people recording "the next event" at once are served one after the other
    # (the unique (allocation, sequence) constraint is the database's own guard behind this).
    session.execute(select(Allocation.id).where(Allocation.id == allocation.id).with_for_update())
    session.refresh(allocation)
    errors: dict[str, str] = {}
    if RECORD_PERMISSION not in actor.permissions:
        errors[FORM] = "You do not hold the permission to record custody events (custody.record)."
    last = last_event(session, allocation)
    problems = event_problems(last.event if last else None, event, allocation.status)
    if problems:
        errors["event"] = "; ".join(problems)
    container = None
    try:
        container = match_scan(session, allocation, scanned_code)
    except CustodyError as e:
        errors.update(e.errors)
    now = utcnow()
    occurred_at = as_utc(occurred_at) or now
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    if occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = "The time of the hand-off cannot be in the future."
    elif last is not None and occurred_at < last.occurred_at:
        errors["occurred_at"] = (f"The hand-off cannot be before the previous event "
                                 f"({last.occurred_at:%Y-%m-%d %H:%M} UTC).")
    texts = {"scanned_code": scanned_code, "place": place, "shipper": shipper, "logger_id": logger_id,
             "excursion_description": excursion_description, "condition_on_receipt": condition_on_receipt,
             "subject_id_checked": subject_id_checked, "notes": notes, "receiver_username": receiver_username}
    for name, value in texts.items():
        # PostgreSQL text cannot hold NUL; other control characters have no place in a record either.
        if value and any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            errors[name] = "Contains a control character: type or scan the text again."
    if any(name in errors for name in ("scanned_code", "receiver_username")):
        raise CustodyError(errors)
    place, shipper, logger_id = _clean(place), _clean(shipper), _clean(logger_id)
    excursion_description, condition_on_receipt = _clean(excursion_description), _clean(condition_on_receipt)
    subject_id_checked, notes = _clean(subject_id_checked), _clean(notes)
    if place is None:
        errors["place"] = "Say where the hand-off happens (room, site)."
    if event == "shipped" and shipper is None:
        errors["shipper"] = "Name the shipper (courier company or person)."
    if event in ("shipped", "received_at_site") and logger_id is None:
        errors["logger_id"] = "Give the temperature logger's id (shipments travel with a logger)."
    if event in ("received_at_site", "returned") and condition_on_receipt is None:
        errors["condition_on_receipt"] = "Describe the condition on receipt (package, seal, bag, dry ice/LN2)."
    errors.update(validate_temperatures(temperature_min_c, temperature_max_c))
    if excursion and excursion_description is None:
        errors["excursion_description"] = "Describe the excursion (how high, how long, what was done)."
    if event == "administered" and subject_id_checked is None:
        errors["subject_id_checked"] = "Scan or type the patient's subject id (wristband) before administration."
    if subject_id_checked is not None and subject_id_checked.upper() != allocation.patient.subject_id.upper():
        errors["subject_id_checked"] = (f"Patient mismatch: the wristband reads {subject_id_checked} but this "
                                        f"dose is for {allocation.patient.subject_id}. Do not administer.")
    if container is not None and KINDS.get(event) and KINDS[event].forward:
        if container.on_hold or not lot_is_released(session, container.lot):
            errors.setdefault(FORM, f"Container {container.identifier} is held or its lot is not released.")
        elif container.expires_at < occurred_at:
            errors.setdefault(FORM, f"Container {container.identifier} expired on "
                                    f"{container.expires_at:%Y-%m-%d %H:%M} UTC.")
    if errors:
        raise CustodyError(errors)
    receiver = _receiver(session, receiver_username)
    if receiver.id == user.id:
        raise CustodyError({"receiver_username": "The person receiving must be someone else: two people, "
                                                 "two signatures."})

    auto = excursion_found(event, temperature_max_c, storage_limit_c(container.lot.product_type.storage_temperature))
    if auto and not excursion:
        excursion, excursion_description = True, f"Detected: {auto}"
    sequence = (last.sequence + 1) if last else 1
    fields = dict(place=place, shipper=shipper, logger_id=logger_id, temperature_min_c=temperature_min_c,
                  temperature_max_c=temperature_max_c, excursion=excursion,
                  excursion_description=excursion_description, condition_on_receipt=condition_on_receipt,
                  scanned_code=scanned_code.strip(), subject_id_checked=subject_id_checked, notes=notes)
    content = event_content(allocation_id=allocation.id, sequence=sequence, event=event,
                            container=container.identifier, occurred_at=occurred_at,
                            handed_over_by=user.username, received_by=receiver.username, **fields)
    kind = KINDS[event]
    try:
        handover = sign(session, user, password, kind.handover_meaning, "allocations", allocation.id, content)
    except SignatureError as e:
        raise CustodyError({"signature_password": str(e)}) from None
    try:
        receipt = countersign(session, receiver, receiver_password, kind.receipt_meaning, "allocations",
                              allocation.id, content)
    except SignatureError as e:
        raise CustodyError({"receiver_password": f"{receiver.full_name}: {e}"}) from None
    row = CustodyEvent(allocation_id=allocation.id, container_id=container.id, sequence=sequence, event=event,
                       occurred_at=occurred_at, recorded_at=now, handed_over_by_id=user.id,
                       handover_signature_id=handover.id, received_by_id=receiver.id,
                       receipt_signature_id=receipt.id, **fields)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise CustodyError({FORM: "Another custody event of this dose was recorded a moment ago: reload the "
                                  "page and scan again."}) from None
    _apply_event(session, allocation, row)
    ids = [c.id for c in active_containers(allocation)]
    if excursion:
        dose_services.hold_doses(session, ids, f"Temperature excursion at '{kind.label}': {excursion_description}")
    elif event in ("returned", "destroyed") and allocation.status in HOLDABLE:
        # A returned or destroyed dose must never reach the patient; holding it lets the pharmacy
        # deallocate it and allocate a replacement (an issued dose cannot be deallocated directly).
        dose_services.hold_doses(session, ids, f"Dose {event} ({kind.label.lower()}): deallocate it and "
                                               "allocate a replacement")
    session.flush()
    return row


def _apply_event(session: Session, allocation: Allocation, row: CustodyEvent) -> None:
    """What the event changes on the dose and its containers (status history and audit rows follow)."""
    containers = active_containers(allocation)
    label = f"{allocation.patient.subject_id} dose {allocation.dose_number}"
    if row.event == "issued_from_storage":
        change_status(session, allocation, ALLOCATION_WORKFLOW, "issued", reason=f"issued from storage: {label}")
        for c in containers:
            if c.box_id is not None:  # out of the tank: the storage grid shows the position free
                remove_container(session, c, f"issued from storage: {label}")
    elif row.event == "shipped":
        for c in containers:
            c.status = "shipped"
    elif row.event == "administered":
        dose_services.record_administration(session, allocation, row.occurred_at)
    elif row.event == "returned":
        for c in containers:
            c.status = "removed"
    elif row.event == "destroyed":
        for c in containers:
            c.status = "destroyed"
    session.flush()
