"""Late-result alerts for QA: the list, and the acknowledgement of what was done."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from bank.i18n import N_, localize, t
from bank.languages import flash
from bank.lists import Export, SortColumn, listed, shown_time
from bank.web import db, get_or_404, requires, step
from lots.models import Lot
from release import services
from release.blueprint import bp
from release.forms import AcknowledgeForm
from release.models import LateResultAlert

ALERT_COLUMNS = (
    SortColumn("when", N_("When"), LateResultAlert.created_at),
    SortColumn("status", N_("Status"), LateResultAlert.status),
)
ALERT_WORDS = {"open": N_("open"), "acknowledged": N_("acknowledged")}


def _alert_row(a: LateResultAlert) -> tuple:
    """An alert in the CSV export: what its card shows."""
    lot = db().get(Lot, a.lot_id)
    return (
        f"{lot.din}" if lot else a.lot_id,
        shown_time(a.created_at),
        ", ".join(localize(w) for w in a.notify.split(", ")),
        localize(ALERT_WORDS.get(a.status, a.status)),
        localize(services.alert_text(db(), a)),
        " | ".join(a.container_list),
        " | ".join(a.patient_list),
        shown_time(a.acknowledged_at),
        a.acknowledgement or "",
    )


ALERT_EXPORT = Export(
    "late-result-alerts.csv",
    (
        "lot",
        "when",
        "notify",
        "status",
        "message",
        "containers",
        "patients",
        "acknowledged",
        "acknowledgement",
    ),
    _alert_row,
)


@bp.route("/alerts")
@requires("release.view")
def alerts():
    status = request.args.get("status", "open")
    stmt = services.alerts_query(status if status in ("open", "acknowledged") else None)
    order, page = listed(stmt, ALERT_COLUMNS, LateResultAlert.id, ALERT_EXPORT)
    lots = {a.lot_id: db().get(Lot, a.lot_id) for a in page.items}
    messages = {a.id: services.alert_text(db(), a) for a in page.items}
    return render_template(
        "release/alerts.html",
        page=page,
        status=status,
        lots=lots,
        form=AcknowledgeForm(),
        alert_messages=messages,
        sorting=order,
    )


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@requires("lot.release")
def acknowledge_alert(alert_id: int):
    alert = get_or_404(LateResultAlert, alert_id)
    form = AcknowledgeForm()
    if step(
        form,
        lambda: services.acknowledge_alert(db(), alert, form.note.data),
        "late result alert acknowledged",
        invalid=t("Say what was done before acknowledging the alert."),
    ).ok:
        flash(t("Alert acknowledged."), "success")
    return redirect(url_for("release.alerts"))
