"""Late-result alerts for QA, certificates of analysis (PDF, digest check) and raw data downloads."""

from __future__ import annotations

import re

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from bank.clock import utcnow
from bank.web import apply_errors, db, get_or_404, paginate, requires, work
from lots.models import Lot
from release import services
from release.blueprint import bp
from release.forms import AcknowledgeForm, DigestCheckForm
from release.models import LateResultAlert, ResultAttachment
from release.reports import coa_pdf, digest_matches


@bp.route("/alerts")
@requires("release.view")
def alerts():
    status = request.args.get("status", "open")
    page = paginate(services.alerts_query(status if status in ("open", "acknowledged") else None))
    lots = {a.lot_id: db().get(Lot, a.lot_id) for a in page.items}
    return render_template("release/alerts.html", page=page, status=status, lots=lots, form=AcknowledgeForm())


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@requires("lot.release")
def acknowledge_alert(alert_id: int):
    alert = get_or_404(LateResultAlert, alert_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            with work("late result alert acknowledged"):
                services.acknowledge_alert(db(), alert, form.note.data)
        except services.ReleaseError as e:
            flash(" ".join(e.errors.values()), "danger")
        else:
            flash("Alert acknowledged.", "success")
    else:
        flash("Say what was done before acknowledging the alert.", "danger")
    return redirect(url_for("release.alerts"))


@bp.route("/lots/<int:lot_id>/certificate.pdf")
@requires("release.view")
def coa(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    body = coa_pdf(db(), lot, current_app.config["FACILITY_NAME"], printed_at=utcnow())
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="CoA-{lot.din}.pdf"'})


@bp.route("/certificates/check")
@requires("release.view")
def check_digest():
    """Does a printed certificate still say what the records say? (DIN + the digest in its footer)."""
    form = DigestCheckForm(request.args)
    outcome = None
    if request.args and form.validate():
        din = re.sub(r"[^A-Z0-9]", "", form.din.data.upper())[:13]  # spaces as printed, check character dropped
        lot = db().scalar(select(Lot).where(Lot.din == din))
        if lot is None:
            apply_errors(form, {"din": f"No lot with DIN {din}."})
        else:
            outcome = (lot, digest_matches(db(), lot, form.digest.data))
    return render_template("release/check.html", form=form, outcome=outcome)


@bp.route("/attachments/<int:attachment_id>")
@requires("release.view")
def attachment(attachment_id: int):
    item = get_or_404(ResultAttachment, attachment_id)
    # Always a download as octet-stream: an uploaded HTML or SVG file must never render in the app's origin.
    return Response(item.data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{item.filename}"', "X-Content-SHA256": item.sha256})
