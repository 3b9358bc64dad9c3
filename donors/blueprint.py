"""The donors blueprint and the view helpers shared by the screens (donors.views) and the API
(donors.api): the active criteria set a page works with."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, make_response, render_template, request

from bank.i18n import localize, t
from bank.web import db
from donors.models import CriteriaSetVersion
from donors.reference import NO_ACTIVE_CRITERIA
from donors.services.criteria import active_version

bp = Blueprint("donors", __name__, url_prefix="/donors")
NO_CRITERIA_TITLE = t("No active donor criteria set")


def active_criteria() -> CriteriaSetVersion:
    """The active criteria version. Without one a page (or API call) answers 409 saying how to get one:
    pages never seed it (`flask init`, `flask donor-criteria-seed` and the demo do)."""
    row = active_version(db())
    if row is None:
        title, message = localize(NO_CRITERIA_TITLE), localize(NO_ACTIVE_CRITERIA.message)
        if request.path.startswith("/api/"):
            abort(
                make_response(jsonify(error=title, message=message, rule_id=NO_ACTIVE_CRITERIA.rule_id), 409)
            )
        abort(
            make_response(render_template("errors/error.html", code=409, title=title, message=message), 409)
        )
    return row
