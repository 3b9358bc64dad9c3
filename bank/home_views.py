"""Home page and the scan box: a hand scanner types an ISBT 128 code plus Enter; we find the record."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from bank import isbt128
from bank.web import AUTHENTICATED_VIEW, db, requires

bp = Blueprint("home", __name__)


@bp.route("/")
@requires(AUTHENTICATED_VIEW)
def index():
    return render_template("home.html")


@bp.route("/scan")
@requires(AUTHENTICATED_VIEW)
def scan():
    code = request.args.get("code", "").strip()
    back = (
        request.referrer
        if request.referrer and request.referrer.startswith(request.host_url)
        else url_for("home.index")
    )
    if not code:
        flash("Scan or type a bar code first.", "warning")
        return redirect(back)
    if len(code) > 200:
        flash("That is not an ISBT 128 code: more than 200 characters were typed.", "danger")
        return redirect(back)
    try:
        scanned = isbt128.parse_scan(code)
    except isbt128.Isbt128Error as e:
        flash(f"Scan not recognised: {e}", "danger")
        return redirect(back)
    for resolver in current_app.extensions["bank.scan_resolvers"]:
        target = resolver(db(), scanned)
        if target:
            return redirect(target)
    flash(f"No record carries the code {code}.", "warning")
    return redirect(back)
