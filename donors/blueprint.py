"""The donors blueprint and the view helpers shared by the screens (donors.views) and the API
(donors.api): the active criteria set a page works with."""

from __future__ import annotations

from flask import Blueprint, abort

from bank.web import db
from donors.models import CriteriaSetVersion
from donors.reference import NO_ACTIVE_CRITERIA, active_version

bp = Blueprint("donors", __name__, url_prefix="/donors")


def active_criteria() -> CriteriaSetVersion:
    """The active criteria version; a page without one answers 409 saying how to get one (pages never
    seed it: `flask init`, `flask donor-criteria-seed` and the demo do)."""
    row = active_version(db())
    if row is None:
        abort(409, description=NO_ACTIVE_CRITERIA.message)
    return row
