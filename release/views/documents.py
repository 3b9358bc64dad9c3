"""Certificates of analysis (PDF, digest check) and raw data downloads."""

from __future__ import annotations

import re

from flask import Response, current_app, render_template, request
from sqlalchemy import select

from bank.clock import utcnow
from bank.i18n import t
from bank.web import apply_errors, db, get_or_404, requires
from lots.models import Lot
from release.blueprint import bp
from release.forms import DigestCheckForm
from release.models import ResultAttachment
from release.reports import coa_pdf, digest_matches


@bp.route("/lots/<int:lot_id>/certificate.pdf")
@requires("release.view")
def coa(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    body = coa_pdf(db(), lot, current_app.config["FACILITY_NAME"], printed_at=utcnow())
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="CoA-{lot.din}.pdf"'},
    )


def check_printed(form, matches, document: str):
    """Does a printed document (`document`: "certificate" or "batch_record") still say what the records
    say? `form` holds the DIN and the digest typed from its footer; `matches(lot, digest)` recomputes the
    digest from the records as they are now."""
    outcome = None
    if request.args and form.validate():
        din = re.sub(r"[^A-Z0-9]", "", form.din.data.upper())[
            :13
        ]  # spaces as printed, check character dropped
        lot = db().scalar(select(Lot).where(Lot.din == din))
        if lot is None:
            apply_errors(form, {"din": t("No lot with DIN %(din)s.", din=din)})
        else:
            outcome = (lot, matches(lot, form.digest.data))
    return render_template("release/printed_check.html", form=form, outcome=outcome, document=document)


@bp.route("/certificates/check")
@requires("release.view")
def check_digest():
    """Does a printed certificate still say what the records say? (DIN + the digest in its footer)."""
    return check_printed(
        DigestCheckForm(request.args), lambda lot, digest: digest_matches(db(), lot, digest), "certificate"
    )


@bp.route("/attachments/<int:attachment_id>")
@requires("release.view")
def attachment(attachment_id: int):
    item = get_or_404(ResultAttachment, attachment_id)
    # Always a download as octet-stream: an uploaded HTML or SVG file must never render in the app's origin.
    return Response(
        item.data,
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{item.filename}"',
            "X-Content-SHA256": item.sha256,
        },
    )
