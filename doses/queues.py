"""The doses domain's work queues (bank.queues) and its daily notices: doses due from each patient's
schedule windows (doses.rules.patients.schedule, the rule allocation checks), doses allocated but not
issued, doses on their way, doses on hold. Items name the subject and the dose only, never a product or
an arm, so a blinded reader's queue reveals nothing of the treatment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bank.i18n import N_, t
from bank.models import AuditChainTip
from bank.queues import Context, Item, Listing, Queue, listing, register
from doses.models import Allocation, Patient, ProtocolVersion
from doses.rules.patients import schedule
from doses.states import ACTIVE_STATES

# A first dose given late moves the whole schedule: patients are looked at this long after the planned
# first dose beyond their protocol's longest schedule (a first dose later than this is a new plan: its
# planned date is changed on the patient's record, which brings the patient back in).
LATE_START_DAYS = 90


@dataclass(frozen=True)
class DueDose:
    patient_id: int
    subject_id: str
    number: int
    due: date
    window_end: date
    optional: bool


def doses_due(session: Session, first_day: date, last_day: date) -> list[DueDose]:
    """Each enrolled patient's next dose not given and not allocated whose window is open on some day of
    [first_day, last_day] (its window not ended before first_day), the shortest window left first. The
    schedule is the protocol's own rule (doses.rules.patients.schedule). Bounded for ten years of patients:
    only patients whose last dose is neither given nor allocated, whose planned first dose is recent enough
    for a window to be still open; each protocol version read once; two queries."""
    protocols = {row.id: row.protocol() for row in session.scalars(select(ProtocolVersion))}
    if not protocols:
        return []
    longest = max(s.offset_days + s.window_days for p in protocols.values() for s in p.schedule)
    oldest_start = first_day - timedelta(days=longest + LATE_START_DAYS)
    last_dose = {version: len(p.schedule) for version, p in protocols.items()}
    done = (
        select(Allocation.id)
        .where(
            Allocation.patient_id == Patient.id,
            Allocation.status != "deallocated",
            Allocation.dose_number == case(last_dose, value=Patient.protocol_version_id, else_=0),
        )
        .exists()
    )
    candidates = (
        select(Patient.id, Patient.subject_id, Patient.protocol_version_id, Patient.first_dose_on)
        .where(
            Patient.status == "enrolled",
            Patient.first_dose_on >= oldest_start,
            Patient.first_dose_on <= last_day,
            ~done,
        )
        .subquery()
    )
    # One round trip: each candidate with its doses given or under way (none: one row of NULLs).
    rows = session.execute(
        select(candidates, Allocation.dose_number, Allocation.status, Allocation.administered_at).outerjoin(
            Allocation,
            (Allocation.patient_id == candidates.c.id)
            & Allocation.status.in_((*ACTIVE_STATES, "administered")),
        )
    )
    patients: dict[int, tuple] = {}
    given: dict[int, dict[int, date]] = {}
    taken: set[tuple[int, int]] = set()
    for patient_id, subject_id, version, first_dose_on, number, status, administered_at in rows:
        patients.setdefault(patient_id, (subject_id, version, first_dose_on))
        if status == "administered":
            given.setdefault(patient_id, {})[number] = administered_at.date()
        elif status is not None:
            taken.add((patient_id, number))
    found = []
    for patient_id, (subject_id, version, first_dose_on) in patients.items():
        steps = schedule(protocols[version], first_dose_on, given.get(patient_id, {}))
        nxt = next((s for s in steps if s.administered_on is None and s.window_end >= first_day), None)
        if nxt is None or (patient_id, nxt.number) in taken or nxt.window_start > last_day:
            continue
        found.append(DueDose(patient_id, subject_id, nxt.number, nxt.due, nxt.window_end, nxt.optional))
    found.sort(key=lambda d: (d.window_end, d.due, d.subject_id))
    return found


# The doses due change only when a record changes (a patient, an allocation, an administration), and
# every change of a record appends to the audit trail: the last computation is reused while the chain's
# tip (one row, bank.models.AuditChainTip) and the days asked are the same. Per process, one entry per
# database; the daily command always computes.
_LAST_DUE: dict[str, tuple[tuple, list[DueDose]]] = {}


def _due_now(session: Session, first_day: date, last_day: date) -> list[DueDose]:
    tip = session.scalar(select(AuditChainTip.entry_id).where(AuditChainTip.id == 1))
    database = str(session.get_bind().url)
    key = (tip, first_day, last_day)
    known = _LAST_DUE.get(database)
    if known is not None and known[0] == key:
        return known[1]
    found = doses_due(session, first_day, last_day)
    _LAST_DUE[database] = (key, found)
    return found


def due_doses(session: Session, ctx: Context) -> Listing:
    found = _due_now(session, ctx.today, ctx.today + timedelta(days=ctx.dose_days))
    return Listing(
        [
            Item(
                t("Subject %(subject)s, dose %(dose)s: allocate it", subject=d.subject_id, dose=d.number),
                "doses.allocate",
                {"patient_id": d.patient_id},
                due=d.due,
                note=t("%(days)s days left in its window", days=(d.window_end - ctx.today).days),
            )
            for d in found[: ctx.limit]
        ],
        len(found),
    )


def _doses_in(status: str, text: str, endpoint: str, due: bool = True):
    """Doses in `status`, the earliest planned first; `due`: the planned day is when the work falls due
    (else it is only shown, after "planned")."""

    def items(session: Session, ctx: Context) -> Listing:
        stmt = (
            select(Allocation)
            .where(Allocation.status == status)
            .order_by(Allocation.planned_at, Allocation.id)
        )
        return listing(
            session,
            stmt,
            lambda a: Item(
                t(text, subject=a.patient.subject_id, dose=a.dose_number),
                endpoint,
                {"allocation_id": a.id},
                due=a.planned_at.date() if due else None,
                since=None if due else a.planned_at.date(),
                since_label=N_("planned on"),
            ),
            ctx.limit,
        )

    return items


# The texts of the queues of allocated doses (marked for the catalogue: t() is given them at run time).
ALLOCATED_TEXT = N_("Subject %(subject)s, dose %(dose)s is allocated: issue it from storage")
ISSUED_TEXT = N_("Subject %(subject)s, dose %(dose)s is on its way")
HELD_TEXT = N_("Subject %(subject)s, dose %(dose)s is on hold")


def due_tomorrow_notices(session: Session, today: date) -> list[dict]:
    """For the daily `flask notifications due`: each dose due tomorrow and not allocated, as a notification
    to the pharmacy (bank.notifications.services.notify's arguments)."""
    tomorrow = today + timedelta(days=1)
    return [
        {
            "kind": "dose_due",
            "message": t(
                "Subject %(subject)s, dose %(dose)s is due tomorrow and is not allocated yet.",
                subject=d.subject_id,
                dose=d.number,
            ),
            "permission": "dose.allocate",
            "event_key": f"dose_due:{d.patient_id}:{d.number}:{d.due.isoformat()}",
            "endpoint": "doses.allocate",
            "arguments": {"patient_id": d.patient_id},
        }
        for d in doses_due(session, today, tomorrow)
        if d.due == tomorrow
    ]


def register_queues(app) -> None:
    register(
        app,
        Queue("doses.due", N_("Doses due"), frozenset({"dose.allocate"}), due_doses, "doses.patients", 20),
    )
    register(
        app,
        Queue(
            "doses.allocated",
            N_("Doses allocated, not issued"),
            frozenset({"custody.record", "dose.allocate"}),
            _doses_in("allocated", ALLOCATED_TEXT, "custody.dose"),
            "custody.index",
            30,
        ),
    )
    register(
        app,
        Queue(
            "doses.on_their_way",
            N_("Doses on their way"),
            frozenset({"custody.record"}),
            _doses_in("issued", ISSUED_TEXT, "custody.dose"),
            "custody.index",
            40,
        ),
    )
    register(
        app,
        Queue(
            "doses.holds",
            N_("Doses on hold"),
            frozenset({"dose.allocate", "lot.hold"}),
            _doses_in("on_hold", HELD_TEXT, "doses.allocation", due=False),
            "doses.doses",
            8,
        ),
    )
    app.extensions.setdefault("bank.due_notices", []).append(due_tomorrow_notices)
