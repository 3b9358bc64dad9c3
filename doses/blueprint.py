"""The doses blueprint and what its pages and API share: the facility's time zone, whether the signed-in
user reads a protocol's doses masked, the seed protocols on first use, unblinded views logged."""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, g, request

from bank.clock import LocalTimeError, from_local
from bank.i18n import t
from bank.languages import facility_zone
from bank.lists import by_status
from bank.refusals import Refused
from bank.web import LIKE_ESCAPE, db, like_pattern, work
from doses import services
from doses.models import Patient, ProtocolVersion
from doses.rules.protocol import Protocol
from doses.states import ALLOCATION_WORKFLOW

bp = Blueprint("doses", __name__, url_prefix="/doses")


def local_datetime(day: date | None, at: time | None) -> datetime | None:
    """The planned time typed on the facility's wall clock, aware in the facility's zone (the rules read
    its date as the site's day). A time the clocks skip or repeat is refused next to planned_time."""
    if day is None:
        return None
    try:
        return from_local(datetime.combine(day, at or time(9, 0)), facility_zone()).astimezone(
            facility_zone()
        )
    except LocalTimeError as e:
        raise Refused(
            {
                "planned_time": t(
                    "%(problem)s Plan the dose outside the hour the clocks change.", problem=e.args[0]
                )
            }
        ) from None


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


def subject_arg() -> str:
    """The subject id typed in a list's search box (?q=), as subject ids are stored: no spaces, upper case."""
    return "".join(request.args.get("q", "").split()).upper()[:40]


def subject_filters(stmt, status_column, states) -> tuple:
    """The filters of a list of patients or of their doses (`stmt` joins Patient and ProtocolVersion): the
    subject searched (?q=), the protocol (?protocol=), the status (?status=, one of `states`).
    `(stmt, filters)`: the statement narrowed, and the filters as asked, for the page to show them back."""
    q = subject_arg()
    protocol = request.args.get("protocol", "")[:40]
    if q:
        stmt = stmt.where(Patient.subject_id.like(like_pattern(q), escape=LIKE_ESCAPE))
    if protocol:
        stmt = stmt.where(ProtocolVersion.code == protocol)
    stmt, status = by_status(stmt, status_column, states)
    return stmt, {"q": q, "protocol": protocol, "status": status}


def protocol_codes() -> list[str]:
    """The codes of the active protocols, for a list's protocol filter."""
    return sorted({r.code for r in services.active_protocols(db())})


def dose_shown(allocation, where: str) -> dict:
    """What every page of one dose shows of it (the dose page, its custody page): the dose, its patient and
    protocol, its treatment as the reader may read it (masked or not); showing it unblinded is logged."""
    protocol = allocation.patient.protocol_version.protocol()
    log_unblinded_view([allocation.patient], where)
    return {
        "a": allocation,
        "patient": allocation.patient,
        "p": protocol,
        "text": services.dose_text(protocol, allocation, g.actor.permissions),
        "masked": is_masked(protocol),
        "workflow": ALLOCATION_WORKFLOW,
    }
