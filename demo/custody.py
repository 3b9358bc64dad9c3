"""Demo custody: labels printed for allocated doses, one dose carried from the tank to the bedside,
and one shipment with a temperature excursion that put the dose on hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bank.audit import record_event
from bank.isbt128 import check_character
from doses.custody.services import record_custody_event
from doses.labels import dose_labels, labels_pdf
from doses.services import lots_released_at


def print_labels(f, allocation, zone: str, facility_name: str) -> bytes:
    with f.work(f.staff.pharmacist, "demo: labels printed"):
        data = dose_labels(f.s, allocation, facility_name=facility_name, zone=ZoneInfo(zone), show_utc=True)
        pdf = labels_pdf(data, "100x100", 1)
        record_event(
            f.s,
            "view",
            "allocations",
            allocation.id,
            {"labels printed": [None, f"{len(data)} × 1 100x100 pdf"]},
        )
    return pdf


def _scan(allocation) -> str:
    """What a person types when the scanner fails: the DIN with its check character."""
    din = allocation.containers[0].lot.din
    return din + check_character(din)


def carry(f, allocation, steps, start: datetime) -> None:
    """Record each (event, giver, receiver, place, extra fields) hand-off, one hour apart — or closer when
    the lot was released more recently: no hand-off precedes the release (the demo releases its lots as
    it builds the facility, so its custody stories happen in the minutes after)."""
    now = datetime.now(UTC).replace(microsecond=0)
    released = lots_released_at(f.s, allocation)
    if released is not None and released > start:
        start = released
    gap = min(timedelta(hours=1), max(now - start, timedelta(0)) / (len(steps) + 1))
    for i, (event, giver, receiver, place, extra) in enumerate(steps):
        with f.work(giver, f"demo: custody {event}"):
            record_custody_event(
                f.s,
                allocation,
                _scan(allocation),
                event,
                user=giver,
                password=f.password,
                receiver_username=receiver.username,
                receiver_password=f.password,
                place=place,
                occurred_at=start + gap * (i + 1),
                **extra,
            )


def _issued_and_packed(staff, logger_id: str) -> list:
    """How every shipment leaves the unit: issued from the tank, then packed in a CryoTrans dry shipper
    with its temperature logger."""
    return [
        ("issued_from_storage", staff.tech, staff.pharmacist, "Cell Therapy Unit, tank LN2-Tank 1", {}),
        (
            "packed",
            staff.pharmacist,
            staff.tech,
            "Cell Therapy Unit, dispatch",
            {"shipper": "CryoTrans", "logger_id": logger_id},
        ),
    ]


def custody_stories(f, allocations: dict, zone: str, facility_name: str) -> None:
    staff = f.staff
    for allocation in allocations.values():
        print_labels(f, allocation, zone, facility_name)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=8)
    maestro = allocations["MAESTRO-4MS"]
    logger = {
        "shipper": "CryoTrans",
        "logger_id": "LOG-4471",
        "temperature_min_c": -185.0,
        "temperature_max_c": -168.0,
    }
    carry(
        f,
        maestro,
        [
            *_issued_and_packed(staff, "LOG-4471"),
            (
                "shipped",
                staff.tech,
                staff.clinician,
                "Cell Therapy Unit to Rennes University Hospital",
                logger,
            ),
            (
                "received_at_site",
                staff.tech,
                staff.clinician,
                "Rennes University Hospital, pharmacy",
                {**logger, "condition_on_receipt": "dry shipper intact, seal unbroken"},
            ),
            ("thawed", staff.clinician, staff.pharmacist, "Rennes University Hospital, pharmacy", {}),
            (
                "administered",
                staff.pharmacist,
                staff.clinician,
                "Rennes University Hospital, neurology day unit",
                {"subject_id_checked": maestro.patient.subject_id},
            ),
        ],
        start,
    )
    ssc = allocations["MSC-AT-SSc"]
    carry(
        f,
        ssc,
        [
            *_issued_and_packed(staff, "LOG-4502"),
            (
                "shipped",
                staff.tech,
                staff.clinician,
                "Cell Therapy Unit to Saint-Louis Hospital",
                {
                    "shipper": "CryoTrans",
                    "logger_id": "LOG-4502",
                    "temperature_min_c": -181.0,
                    "temperature_max_c": -118.0,
                    "excursion": True,
                    "excursion_description": "Logger above −150 °C for 40 minutes during the transfer at the airport",
                },
            ),
        ],
        start,
    )
