"""What each cross-domain event tells whom: receivers of bank.signals, connected by bank.app.wire_domains.
They read the records they are handed (a lot's DIN, a donor's code) and never import a domain. Messages to
people who may be blinded name the subject and dose only, never a product or an arm."""

from __future__ import annotations

from bank.clock import utcnow
from bank.i18n import t
from bank.notifications.services import notify


def _moment() -> str:
    return utcnow().strftime("%Y%m%dT%H%M%S%f")


def late_result(session, lot) -> None:
    """A lot released conditionally got a final result that is not a pass: QA is told (the doses are held
    by doses.services.hold_for_late_result, and shown on the pharmacy's queue as held)."""
    notify(
        session,
        "late_result",
        t(
            "Late result on released lot %(din)s: the final sterility result is not a pass. Its doses are "
            "on hold; tell the investigators and acknowledge the alert.",
            din=lot.din,
        ),
        permission="lot.release",
        event_key=f"late_result:{lot.id}:{_moment()}",
        endpoint="release.alerts",
    )


def donor_lookback(session, donor) -> None:
    """A look-back started: QA is told the donor; clinical staff that doses were held (no donor named)."""
    key = f"lookback:{donor.id}:{_moment()}"
    notify(
        session,
        "lookback",
        t(
            "Look-back started for donor %(code)s: every lot and dose derived from this donor is on hold.",
            code=donor.code,
        ),
        permission="donor.determine",
        event_key=key,
        endpoint="donors.show",
        arguments={"donor_id": donor.id},
    )
    notify(
        session,
        "lookback",
        t("A donor look-back put doses on hold: check the held doses before any issue."),
        permission="dose.allocate",
        event_key=key,
        endpoint="doses.doses",
    )


def custody_excursion(session, allocation, event) -> None:
    """A temperature excursion on a dose's chain of custody: QA and the pharmacy are told."""
    message = t(
        "Temperature excursion recorded for subject %(subject)s, dose %(dose)s: the dose is on hold.",
        subject=allocation.patient.subject_id,
        dose=allocation.dose_number,
    )
    key = f"excursion:{allocation.id}:{event.sequence}"
    for permission in ("lot.hold", "dose.allocate"):
        notify(
            session,
            "custody_excursion",
            message,
            permission=permission,
            event_key=key,
            endpoint="custody.dose",
            arguments={"allocation_id": allocation.id},
        )


def account_locked(session, user) -> None:
    """Repeated wrong passwords locked an account: administrators are told."""
    notify(
        session,
        "account_locked",
        t(
            "The account %(username)s (%(name)s) is locked after repeated wrong passwords.",
            username=user.username,
            name=user.full_name,
        ),
        permission="user.manage",
        event_key=f"locked:{user.id}:{user.locked_at:%Y%m%dT%H%M%S%f}",
        endpoint="admin.edit_user",
        arguments={"user_id": user.id},
    )


def serious_reaction(session, event) -> None:
    """A serious reaction judged possibly related or more: QA is told (the lot's remaining products are
    already on hold). The message names the event and subject, never a lot or an arm."""
    notify(
        session,
        "serious_reaction",
        t(
            "Serious adverse reaction %(reference)s in subject %(subject)s, judged possibly related to the "
            "cells: the lot's products not yet given are on hold. Open the investigation and the look-forward.",
            reference=event.reference,
            subject=event.patient.subject_id,
        ),
        permission="event.investigate",
        event_key=f"serious_reaction:{event.id}",
        endpoint="biovigilance.event",
        arguments={"event_id": event.id},
    )
