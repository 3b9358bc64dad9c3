"""The executed batch record of a lot (PDF) and the check of a printed copy against the records."""

from __future__ import annotations

from flask import Response, current_app, request

from bank.clock import utcnow
from bank.verification.services import registry_of
from bank.web import db, get_or_404, requires
from lots.models import Lot
from release.batch_record import digest_matches
from release.batch_record_pdf import batch_record_pdf
from release.blueprint import bp
from release.forms import BatchRecordCheckForm
from release.views.documents import check_printed


@bp.route("/lots/<int:lot_id>/batch-record.pdf")
@requires("release.view")
def batch_record(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    body = batch_record_pdf(
        db(), lot, registry_of(current_app), current_app.config["FACILITY_NAME"], printed_at=utcnow()
    )
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="batch-record-{lot.din}.pdf"'},
    )


@bp.route("/batch-records/check")
@requires("release.view")
def check_batch_record():
    """Does a printed batch record still say what the records say? (DIN + the digest in its footer)."""
    return check_printed(
        BatchRecordCheckForm(request.args),
        lambda lot, digest: digest_matches(db(), lot, registry_of(current_app), digest),
        "batch_record",
    )
