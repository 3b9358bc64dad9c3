"""Recording the chain of custody of a dose (DOMAIN.md §5): each hand-off scans the dose's label (or
takes the DIN typed with its check character), refuses a code that is not ISBT 128, a wrong check
character, another dose's or another patient's container; the person handing over signs with their
password and the person receiving countersigns with theirs (21 CFR 11.50/11.200). Nothing is written
on a refusal. A temperature excursion puts the dose on hold; 'administered' records the administration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank import isbt128
from bank.clock import as_utc, utcnow
from bank.db import rows_of
from bank.esign import SignatureError, countersign, sign, signature_valid
from bank.i18n import t
from bank.models import User
from bank.refusals import Problem, Refused, control_character_errors, refuse_if
from bank.signals import custody_excursion
from bank.status import change_status
from bank.uow import current_actor
from bank.users import actor_for
from doses import services as dose_services
from doses.custody.models import CustodyEvent, LoggerFile
from doses.custody.rules import (
    EMPTY_SCAN,
    RECORD_PERMISSION,
    DoseRef,
    HandOff,
    container_problems,
    event_problems,
    excursion_found,
    hand_off_errors,
    hold_reason,
    not_a_din,
    permitted,
    recorder_problems,
    scan_mismatch,
    shared_din,
    storage_limit_c,
    time_errors,
)
from doses.custody.rules.logger import Reading, parse_logger_csv, summarise
from doses.custody.states import IN_STORAGE, KINDS
from doses.models import AllocatedContainer, Allocation
from doses.states import ALLOCATION_WORKFLOW, HOLDABLE
from lots.models import Container, Lot
from lots.services import remove_container
from lots.states import CONTAINER_WORKFLOW
from release.services import lot_is_released

# --- Reading the chain ---------------------------------------------------------------------------


def custody_events(session: Session, allocation: Allocation) -> list[CustodyEvent]:
    return rows_of(session, CustodyEvent, CustodyEvent.sequence, allocation_id=allocation.id)


def last_event(session: Session, allocation: Allocation) -> CustodyEvent | None:
    return session.scalar(
        select(CustodyEvent)
        .where(CustodyEvent.allocation_id == allocation.id)
        .order_by(CustodyEvent.sequence.desc())
        .limit(1)
    )


def custody_state(session: Session, allocation: Allocation) -> str:
    """The dose's last custody event, or IN_STORAGE before the first."""
    last = last_event(session, allocation)
    return last.event if last else IN_STORAGE


def permitted_events(session: Session, allocation: Allocation) -> list[str]:
    """The events the custody form offers now (the workflow's next steps the dose's status allows)."""
    last = last_event(session, allocation)
    return permitted(last.event if last else None, allocation.status)


def active_containers(allocation: Allocation) -> list[Container]:
    """The containers the dose holds now (lines not freed by a de-allocation)."""
    return [line.container for line in allocation.lines if line.released_at is None]


# The columns of an event as its hand-off states them: stored on the row and bound by both signatures.
STATED_FIELDS = (
    "place",
    "shipper",
    "logger_id",
    "temperature_min_c",
    "temperature_max_c",
    "excursion",
    "excursion_description",
    "condition_on_receipt",
    "scanned_code",
    "subject_id_checked",
    "notes",
)


def event_content(
    *,
    allocation_id: int,
    sequence: int,
    event: str,
    container: str,
    occurred_at: datetime,
    handed_over_by: str,
    received_by: str,
    **stated,
) -> dict:
    """What both signatures of an event are bound to (rebuilt from the row to check them later); `stated`:
    every one of STATED_FIELDS."""
    return {
        "allocation": allocation_id,
        "sequence": sequence,
        "event": event,
        "container": container,
        "occurred_at": occurred_at.isoformat(),
        **{name: stated[name] for name in STATED_FIELDS},
        "handed_over_by": handed_over_by,
        "received_by": received_by,
    }


def row_content(e: CustodyEvent) -> dict:
    return event_content(
        allocation_id=e.allocation_id,
        sequence=e.sequence,
        event=e.event,
        container=e.container.identifier,
        occurred_at=e.occurred_at,
        handed_over_by=e.handed_over_by.username,
        received_by=e.received_by.username,
        **{name: getattr(e, name) for name in STATED_FIELDS},
    )


def signatures_valid(e: CustodyEvent) -> bool:
    """Both signatures still match the event as stored (a row edited behind the application fails)."""
    content = row_content(e)
    return signature_valid(e.handover_signature, content) and signature_valid(e.receipt_signature, content)


# --- The scan --------------------------------------------------------------------------------------


def _dose(allocation: Allocation) -> DoseRef:
    return DoseRef(allocation.patient_id, allocation.patient.subject_id, allocation.dose_number)


def _holders(session: Session, din: str, product_code: str | None) -> list[tuple[Container, Allocation]]:
    """Containers with this DIN (and product code) and the active dose that holds each, if any."""
    stmt = (
        select(Container, Allocation)
        .join(Lot, Container.lot_id == Lot.id)
        .outerjoin(
            AllocatedContainer,
            (AllocatedContainer.container_id == Container.id) & AllocatedContainer.released_at.is_(None),
        )
        .outerjoin(Allocation, Allocation.id == AllocatedContainer.allocation_id)
        .where(Lot.din == din)
        .order_by(Container.id)
    )
    if product_code:
        stmt = stmt.where(Container.product_code == product_code)
    return [(c, a) for c, a in session.execute(stmt)]


def match_scan(session: Session, allocation: Allocation, scanned_code: str) -> Container:
    """The container of this dose that `scanned_code` identifies, or Refused(scanned_code=…) saying what is
    wrong: not ISBT 128, wrong check character, not a DIN, another dose or another patient."""
    text = (scanned_code or "").strip()
    if not text:
        raise Refused({"scanned_code": EMPTY_SCAN})
    try:
        scan = isbt128.parse_scan(text)
    except isbt128.Isbt128Error as e:
        raise Refused(
            {
                "scanned_code": t(
                    "Not a valid ISBT 128 code: %(problem)s. Nothing was recorded.", problem=_said(e)
                )
            }
        ) from None
    if scan.din is None:
        raise Refused({"scanned_code": not_a_din(scan.kind)})
    mine = active_containers(allocation)
    matches = [
        c
        for c in mine
        if c.lot.din == scan.din and (scan.product_code is None or c.product_code == scan.product_code)
    ]
    printed = isbt128.format_din(scan.din, flags=None)
    if not matches:
        others = [
            (c.identifier, _dose(a))
            for c, a in _holders(session, scan.din, scan.product_code)
            if a is not None
        ]
        raise Refused(
            {
                "scanned_code": scan_mismatch(
                    _dose(allocation),
                    printed,
                    scan.product_code,
                    [c.identifier for c in mine],
                    others[0] if others else None,
                )
            }
        )
    if scan.product_code is None:
        # A DIN alone is accepted only when no other active dose holds a bag of that lot.
        if any(a is not None and a.id != allocation.id for _, a in _holders(session, scan.din, None)):
            raise Refused({"scanned_code": shared_din(printed)})
    return matches[0]


# --- Recording an event ----------------------------------------------------------------------------


def _said(error: Exception):
    """What an error of the kernel says, kept as its message (a Text is shown in the reader's language)."""
    return error.args[0] if error.args else str(error)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _receiver(session: Session, username: str | None, user: User) -> User:
    """The receiving person's account: active, holding custody.record, not the person handing over."""
    name = (username or "").strip()
    if not name:
        raise Refused({"receiver_username": t("The person receiving the dose enters their user name.")})
    receiver = session.scalar(select(User).where(User.username == name))
    if receiver is None or not receiver.is_active or receiver.is_locked:
        raise Refused(
            {"receiver_username": t("No active account '%(name)s' can sign for receipt.", name=name)}
        )
    if RECORD_PERMISSION not in actor_for(receiver).permissions:
        raise Refused(
            {
                "receiver_username": t(
                    "%(name)s does not hold the permission to take custody of doses.", name=receiver.full_name
                )
            }
        )
    if receiver.id == user.id:
        raise Refused(
            {"receiver_username": t("The person receiving must be someone else: two people, two signatures.")}
        )
    return receiver


def record_custody_event(
    session: Session,
    allocation: Allocation,
    scanned_code: str,
    event: str,
    *,
    user: User,
    password: str,
    receiver_username: str,
    receiver_password: str,
    place: str,
    occurred_at: datetime | None = None,
    shipper: str | None = None,
    logger_id: str | None = None,
    temperature_min_c: float | None = None,
    temperature_max_c: float | None = None,
    excursion: bool = False,
    excursion_description: str | None = None,
    condition_on_receipt: str | None = None,
    subject_id_checked: str | None = None,
    notes: str | None = None,
) -> CustodyEvent:
    """Record the next custody event of `allocation`, handed over by `user` (the signed-in person, who
    signs with `password`) and received by `receiver_username` (who countersigns with their own
    password), each signature with the meaning doses.custody.states.KINDS states. Raises Refused (input
    errors by field; rule Problems for the chain's order, the dose's status and the container) or
    SignatureError; nothing is written then. The decisions are doses.custody.rules.

    An excursion (ticked, or a logger maximum above the product's storage limit while the dose is
    frozen) puts the dose on hold. 'issued_from_storage' takes the containers out of their box and the
    dose to 'issued'; 'administered' records the administration at `occurred_at`."""
    actor = current_actor(session)
    # Lock the dose row: two people recording "the next event" at once are served one after the other
    # (the unique (allocation, sequence) constraint is the database's own guard behind this).
    session.execute(select(Allocation.id).where(Allocation.id == allocation.id).with_for_update())
    session.refresh(allocation)
    errors = recorder_problems(actor is not None and actor.id == user.id, actor.permissions if actor else ())
    last = last_event(session, allocation)
    problems = event_problems(last.event if last else None, event, allocation.status)
    container = None
    try:
        container = match_scan(session, allocation, scanned_code)
    except Refused as e:
        errors.update(e.errors)
    now = utcnow()
    occurred_at = as_utc(occurred_at) or now
    errors.update(
        time_errors(
            occurred_at,
            now,
            last.occurred_at if last else None,
            dose_services.lots_released_at(session, allocation),
        )
    )
    # PostgreSQL text cannot hold NUL; other control characters have no place in a record either.
    errors.update(
        {
            name: t("Contains a control character: type or scan the text again.")
            for name in control_character_errors(
                {
                    "scanned_code": scanned_code,
                    "place": place,
                    "shipper": shipper,
                    "logger_id": logger_id,
                    "excursion_description": excursion_description,
                    "condition_on_receipt": condition_on_receipt,
                    "subject_id_checked": subject_id_checked,
                    "notes": notes,
                    "receiver_username": receiver_username,
                }
            )
        }
    )
    if "scanned_code" in errors or "receiver_username" in errors:
        raise Refused(errors, problems)
    hand_off = HandOff(
        event,
        _clean(place),
        _clean(shipper),
        _clean(logger_id),
        temperature_min_c,
        temperature_max_c,
        bool(excursion),
        _clean(excursion_description),
        _clean(condition_on_receipt),
        _clean(subject_id_checked),
    )
    errors.update(hand_off_errors(hand_off, allocation.patient.subject_id))
    if container is not None:
        usable = not container.on_hold and lot_is_released(session, container.lot)
        problems += container_problems(event, container.identifier, usable, container.expires_at, occurred_at)
    refuse_if(errors, problems)
    receiver = _receiver(session, receiver_username, user)

    excursion, excursion_description = hand_off.excursion, hand_off.excursion_description
    auto = excursion_found(
        event, temperature_max_c, storage_limit_c(container.lot.product_type.storage_temperature)
    )
    if auto and not excursion:
        excursion, excursion_description = True, f"Detected: {auto}"
    sequence = (last.sequence + 1) if last else 1
    stated = asdict(hand_off) | {
        "excursion": excursion,
        "excursion_description": excursion_description,
        "scanned_code": scanned_code.strip(),
        "notes": _clean(notes),
    }
    fields = {name: stated[name] for name in STATED_FIELDS}
    content = event_content(
        allocation_id=allocation.id,
        sequence=sequence,
        event=event,
        container=container.identifier,
        occurred_at=occurred_at,
        handed_over_by=user.username,
        received_by=receiver.username,
        **fields,
    )
    kind = KINDS[event]
    handover = sign(session, user, password, kind.handover_meaning, "allocations", allocation.id, content)
    try:
        receipt = countersign(
            session, receiver, receiver_password, kind.receipt_meaning, "allocations", allocation.id, content
        )
    except SignatureError as e:
        raise Refused(
            {"receiver_password": t("%(name)s: %(problem)s", name=receiver.full_name, problem=_said(e))}
        ) from None
    row = CustodyEvent(
        allocation_id=allocation.id,
        container_id=container.id,
        sequence=sequence,
        event=event,
        occurred_at=occurred_at,
        recorded_at=now,
        handed_over_by_id=user.id,
        handover_signature_id=handover.id,
        received_by_id=receiver.id,
        receipt_signature_id=receipt.id,
        **fields,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Refused(
            problems=[
                Problem(
                    "custody.recorded_meanwhile",
                    t(
                        "Another custody event of this dose was recorded a moment ago: reload the page and scan "
                        "again."
                    ),
                    t("event %(number)s of the chain", number=sequence),
                )
            ]
        ) from None
    _apply_event(session, allocation, row)
    ids = [c.id for c in active_containers(allocation)]
    if why := hold_reason(event, excursion, excursion_description, allocation.status, HOLDABLE):
        dose_services.hold_doses(session, ids, why)
    session.flush()
    if excursion:
        custody_excursion.send(session, allocation=allocation, event=row)  # the people concerned are told
    return row


def _apply_event(session: Session, allocation: Allocation, row: CustodyEvent) -> None:
    """What the event changes on the dose and its containers (status history and audit rows follow)."""
    containers = active_containers(allocation)
    label = f"{allocation.patient.subject_id} dose {allocation.dose_number}"
    if row.event == "issued_from_storage":
        change_status(
            session, allocation, ALLOCATION_WORKFLOW, "issued", reason=f"issued from storage: {label}"
        )
        for c in containers:
            if c.box_id is not None:  # out of the tank: the storage grid shows the position free
                remove_container(session, c, f"issued from storage: {label}")
    elif row.event == "administered":
        dose_services.record_administration(session, allocation, row.occurred_at)
    elif row.event in CONTAINER_AFTER:
        target = CONTAINER_AFTER[row.event]
        for c in containers:
            if c.status != target:  # a dose returned before it was shipped is out of storage already
                change_status(session, c, CONTAINER_WORKFLOW, target, reason=f"{row.event}: {label}")
    session.flush()


# Where the dose's containers are after these events (their steps: lots.states.CONTAINER_WORKFLOW).
CONTAINER_AFTER = {"shipped": "shipped", "returned": "removed", "destroyed": "destroyed"}


# ---- the shipper's temperature logger file (issue 21) ----------------------------------------------

LOGGER_FILE_LIMIT = 2 * 1024 * 1024  # bytes: a year of minute readings fits several times over


def logger_file_of(session: Session, event: CustodyEvent) -> LoggerFile | None:
    return session.scalar(select(LoggerFile).where(LoggerFile.event_id == event.id))


def logger_files_of(session: Session, events: list[CustodyEvent]) -> dict[int, LoggerFile]:
    if not events:
        return {}
    rows = session.scalars(select(LoggerFile).where(LoggerFile.event_id.in_([e.id for e in events])))
    return {row.event_id: row for row in rows}


def attach_logger_file(session: Session, event: CustodyEvent, filename: str, data: bytes, zone) -> LoggerFile:
    """Attach the shipper's logger export (CSV) to a hand-off, once: every reading is read now and kept
    with the file's SHA-256; a file with any bad line is refused whole, naming the lines."""
    errors = control_character_errors({"filename": filename})
    if logger_file_of(session, event) is not None:
        raise Refused.rule(
            "custody.logger.attached",
            t("A logger file is already attached to this event; it cannot be replaced."),
            field="logger_file",
        )
    if not data:
        errors["logger_file"] = t("Choose the logger's CSV file.")
    elif len(data) > LOGGER_FILE_LIMIT:
        errors["logger_file"] = t(
            "The file is larger than %(size)s MB.", size=LOGGER_FILE_LIMIT // (1024 * 1024)
        )
    refuse_if(errors)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # spreadsheets export in their own code page
    readings, problems = parse_logger_csv(text, zone)
    refuse_if(problems=problems)
    summary = summarise(readings, None)
    actor = current_actor(session)
    row = LoggerFile(
        event_id=event.id,
        filename=(filename or "logger.csv")[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        readings=json.dumps([[r.at.isoformat(), r.celsius] for r in readings]),
        reading_count=summary.count,
        minimum_c=summary.minimum_c,
        maximum_c=summary.maximum_c,
        first_at=summary.first_at,
        last_at=summary.last_at,
        uploaded_by_id=actor.id if actor else None,
    )
    session.add(row)
    session.flush()
    return row


def logger_readings(row: LoggerFile) -> list[Reading]:
    return [Reading(datetime.fromisoformat(at), celsius) for at, celsius in json.loads(row.readings)]


def storage_limit_of(event: CustodyEvent) -> float | None:
    return storage_limit_c(event.container.lot.product_type.storage_temperature)
