"""The doses blueprint and what its pages share: refusals put on forms, the facility's time zone, and
whether the signed-in user reads a protocol's doses masked."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g

from bank.esign import SignatureError
from bank.status import TransitionRefused
from bank.web import apply_errors, db, work
from doses import services
from doses.protocols import Protocol

bp = Blueprint("doses", __name__, url_prefix="/doses")

# Which form field a rule problem concerns (the rest are listed above the form).
PROBLEM_FIELDS = {"dose.beyond_protocol": "dose_number", "schedule.outside_window": "planned_date",
                  "schedule.previous_missing": "dose_number", "dose.already_administered": "dose_number"}


def facility_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("FACILITY_TIMEZONE") or "UTC")


def local_datetime(day: date | None, at: time | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, at or time(9, 0), tzinfo=facility_zone())


def is_masked(protocol: Protocol) -> bool:
    return services.masked(protocol, g.actor.permissions)


def refuse(form, error: Exception) -> list[str]:
    """Put a refusal on the form: input problems next to their fields, a wrong password under the
    password; workflow problems returned as a list for the page."""
    if isinstance(error, services.DoseError):
        apply_errors(form, error.errors)
        return []
    if isinstance(error, SignatureError):
        apply_errors(form, {"signature_password": str(error)})
        return []
    if isinstance(error, TransitionRefused):
        return list(error.problems)
    raise error


def ensure_protocols() -> None:
    """Store the seed protocols on first use (like the lots seed products), idempotently."""
    if services.seeds_missing(db()):
        with work("seed trial protocols"):
            services.ensure_seed_protocols(db())


def log_unblinded_view(patients, where: str) -> None:
    """Every time an unblinded user is shown the treatment of blinded subjects, it is an audit event."""
    shown = [p for p in patients if p.protocol_version.protocol().blinded]
    if shown and "unblinded" in g.actor.permissions:
        with work(f"unblinded view: {where}"):
            services.log_treatment_view(db(), shown, where)
