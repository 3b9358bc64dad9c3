"""Late-result alerts for QA: the list, and the acknowledgement of what was done."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from bank.i18n import localize, t
from bank.languages import flash
from bank.web import attempt, db, get_or_404, paginate, requires
from lots.models import Lot
from release import services
from release.blueprint import bp
from release.forms import AcknowledgeForm
from release.models import LateResultAlert


@bp.route("/alerts")
@requires("release.view")
def alerts():
    status = request.args.get("status", "open")
    page = paginate(services.alerts_query(status if status in ("open", "acknowledged") else None))
    lots = {a.lot_id: db().get(Lot, a.lot_id) for a in page.items}
    messages = {a.id: services.alert_text(db(), a) for a in page.items}
    return render_template(
        "release/alerts.html",
        page=page,
        status=status,
        lots=lots,
        form=AcknowledgeForm(),
        alert_messages=messages,
    )


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@requires("lot.release")
def acknowledge_alert(alert_id: int):
    alert = get_or_404(LateResultAlert, alert_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        done = attempt(
            form,
            lambda: services.acknowledge_alert(db(), alert, form.note.data),
            "late result alert acknowledged",
        )
        if done.ok:
            flash(t("Alert acknowledged."), "success")
        else:
            flash(
                " ".join(localize(m) for m in [*done.problems, *(e for f in form for e in f.errors)]),
                "danger",
            )
    else:
        flash(t("Say what was done before acknowledging the alert."), "danger")
    return redirect(url_for("release.alerts"))
