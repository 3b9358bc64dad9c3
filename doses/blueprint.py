"""The doses blueprint and what its pages and API share: the facility's time zone, whether the signed-in
user reads a protocol's doses masked, the seed protocols on first use, unblinded views logged."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g

from bank.web import db, work
from doses import services
from doses.rules.protocol import Protocol

bp = Blueprint("doses", __name__, url_prefix="/doses")


def facility_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("FACILITY_TIMEZONE") or "UTC")


def local_datetime(day: date | None, at: time | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, at or time(9, 0), tzinfo=facility_zone())


def is_masked(protocol: Protocol) -> bool:
    return services.masked(protocol, g.actor.permissions)


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
