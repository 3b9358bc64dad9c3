"""The custody report of one dose (DOMAIN.md §5, 21 CFR 11.50): where the cells came from (donor code →
harvest → lots → container) and where they went (patient), every custody event with both signature
manifestations, and the SHA-256 of the content in every footer, recomputed from the database to say
whether a print still matches the records.

For a user who is blinded to the protocol the genealogy and the cell counts are masked (a placebo has
no donor and no harvest, so showing them would unblind); the masked print has its own digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bank import pdf
from bank.refusals import Refused
from doses import services as dose_services
from doses.custody.models import CustodyEvent
from doses.custody.services import active_containers, custody_events, signatures_valid
from doses.custody.states import KINDS
from doses.models import Allocation
from lots.services.genealogy import trace_container

MASKED = "masked (blinded trial)"


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
        "place": e.place,
        "container": dose_services.container_text(protocol, e.container, permissions),
        "scanned_code": e.scanned_code,
        "shipper": e.shipper,
        "logger_id": e.logger_id,
        "temperature_min_c": e.temperature_min_c,
        "temperature_max_c": e.temperature_max_c,
        "excursion": e.excursion,
        "excursion_description": e.excursion_description,
        "condition_on_receipt": e.condition_on_receipt,
        "subject_id_checked": e.subject_id_checked,
        "notes": e.notes,
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
        "events": [_event(e, protocol, permissions) for e in custody_events(session, allocation)],
    }


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


def _sig_text(s: dict) -> str:
    return f"{s['printed_name']}\n{s['meaning']}\n{s['signed_at']}"


def _transport(e: dict) -> str:
    parts = []
    if e["shipper"]:
        parts.append(f"Shipper: {e['shipper']}")
    if e["logger_id"]:
        parts.append(f"Logger: {e['logger_id']}")
    if e["temperature_min_c"] is not None or e["temperature_max_c"] is not None:
        lo = "—" if e["temperature_min_c"] is None else f"{e['temperature_min_c']:g}"
        hi = "—" if e["temperature_max_c"] is None else f"{e['temperature_max_c']:g}"
        parts.append(f"Min {lo} °C / max {hi} °C")
    parts.append(f"EXCURSION: {e['excursion_description']}" if e["excursion"] else "No excursion")
    return "\n".join(parts)


def _checks(e: dict) -> str:
    parts = [f"Scanned: {e['scanned_code']}"]
    if e["subject_id_checked"]:
        parts.append(f"Wristband: {e['subject_id_checked']}")
    if e["condition_on_receipt"]:
        parts.append(f"Condition: {e['condition_on_receipt']}")
    if e["notes"]:
        parts.append(f"Notes: {e['notes']}")
    if not e["signatures_valid"]:
        parts.append("SIGNATURES NOT VALID: the record changed after signing")
    return "\n".join(parts)


def report_document(
    session: Session, allocation: Allocation, facility: str, masked: bool, printed_at: datetime | None = None
) -> pdf.Document:
    content = report_content(session, allocation, masked)
    dose = content["dose"]
    sections: list = [
        pdf.KeyValueSection(
            "Dose",
            [
                ("Subject", f"{dose['subject_id']} ({dose['site']})"),
                ("Protocol", dose["protocol"]),
                ("Dose", str(dose["dose_number"])),
                ("Treatment", dose["treatment"]),
                ("Product", dose["product"]),
                ("Status", dose["status"].replace("_", " ")),
                ("Planned", dose["planned_at"] or "—"),
                ("Administered", dose["administered_at"] or "not administered"),
            ],
        )
    ]
    for c in content["containers"]:
        cells = c["cells"] if isinstance(c["cells"], str) else f"{c['cells'] / 1e6:g} × 10⁶ viable cells"
        sections.append(
            pdf.KeyValueSection(
                f"Container {c['identifier']}",
                [
                    ("DIN", pdf.DinText(c["din"], c["check_char"])),
                    ("Product code", c["product_code"]),
                    ("Content", f"{cells}; {c['volume_ml']:g} mL"),
                    ("Expires", c["expires_at"]),
                    ("Container status", c["status"]),
                ],
            )
        )
    rows: list[list[str]] = []
    if isinstance(content["genealogy"], str):
        rows.append(["Donor, harvest, lots", MASKED, "shown to unblinded users only"])
    else:
        for g in content["genealogy"]:
            rows.append(["Donor", g["donor_code"] or "none (placebo: suspension media)", ""])
            for lot in g["lots"]:
                h = lot["harvest"]
                if h:
                    rows.append(
                        [
                            "Harvest",
                            f"{h['tissue'].replace('_', ' ')}, {h['amount']}",
                            f"{h['collected_at']}, {h['site']}",
                        ]
                    )
                rows.append(
                    [
                        f"Lot ({lot['tier']})",
                        f"{lot['din'][:5]} {lot['din'][5:7]} {lot['din'][7:]} [{lot['check_char']}]",
                        f"{lot['product']}, {lot['status'].replace('_', ' ')}",
                    ]
                )
            rows.append(["Container", g["container"], ""])
    rows.append(["Patient", f"{dose['subject_id']}", f"{dose['protocol']}, dose {dose['dose_number']}"])
    sections.append(
        pdf.TableSection(
            "Genealogy: from the donor to the patient",
            ["Step", "Record", "Details"],
            rows,
            widths=[1.2, 2.2, 3],
        )
    )
    sections.append(
        pdf.TableSection(
            "Chain of custody",
            [
                "#",
                "Event, time (UTC), place",
                "Handed over by",
                "Received by",
                "Transport and temperature",
                "Checks",
            ],
            [
                [
                    str(e["sequence"]),
                    f"{e['label']}\n{e['occurred_at']}\n{e['place']}",
                    _sig_text(e["handed_over_by"]),
                    _sig_text(e["received_by"]),
                    _transport(e),
                    _checks(e),
                ]
                for e in content["events"]
            ],
            widths=[0.35, 1.6, 1.5, 1.5, 1.6, 1.9],
            empty_text="No custody event recorded yet: the dose is in storage.",
        )
    )
    signatures = [
        pdf.Signature(
            s["printed_name"],
            f"{s['meaning']} (event {e['sequence']})",
            datetime.fromisoformat(s["signed_at"].replace(" UTC", "+00:00")),
        )
        for e in content["events"]
        for s in (e["handed_over_by"], e["received_by"])
    ]
    return pdf.Document(
        title="Chain of custody report",
        facility=facility,
        sections=sections,
        content=content,
        signatures=signatures,
        printed_at=printed_at,
        reference=f"{dose['subject_id']} · dose {dose['dose_number']}",
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
