"""Labels and chain of custody in the JSON API (same forms, services and permissions as the screens):
custody events of a dose (list, record the next one with both signatures), label PDF, custody report."""

from __future__ import annotations

from flask import Response, g, jsonify, request
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from bank.api import ApiInputError, api_route, api_write, fields_of, object_schema, of_type
from bank.clock import utcnow
from bank.forms import BankForm
from bank.i18n import t
from bank.labels import LABEL_SIZES
from bank.web import db, get_or_404, work
from doses import services as dose_services
from doses.custody import reports, services
from doses.custody.blueprint import facility, facility_zone, log_labels_printed
from doses.custody.forms import CustodyEventForm, event_details
from doses.custody.models import CustodyEvent, LoggerFile
from doses.custody.states import KINDS
from doses.models import Allocation
from doses.reports import MAX_COPIES, dose_labels, labels_pdf, packaging_for, validate_print
from doses.services import log_treatment_view, masked

EVENT = object_schema(
    **of_type("integer", "id", "sequence"),
    **of_type("string", "event", "occurred_at", "place", "container"),
    **of_type("object", "handed_over_by", "received_by"),
    **of_type("boolean", "excursion", "signatures_valid"),
)
LABEL_QUERY = {
    "size": {"type": "string", "enum": list(LABEL_SIZES)},
    "copies": {"type": "integer", "minimum": 1, "maximum": MAX_COPIES},
    "show_utc": {"type": "boolean"},
    "packaging": {
        "type": "string",
        "enum": ["outer", "immediate"],
        "description": "outer packaging (all Annex VI particulars) or immediate container (reduced set); "
        "default: outer for 100x100, immediate for 100x50",
    },
}


def _signature(sig) -> dict:
    return {
        "printed_name": sig.printed_name,
        "meaning": sig.meaning,
        "signed_at": sig.signed_at.isoformat(),
        "content_digest": sig.content_digest,
    }


def event_json(e: CustodyEvent) -> dict:
    return {
        **fields_of(e, "id", "allocation_id", "sequence", "event", "place", "scanned_code", "notes"),
        **fields_of(e, "shipper", "logger_id", "temperature_min_c", "temperature_max_c"),
        **fields_of(e, "excursion", "excursion_description", "condition_on_receipt", "subject_id_checked"),
        "label": KINDS[e.event].label,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "container": dose_services.container_text(
            e.allocation.patient.protocol_version.protocol(), e.container, g.actor.permissions
        ),
        "handed_over_by": {"username": e.handed_over_by.username, **_signature(e.handover_signature)},
        "received_by": {"username": e.received_by.username, **_signature(e.receipt_signature)},
        "signatures_valid": services.signatures_valid(e),
    }


@api_route(
    "/doses/<int:allocation_id>/custody-events",
    permission="dose.view",
    summary="The custody events of a dose, in order, with both signatures of each and the next permitted",
)
def custody_events_list(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    session = db()
    return jsonify(
        {
            "allocation_id": allocation.id,
            "status": allocation.status,
            "custody_state": services.custody_state(session, allocation),
            "next_permitted": services.permitted_events(session, allocation),
            "events": [event_json(e) for e in services.custody_events(session, allocation)],
        }
    )


@api_write(
    "/doses/<int:allocation_id>/custody-events",
    Allocation,
    form=CustodyEventForm,
    permission="custody.record",
    reason="custody event recorded (API)",
    answer=event_json,
    response=EVENT,
    summary="Record the next custody event: scanned label, the token owner hands over and signs "
    "(signature_password), the receiving person countersigns (receiver_username, receiver_password)",
)
def custody_events_record(allocation: Allocation, form: CustodyEventForm) -> CustodyEvent:
    return services.record_custody_event(
        db(), allocation, form.scanned_code.data, form.event.data, user=g.user, **event_details(form)
    )


@api_route(
    "/doses/<int:allocation_id>/labels.pdf",
    methods=("POST",),
    permission="label.print",
    produces="application/pdf",
    query=LABEL_QUERY,
    summary="The dose's labels as PDF (one page per label); refused (409) unless "
    "every container is released and the dose allocated or issued",
)
def dose_labels_pdf(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    size, copies = request.args.get("size", "100x100"), request.args.get("copies", "1")
    packaging = request.args.get("packaging")
    errors = validate_print(size, copies, packaging)
    show_utc = request.args.get("show_utc", "false").lower()
    if show_utc not in ("true", "false", "1", "0", ""):
        errors["show_utc"] = t("Must be true or false.")
    if errors:
        raise ApiInputError(errors)
    data = dose_labels(
        db(),
        allocation,
        facility_name=facility(),
        zone=facility_zone(),
        show_utc=show_utc in ("true", "1"),
        packaging=packaging_for(size, packaging),
    )
    body = labels_pdf(data, size, int(copies))
    log_labels_printed(
        "allocations",
        allocation.id,
        f"{len(data)} × {int(copies)} {size} {packaging_for(size, packaging)} pdf",
        "labels printed (API)",
    )
    return Response(body, mimetype="application/pdf")


@api_route(
    "/doses/<int:allocation_id>/custody-report.pdf",
    permission="dose.view",
    produces="application/pdf",
    summary="The custody report PDF of a dose (genealogy masked for users blinded to the protocol)",
)
def dose_custody_report_pdf(allocation_id: int):
    allocation = get_or_404(Allocation, allocation_id)
    protocol = allocation.patient.protocol_version.protocol()
    hidden = masked(protocol, g.actor.permissions)
    body = reports.report_pdf(db(), allocation, facility(), hidden, printed_at=utcnow())
    if protocol.blinded and not hidden:  # logged once the report exists: a refused one showed nothing
        with work("unblinded view: custody report (API)"):
            log_treatment_view(db(), [allocation.patient], f"custody report of dose #{allocation.id} (API)")
    return Response(body, mimetype="application/pdf")


class LoggerUpload(BankForm):
    """The logger file as JSON: its name and its CSV text (the same reading as the screen's upload)."""

    filename = StringField(validators=[Optional(), Length(max=200)])
    csv = TextAreaField(validators=[DataRequired(message=t("Send the CSV text of the logger file."))])


def _logger_file_json(row: LoggerFile) -> dict:
    return {
        **fields_of(row, "event_id", "filename", "sha256", "minimum_c", "maximum_c"),
        "readings": row.reading_count,
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
    }


@api_write(
    "/custody-events/<int:event_id>/logger-file",
    CustodyEvent,
    form=LoggerUpload,
    permission="custody.record",
    reason="logger file attached (API)",
    answer=_logger_file_json,
    summary="Attach the shipper's temperature logger file (CSV text) to a custody event, once; every "
    "bad line is named (409) and nothing is kept",
)
def custody_logger_file(event: CustodyEvent, form: LoggerUpload) -> LoggerFile:
    csv = form.csv.data.encode("utf-8")
    return services.attach_logger_file(db(), event, form.filename.data or "logger.csv", csv, facility_zone())
