"""Home page (each user's work queues and unread notifications, issue 20) and the scan box: a hand scanner types a bar code plus Enter (or a person types an
identifier); each domain's resolvers find the record. A scan that finds nothing, or only a record the
user may not open, leaves the user on the page they were on with a message next to the scan box."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from bank import isbt128, queues
from bank.auth_views import safe_next
from bank.clock import today
from bank.forms import ConfirmForm
from bank.i18n import t
from bank.languages import flash
from bank.notifications import services as notifications
from bank.permissions import hidden_by_blinding
from bank.refusals import MASKED_RECORD_MESSAGE
from bank.web import AUTHENTICATED_VIEW, db, requires

bp = Blueprint("home", __name__)

MAX_SCAN = 200


@dataclass(frozen=True)
class ScanQuery:
    """What the scan box received: `text` as typed (trimmed) and, when it is an ISBT 128 identifier,
    `isbt` (bank.isbt128.parse_lookup: DIN, flags, product code). Resolvers
    (`app.extensions["bank.scan_resolvers"]`, `resolver(session, query) -> url | None`) read either."""

    text: str
    isbt: isbt128.ScanResult | None = None

    @property
    def din(self) -> str | None:
        return self.isbt.din if self.isbt else None

    @property
    def product_code(self) -> str | None:
        return self.isbt.product_code if self.isbt else None


@dataclass(frozen=True)
class ShownQueue:
    queue: queues.Queue
    listing: queues.Listing


def work_queues() -> list[ShownQueue]:
    """The queues the user's permissions open, each listed (most urgent first, count capped)."""
    config = current_app.config
    context = queues.Context(
        actor=g.actor,
        today=today(),
        material_days=config["QUEUE_MATERIAL_EXPIRY_DAYS"],
        dose_days=config["QUEUE_DOSE_DAYS"],
    )
    return [
        ShownQueue(q, q.items(db(), context)) for q in queues.queues_for(current_app, g.actor.permissions)
    ]


@bp.route("/")
@requires(AUTHENTICATED_VIEW)
def index():
    """The user's home: unread notifications, then each work queue with its count and first items."""
    return render_template(
        "home.html",
        shown=work_queues(),
        alerts=notifications.latest(db(), g.user.id, unread_only=True),
        today=today(),
        notification_form=ConfirmForm(),
    )


def _stay(back: str, message):
    """Back to the page the scan was made on, the message shown next to the scan box (base.html)."""
    flash(message, "scan")
    return redirect(back)


def _may_open(target: str) -> str:
    """'yes', 'masked' (missing only because the user is blinded) or 'no' for a resolver's address."""
    try:
        endpoint, _ = current_app.url_map.bind("").match(urlsplit(target).path, method="GET")
    except HTTPException:
        return "no"
    permission = getattr(current_app.view_functions[endpoint], "permission", None)
    if permission in g.actor.permissions:
        return "yes"
    return "masked" if hidden_by_blinding(permission, g.user.role_list, g.actor.permissions) else "no"


@bp.route("/scan")
@requires(AUTHENTICATED_VIEW)
def scan():
    code = request.args.get("code", "").strip()
    back = safe_next(request.args.get("back") or urlsplit(request.referrer or "").path or None)
    if not code:
        return _stay(back, t("Scan or type a code first."))
    if len(code) > MAX_SCAN:
        return _stay(
            back, t("Not a code this system prints: more than %(max)s characters were typed.", max=MAX_SCAN)
        )
    try:
        query = ScanQuery(code, isbt128.parse_lookup(code))
    except isbt128.Isbt128Error as e:
        return _stay(back, t("Scan not recognised: %(error)s.", error=e.args[0] if e.args else str(e)))
    seen = set()
    for resolver in current_app.extensions["bank.scan_resolvers"]:
        target = resolver(db(), query)
        if not target:
            continue
        verdict = _may_open(target)
        if verdict == "yes":
            return redirect(target)
        seen.add(verdict)
    if "masked" in seen:
        return _stay(back, MASKED_RECORD_MESSAGE)  # the words of a direct address, nothing more
    if seen:
        return _stay(back, t("You may not open the record that carries %(code)s.", code=code))
    return _stay(back, t("No record carries %(code)s: check the code, or scan the label again.", code=code))
