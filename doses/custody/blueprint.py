"""The custody blueprint (labels and chain of custody pages) and what its pages and API share: the
facility's name and zone, and the audit record of printed labels (label reconciliation)."""

from __future__ import annotations

from flask import Blueprint, current_app

from bank.audit import record_event
from bank.web import db, work
from doses.blueprint import facility_zone  # noqa: F401  (shared by views and api)

bp = Blueprint("custody", __name__, url_prefix="/custody")


def facility() -> str:
    return current_app.config["FACILITY_NAME"]


def log_labels_printed(entity: str, entity_id: int, what: str, reason: str = "labels printed") -> None:
    """Printed labels are accounted for (label reconciliation): an audit event, action 'view' (an output)."""
    with work(reason):
        record_event(db(), "view", entity, entity_id, {"labels printed": [None, what]})
