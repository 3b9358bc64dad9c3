"""The executed batch record of a lot (PDF) and the check of a printed copy against the records."""

from __future__ import annotations

import re

from flask import Response, current_app, render_template, request
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from bank.clock import utcnow
from bank.forms import BankForm
from bank.i18n import t
from bank.verification.services import registry_of
from bank.web import apply_errors, db, get_or_404, requires
from lots.models import Lot
from release.batch_record import digest_matches
from release.batch_record_pdf import batch_record_pdf
from release.blueprint import bp


class BatchRecordCheckForm(BankForm):
    class Meta:
        csrf = False  # a read-only lookup, safe as GET

    din = StringField(t("DIN (13 characters, as printed)"), validators=[DataRequired(), Length(max=40)])
    digest = StringField(
        t("Content SHA-256 printed in the batch record's footer"),
        validators=[DataRequired(), Length(max=100)],
    )


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
    form = BatchRecordCheckForm(request.args)
    outcome = None
    if request.args and form.validate():
        din = re.sub(r"[^A-Z0-9]", "", form.din.data.upper())[
            :13
        ]  # spaces as printed, check character dropped
        lot = db().scalar(select(Lot).where(Lot.din == din))
        if lot is None:
            apply_errors(form, {"din": t("No lot with DIN %(din)s.", din=din)})
        else:
            outcome = (lot, digest_matches(db(), lot, registry_of(current_app), form.digest.data))
    return render_template("release/batch_record_check.html", form=form, outcome=outcome)
