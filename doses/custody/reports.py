"""The custody report of one dose (DOMAIN.md §5, 21 CFR 11.50): where the cells came from (donor code →
harvest → lots → container) and where they went (patient), every custody event with both signature
manifestations, and the SHA-256 of the content in every footer, recomputed from the database to say
whether a print still matches the records.

For a user who is blinded to the protocol the genealogy and the cell counts are masked (a placebo has
no donor and no harvest, so showing them would unblind); the masked print has its own digest."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from bank import charts, pdf
from bank.i18n import localize
from bank.languages import facility_zone, local_time, number_text
from bank.refusals import Refused
from doses import services as dose_services
from doses.custody.models import CustodyEvent
from doses.custody.services import (
    STATED_FIELDS,
    active_containers,
    custody_events,
    logger_files_of,
    signatures_valid,
)
from doses.custody.states import KINDS
from doses.custody.temperature import temperature_record
from doses.models import Allocation
from doses.rules.words import millions
from lots.services.genealogy import trace_container

MASKED = "masked (blinded trial)"  # in the content (and its digest): stored English, shown translated


def _when(value: datetime | None) -> str | None:
    return pdf.format_utc(value) if value else None


def _signature(sig) -> dict:
    return {"printed_name": sig.printed_name, "meaning": sig.meaning, "signed_at": _when(sig.signed_at)}


def _event(e: CustodyEvent, protocol, permissions) -> dict:
    return {
        "sequence": e.sequence,
        "event": e.event,
        "label": KINDS[e.event].label,
        "occurred_at": _when(e.occurred_at),
        "recorded_at": _when(e.recorded_at),
        "container": dose_services.container_text(protocol, e.container, permissions),
        **{name: getattr(e, name) for name in STATED_FIELDS},
        "handed_over_by": _signature(e.handover_signature),
        "received_by": _signature(e.receipt_signature),
        "signatures_valid": signatures_valid(e),
    }


def _genealogy(session: Session, allocation: Allocation) -> list[dict]:
    out = []
    for container in active_containers(allocation) or allocation.containers:
        trace = trace_container(session, container)
        lots = []
        for step in reversed(trace.chain):  # from the harvest lot down to the container's lot
            h = step.harvest
            lots.append(
                {
                    "din": step.lot.din,
                    "check_char": step.lot.check_char,
                    "tier": step.lot.tier,
                    "product": f"{step.lot.product_type.key} v{step.lot.product_type.version}",
                    "status": step.lot.status,
                    "harvest": None
                    if h is None
                    else {
                        "tissue": h.tissue,
                        "collected_at": _when(h.collected_at),
                        "site": h.site,
                        "amount": f"{h.mass_g:g} g" if h.mass_g else f"{h.volume_ml:g} mL",
                    },
                }
            )
        out.append(
            {
                "container": container.identifier,
                "donor_code": trace.donor.code if trace.donor else None,
                "lots": lots,
            }
        )
    return out


def report_content(session: Session, allocation: Allocation, masked: bool) -> dict:
    """Everything the report shows, as plain data; its digest is printed in every footer."""
    protocol = allocation.patient.protocol_version.protocol()
    permissions = frozenset() if masked else frozenset({"unblinded"})
    text = dose_services.dose_text(protocol, allocation, permissions)
    shown = active_containers(allocation) or allocation.containers
    # A blinded dose whose bag differs from the protocol's matched presentation would be told apart on
    # the report as on the label: refused, never printed (doses.rules.blinding).
    mismatch = [p for c in shown for p in dose_services.presentation_check(session, protocol, c)]
    if mismatch:
        raise Refused(problems=mismatch)
    hide = masked and protocol.blinded
    containers = [
        {
            "identifier": dose_services.container_text(protocol, c, permissions),
            "din": c.lot.din,
            "check_char": c.lot.check_char,
            "product_code": dose_services.visible_code(protocol, c) if hide else c.product_code,
            "volume_ml": c.volume_ml,
            "cells": MASKED if masked and protocol.blinded else c.cells,
            "expires_at": _when(c.expires_at),
            "status": c.status,
        }
        for c in shown
    ]
    return {
        "masked": bool(masked and protocol.blinded),
        "dose": {
            "allocation": allocation.id,
            "subject_id": allocation.patient.subject_id,
            "site": allocation.patient.site,
            "protocol": allocation.patient.protocol_version.label,
            "dose_number": allocation.dose_number,
            "status": allocation.status,
            "planned_at": _when(allocation.planned_at),
            "administered_at": _when(allocation.administered_at),
            "treatment": text.treatment,
            "product": text.product,
        },
        "genealogy": MASKED if masked and protocol.blinded else _genealogy(session, allocation),
        "containers": containers,
        "events": _events(session, allocation, protocol, permissions),
    }


def _events(session: Session, allocation: Allocation, protocol, permissions) -> list[dict]:
    """The dose's custody events; an event with a logger file carries the file's digest and figures (an
    event without one reads as it always did, so earlier prints still check)."""
    events = custody_events(session, allocation)
    files = logger_files_of(session, events)
    out = []
    for e in events:
        row = _event(e, protocol, permissions)
        if e.id in files:
            f = files[e.id]
            row["logger_file"] = {
                "filename": f.filename,
                "sha256": f.sha256,
                "readings": f.reading_count,
                "minimum_c": f.minimum_c,
                "maximum_c": f.maximum_c,
                "first_at": _when(f.first_at),
                "last_at": _when(f.last_at),
            }
        out.append(row)
    return out


def report_digest(session: Session, allocation: Allocation, masked: bool) -> str:
    return pdf.content_digest(report_content(session, allocation, masked))


def digest_check(session: Session, allocation: Allocation, digest: str) -> str | None:
    """Which print the digest belongs to, as the records stand now: 'full', 'masked', or None when
    it matches neither (the records changed since printing, or the digest was mistyped)."""
    wanted = "".join((digest or "").split()).lower()
    for kind, masked in (("full", False), ("masked", True)):
        if report_digest(session, allocation, masked) == wanted:
            return kind
    return None


# The report is drawn in the reader's language with times on the facility's clock (bank.languages); its
# content, and so its digest, stays the stored English and UTC of report_content.


def _time(text: str | None) -> str | None:
    """A UTC time of the content (bank.pdf.format_utc) on the facility's wall clock, with its zone, in the
    reader's notation."""
    return local_time(_utc(text), seconds=True) if text else None


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace(" UTC", "+00:00"))


def _sig_text(s: dict) -> str:
    return f"{s['printed_name']}\n{localize(s['meaning'])}\n{_time(s['signed_at'])}"


def _degrees(value: float | None) -> str:
    return "—" if value is None else number_text(value)


def _transport(e: dict) -> str:
    parts = []
    if e["shipper"]:
        parts.append(_("Shipper: %(shipper)s", shipper=e["shipper"]))
    if e["logger_id"]:
        parts.append(_("Logger: %(logger)s", logger=e["logger_id"]))
    if e["temperature_min_c"] is not None or e["temperature_max_c"] is not None:
        parts.append(
            _(
                "Min %(low)s °C / max %(high)s °C",
                low=_degrees(e["temperature_min_c"]),
                high=_degrees(e["temperature_max_c"]),
            )
        )
    parts.append(
        _("EXCURSION: %(what)s", what=e["excursion_description"]) if e["excursion"] else _("No excursion")
    )
    return "\n".join(parts)


def _checks(e: dict) -> str:
    parts = [_("Scanned: %(code)s", code=e["scanned_code"])]
    if e["subject_id_checked"]:
        parts.append(_("Wristband: %(subject)s", subject=e["subject_id_checked"]))
    if e["condition_on_receipt"]:
        parts.append(_("Condition: %(condition)s", condition=e["condition_on_receipt"]))
    if e["notes"]:
        parts.append(_("Notes: %(notes)s", notes=e["notes"]))
    if not e["signatures_valid"]:
        parts.append(_("SIGNATURES NOT VALID: the record changed after signing"))
    return "\n".join(parts)


def _status(word: str) -> str:
    return localize(word.replace("_", " "))


def report_document(
    session: Session, allocation: Allocation, facility: str, masked: bool, printed_at: datetime | None = None
) -> pdf.Document:
    content = report_content(session, allocation, masked)
    dose = content["dose"]
    masked_text = _("masked (blinded trial)")
    sections: list = [
        pdf.KeyValueSection(
            _("Dose"),
            [
                (_("Subject"), f"{dose['subject_id']} ({dose['site']})"),
                (_("Protocol"), dose["protocol"]),
                (_("Dose"), str(dose["dose_number"])),
                (_("Treatment"), localize(dose["treatment"])),
                (_("Product"), localize(dose["product"])),
                (_("Status"), _status(dose["status"])),
                (_("Planned"), _time(dose["planned_at"]) or "—"),
                (_("Administered"), _time(dose["administered_at"]) or _("not administered")),
                (_("Times"), _("%(zone)s (the facility's clock)", zone=facility_zone().key)),
            ],
        )
    ]
    for c in content["containers"]:
        cells = (
            masked_text
            if isinstance(c["cells"], str)
            else _("%(cells)s × 10⁶ viable cells", cells=number_text(millions(c["cells"])))
        )
        sections.append(
            pdf.KeyValueSection(
                _("Container %(container)s", container=c["identifier"]),
                [
                    ("DIN", pdf.DinText(c["din"], c["check_char"])),
                    (_("Product code"), c["product_code"]),
                    (
                        _("Content"),
                        _("%(cells)s; %(volume)s mL", cells=cells, volume=number_text(c["volume_ml"])),
                    ),
                    (_("Expires"), _time(c["expires_at"])),
                    (_("Container status"), _status(c["status"])),
                ],
            )
        )
    rows: list[list[str]] = []
    if isinstance(content["genealogy"], str):
        rows.append([_("Donor, harvest, lots"), masked_text, _("shown to unblinded users only")])
    else:
        for g in content["genealogy"]:
            rows.append([_("Donor"), g["donor_code"] or _("none (placebo: suspension media)"), ""])
            for lot in g["lots"]:
                h = lot["harvest"]
                if h:
                    rows.append(
                        [
                            _("Harvest"),
                            f"{localize(h['tissue'].replace('_', ' '))}, {h['amount']}",
                            f"{_time(h['collected_at'])}, {h['site']}",
                        ]
                    )
                rows.append(
                    [
                        _("Lot (%(tier)s)", tier=localize(lot["tier"])),
                        f"{lot['din'][:5]} {lot['din'][5:7]} {lot['din'][7:]} [{lot['check_char']}]",
                        f"{lot['product']}, {_status(lot['status'])}",
                    ]
                )
            rows.append([_("Container"), g["container"], ""])
    rows.append(
        [
            _("Patient"),
            f"{dose['subject_id']}",
            _("%(protocol)s, dose %(number)s", protocol=dose["protocol"], number=dose["dose_number"]),
        ]
    )
    sections.append(
        pdf.TableSection(
            _("Genealogy: from the donor to the patient"),
            [_("Step"), _("Record"), _("Details")],
            rows,
            widths=[1.2, 2.2, 3],
        )
    )
    sections.append(
        pdf.TableSection(
            _("Chain of custody"),
            [
                "#",
                _("Event, time, place"),
                _("Handed over by"),
                _("Received by"),
                _("Transport and temperature"),
                _("Checks"),
            ],
            [
                [
                    str(e["sequence"]),
                    f"{localize(e['label'])}\n{_time(e['occurred_at'])}\n{e['place']}",
                    _sig_text(e["handed_over_by"]),
                    _sig_text(e["received_by"]),
                    _transport(e),
                    _checks(e),
                ]
                for e in content["events"]
            ],
            widths=[0.35, 1.6, 1.5, 1.5, 1.6, 1.9],
            empty_text=_("No custody event recorded yet: the dose is in storage."),
        )
    )
    events = {e.id: e for e in custody_events(session, allocation)}
    for event_id, row in logger_files_of(session, list(events.values())).items():
        record = temperature_record(row, events[event_id])
        sections.append(
            pdf.ChartSection(
                _("Temperature record of event %(number)s", number=events[event_id].sequence),
                charts.drawing(record.chart()),
                record.columns(),
                record.rows(),
            )
        )
    signatures = [
        pdf.Signature(
            s["printed_name"],
            _("%(meaning)s (event %(number)s)", meaning=localize(s["meaning"]), number=e["sequence"]),
            _utc(s["signed_at"]),
        )
        for e in content["events"]
        for s in (e["handed_over_by"], e["received_by"])
    ]
    return pdf.Document(
        title=_("Chain of custody report"),
        facility=facility,
        sections=sections,
        content=content,
        signatures=signatures,
        printed_at=printed_at,
        reference=_("%(subject)s · dose %(number)s", subject=dose["subject_id"], number=dose["dose_number"]),
    )


def report_pdf(
    session: Session,
    allocation: Allocation,
    facility: str,
    masked: bool,
    printed_at: datetime | None = None,
    deterministic: bool = False,
) -> bytes:
    return pdf.build_document(
        report_document(session, allocation, facility, masked, printed_at), deterministic=deterministic
    )
