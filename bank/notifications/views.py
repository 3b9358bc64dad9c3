"""Pages of notifications: the list (unread marked, opened or marked read), and each user's e-mail
preferences under /account with the e-mails recorded for them; the unread count beside every page's menu."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for

from bank.forms import ConfirmForm
from bank.i18n import t
from bank.languages import flash
from bank.notifications import services
from bank.notifications.forms import PreferencesForm
from bank.notifications.models import Notification
from bank.web import AUTHENTICATED_VIEW, can, confirmed, db, own_or_404, requires, submitted

bp = Blueprint("notifications", __name__)
LISTED = 100


def link_of(notification: Notification) -> str | None:
    if not notification.endpoint:
        return None
    return url_for(notification.endpoint, **notification.link_arguments)


@bp.route("/notifications/")
@requires(AUTHENTICATED_VIEW)
def index():
    rows = services.latest(db(), g.user.id, limit=LISTED)
    return render_template("notifications/index.html", rows=rows, form=ConfirmForm(), link_of=link_of)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@requires(AUTHENTICATED_VIEW)
def open_one(notification_id: int):
    row = own_or_404(Notification, notification_id)
    confirmed(ConfirmForm(), lambda: services.mark_read(db(), g.user.id, [row.id]), "notification read")
    return redirect(link_of(row) or url_for("notifications.index"))


@bp.route("/notifications/read", methods=["POST"])
@requires(AUTHENTICATED_VIEW)
def read_all():
    count = confirmed(ConfirmForm(), lambda: services.mark_read(db(), g.user.id), "notifications read")
    flash(t("%(count)s notifications marked read.", count=count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@requires(AUTHENTICATED_VIEW)
def preferences():
    form = PreferencesForm()
    kinds = services.kinds_for(g.actor.permissions)
    form.kinds.choices = [(k, t(services.KINDS[k].label)) for k in kinds]
    if request.method == "GET":
        row = services.settings_of(db(), g.user.id)
        form.email.data = row.email if row else ""
        form.kinds.data = sorted(row.kinds) if row else []
    elif submitted(
        form,
        lambda: services.save_settings(db(), g.user, form.email.data, form.kinds.data or []),
        "notification preferences changed",
    ):
        flash(t("Your notification preferences are saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
        deliveries=services.deliveries_of(db(), g.user.id),
        everyone=services.deliveries_with_people(db()) if can("user.manage") else None,
        smtp=bool(current_app.config.get("SMTP_HOST")),
    )


def init_app(app: Flask) -> None:
    from bank.notifications import cli

    app.register_blueprint(bp)
    cli.register(app)

    @app.context_processor
    def unread_notifications():
        def unread() -> int:
            user = g.get("user")
            return services.unread_count(db(), user.id) if user is not None else 0

        return {"unread_notifications": unread}
