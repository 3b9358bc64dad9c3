"""Factories for labels and custody tests: released, allocated doses made through the real donor, lot,
release and doses services (never by setting a status), and custody events recorded through the
custody service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bank.uow import unit_of_work
from bank.users import actor_for
from doses.custody import services as custody
from tests.factories import doses as fd
from tests.factories import lots as lf
from tests.support import PASSWORD

NOW = fd.planned(fd.TODAY)


def frozen_minute() -> datetime:
    """A freezing time on a whole minute, so two lots frozen 'together' print the same expiry."""
    return (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)


def placebo_lot(session, staff, *, n=1, volume_ml=50.0, frozen_at=None):
    """fd.placebo_lot with a chosen freezing time (blinded pairs share one)."""
    return fd.placebo_lot(session, staff, n=n, volume_ml=volume_ml, frozen_at=frozen_at or frozen_minute())


def open_dose(session, staff, *, n=1):
    """MAESTRO-4MS (open label, allogeneic, intrathecal): dose 1 allocated from a released lot."""
    lot = fd.cell_lot(session, staff, n=n, cells=5.0e7)
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    allocation = fd.allocate(session, staff.clinician, patient, 1, NOW, [fd.containers(session, lot)[0].id])
    return allocation


def blinded_pair(session, staff):
    """MESEMS (blinded, autologous): two subjects at the same visit (dose 1), one randomised to MSC first
    and one to placebo first, same weight, lots frozen the same minute. Returns (active, placebo)."""
    frozen = frozen_minute()
    donors = [lf.screened_donor(session, staff.tech, autologous=True) for _ in range(2)]
    lot = fd.cell_lot(session, staff, key="BM-MSC-AUTO", donor=donors[0], n=1, cells=1.0e8, frozen_at=frozen)
    placebo = placebo_lot(session, staff, frozen_at=frozen)
    patients = [fd.enrolled_patient(session, staff.clinician, "MESEMS", donor=d, weight=70.0) for d in donors]
    fd.randomise(session, staff.pharmacist, patients[0], "MSC-PLACEBO")
    fd.randomise(session, staff.pharmacist, patients[1], "PLACEBO-MSC")
    active = fd.allocate(session, staff.clinician, patients[0], 1, NOW, [fd.containers(session, lot)[0].id])
    dummy = fd.allocate(
        session, staff.clinician, patients[1], 1, NOW, [fd.containers(session, placebo)[0].id]
    )
    return active, dummy


def din_scan(container) -> str:
    """What a hand scanner types from the DIN bar code (data identifier, DIN, flags)."""
    return f"={container.lot.din}00"


def record(session, giver, receiver, allocation, event, *, scan=None, **details):
    """Record one custody event through the service, as `giver` handing over to `receiver`."""
    details.setdefault("place", "Cell therapy unit, room 2")
    if event in ("shipped",):
        details.setdefault("shipper", "World Courier")
    if event in ("shipped", "received_at_site"):
        details.setdefault("logger_id", "LOG-0042")
    if event in ("received_at_site", "returned"):
        details.setdefault("condition_on_receipt", "Dry shipper intact, seal unbroken")
    if event == "administered":
        details.setdefault("subject_id_checked", allocation.patient.subject_id)
    container = allocation.containers[0]
    with unit_of_work(session, actor_for(giver), f"custody: {event}"):
        return custody.record_custody_event(
            session,
            allocation,
            scan or din_scan(container),
            event,
            user=giver,
            password=PASSWORD,
            receiver_username=receiver.username,
            receiver_password=PASSWORD,
            **details,
        )
