"""The biovigilance work queue (bank.queues): adverse events QA has not closed yet, serious ones first, each
linking to the event page where the investigation and the look-forward are done. Items name the event and
the subject, never a lot or an arm."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.i18n import N_, t
from bank.queues import Context, Item, Listing, Queue, listing, register
from biovigilance.models import AdverseEvent


def events_to_investigate(session: Session, ctx: Context) -> Listing:
    stmt = (
        select(AdverseEvent)
        .where(AdverseEvent.status != "closed")
        .order_by(AdverseEvent.serious.desc(), AdverseEvent.onset_at, AdverseEvent.id)
    )
    return listing(
        session,
        stmt,
        lambda e: Item(
            t(
                "Serious adverse event %(reference)s in %(subject)s",
                reference=e.reference,
                subject=e.patient.subject_id,
            )
            if e.serious
            else t(
                "Adverse event %(reference)s in %(subject)s",
                reference=e.reference,
                subject=e.patient.subject_id,
            ),
            "biovigilance.event",
            {"event_id": e.id},
            since=e.reported_at.date(),
            since_label=N_("reported on"),
        ),
        ctx.limit,
    )


def register_queues(app) -> None:
    register(
        app,
        Queue(
            "biovigilance.events",
            N_("Adverse events to investigate"),
            frozenset({"event.investigate"}),
            events_to_investigate,
            "biovigilance.index",
            15,
        ),
    )
