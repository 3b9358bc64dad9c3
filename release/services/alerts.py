"""Late results after a conditional release (DOMAIN.md §4): a final sterility that is not a pass on a lot
released on "no growth to date" raises an alert for QA naming every container and every patient.

The doses module adds the patients: a receiver of bank.signals.late_result_found (sender: the session,
`lot=`) returns one line per patient allocated or given a container of the lot (it may also hold its doses).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.db import rows_of
from bank.i18n import t
from bank.refusals import control_character_errors, refuse_if
from bank.signals import late_result_found
from bank.status import add_new, change_status
from bank.uow import current_actor
from lots.models import Lot
from lots.services import containers_of
from release.models import LateResultAlert, TestResult
from release.rules import Verdict, late_sterility_alert
from release.states import ALERT_WORKFLOW


def _container_line(container) -> str:
    hold = ", on hold" if container.on_hold else ""
    return f"{container.identifier} — {container.status}{hold} — {container.position_label}"


def raise_late_result_alert(
    session: Session, lot: Lot, result: TestResult, verdict: Verdict
) -> LateResultAlert | None:
    """Record the alert when `verdict` (a reading entered after the conditional release) is not a pass."""
    if late_sterility_alert(verdict, released_conditionally=True) is None:
        return None  # a passing reading (final or interim) needs no alert
    patients = [line for _, lines in late_result_found.send(session, lot=lot) for line in (lines or [])]
    alert = late_sterility_alert(verdict, released_conditionally=True, patients=patients, lot_ref=lot.din)
    row = LateResultAlert(
        lot_id=lot.id,
        result_id=result.id,
        rule_id=alert.rule_id,
        message=alert.message,
        containers=json.dumps([_container_line(c) for c in containers_of(session, lot)]),
        patients=json.dumps(list(alert.patients)),
        notify=", ".join(alert.notify),
    )
    add_new(session, row, ALERT_WORKFLOW)
    return row


def alerts_of(session: Session, lot: Lot) -> list[LateResultAlert]:
    return rows_of(session, LateResultAlert, LateResultAlert.id.desc(), lot_id=lot.id)


def alerts_query(status: str | None = None):
    stmt = select(LateResultAlert).order_by(LateResultAlert.id.desc())
    return stmt.where(LateResultAlert.status == status) if status else stmt


def acknowledge_alert(session: Session, alert: LateResultAlert, note: str) -> None:
    """QA records what was done (clinician told, doses held, investigation opened): the alert's step to
    acknowledged, with what was done as its reason."""
    errors = control_character_errors({"note": note})
    if not (note or "").strip():
        errors["note"] = t("Say what was done (clinician informed, doses held, investigation).")
    refuse_if(errors)
    note = note.strip()[:2000]
    # Set with the status, in one row write: a CHECK ties the acknowledgement time to the status.
    alert.acknowledged_at, alert.acknowledged_by_id, alert.acknowledgement = (
        utcnow(),
        current_actor(session).id,
        note,
    )
    change_status(session, alert, ALERT_WORKFLOW, "acknowledged", reason=note)
