"""The biovigilance blueprint, shared by the screens (biovigilance.views) and the API (biovigilance.api)."""

from __future__ import annotations

from flask import Blueprint

from biovigilance.services import EventInput

bp = Blueprint("biovigilance", __name__, url_prefix="/biovigilance")


def event_input(form, allocation_id: int | None = None) -> EventInput:
    """What the event form (screen or JSON) says, as the services take it."""
    onset = getattr(form, "onset_at", None)
    return EventInput(
        onset_at=onset.data if onset is not None else None,
        description=form.description.data or "",
        seriousness=tuple(form.seriousness.data or ()),
        grade=form.grade.data,
        outcome=form.outcome.data or "",
        imputability=form.imputability.data or "",
        allocation_id=allocation_id,
    )
