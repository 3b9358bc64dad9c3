"""Deviations against a lot: recorded by the bench or QA, closed by QA with an e-signature."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.esign import signature_valid
from bank.i18n import t
from bank.models import Signature, User
from bank.refusals import Refused, refuse_if
from bank.status import add_new, change_status
from bank.uow import current_actor
from lots.models import Deviation, Lot
from lots.states import DEVIATION_WORKFLOW


def record_deviation(
    session: Session, lot: Lot, *, description: str, impact: str, corrective_action: str = ""
) -> Deviation:
    errors = {
        k: t("Required.")
        for k, v in (("description", description), ("impact", impact))
        if not (v or "").strip()
    }
    refuse_if(errors)
    deviation = Deviation(
        lot_id=lot.id,
        description=description.strip(),
        impact=impact.strip(),
        corrective_action=(corrective_action or "").strip(),
        status=DEVIATION_WORKFLOW.initial,
        recorded_by_id=current_actor(session).id,
    )
    add_new(session, deviation, DEVIATION_WORKFLOW)
    return deviation


def deviation_content(deviation: Deviation, lot: Lot) -> dict:
    """Exactly what a closing signature is bound to."""
    return {
        "deviation": deviation.id,
        "lot": lot.din,
        "description": deviation.description,
        "impact": deviation.impact,
        "corrective_action": deviation.corrective_action,
    }


def close_deviation(
    session: Session, deviation: Deviation, user: User, password: str, corrective_action: str | None = None
) -> Signature:
    """Close with `user`'s signature (the meaning DEVIATION_WORKFLOW states); the corrective action must
    be written first. Raises Refused (bank.status.TransitionRefused, bank.esign.SignatureError among them)."""
    if deviation.status != "open":
        raise Refused.rule(
            "lots.deviation.closed", t("%(number)s is already closed.", number=deviation.number)
        )
    if corrective_action is not None and corrective_action.strip():
        deviation.corrective_action = corrective_action.strip()
    if not deviation.corrective_action:
        raise Refused({"corrective_action": t("Describe the corrective action before closing.")})
    lot = session.get(Lot, deviation.lot_id)

    def closing(signature: Signature) -> None:  # the CHECK 'closure' ties these to the status
        deviation.signature_id, deviation.closed_at, deviation.closed_by_id = signature.id, utcnow(), user.id

    change = change_status(
        session,
        deviation,
        DEVIATION_WORKFLOW,
        "closed",
        password=password,
        signer=user,
        content=deviation_content(deviation, lot),
        before_write=closing,
    )
    return session.get(Signature, change.signature_id)


def deviations_of(session: Session, lot: Lot) -> list[Deviation]:
    return list(session.scalars(select(Deviation).where(Deviation.lot_id == lot.id).order_by(Deviation.id)))


def open_deviations(session: Session, lot: Lot) -> list[str]:
    """One sentence per deviation of `lot` still open (release is blocked while this is non-empty)."""
    return [
        t(
            "%(number)s open since %(day)s: %(description)s",
            number=d.number,
            day=d.recorded_at.date(),
            description=d.description,
        )
        for d in deviations_of(session, lot)
        if d.status == "open"
    ]


def closing_signature(session: Session, deviation: Deviation) -> tuple[Signature, bool] | None:
    """The closing signature and whether it still matches the deviation's content."""
    if deviation.signature_id is None:
        return None
    sig = session.get(Signature, deviation.signature_id)
    return sig, signature_valid(sig, deviation_content(deviation, session.get(Lot, deviation.lot_id)))
