"""The one way a record's status changes: checked against its workflow, recorded in the history."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bank.db import utcnow
from bank.models import Signature, StatusChange
from bank.workflow import Workflow, check_transition


class TransitionRefused(ValueError):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def change_status(session: Session, record, workflow: Workflow, target: str, *,
                  signature: Signature | None = None, reason: str | None = None,
                  extra_problems: list[str] | None = None) -> StatusChange:
    """Move `record` (with a `status` attribute) to `target`, or raise TransitionRefused naming every
    problem (the workflow's and the caller's domain problems together)."""
    actor = session.info.get("actor")
    if actor is None:
        raise TransitionRefused(["no actor: status changes happen inside a unit of work"])
    reason = (reason or session.info.get("reason") or "").strip() or None
    check = check_transition(workflow, record.status, target, actor.permissions, signature is not None, reason)
    problems = list(check.problems) + list(extra_problems or [])
    if problems:
        raise TransitionRefused(problems)
    source = record.status
    record.status = target
    session.flush()
    change = StatusChange(
        entity=record.__tablename__, entity_id=str(record.id), from_status=source, to_status=target,
        at=utcnow(), actor_id=actor.id, actor_name=actor.name, reason=reason,
        signature_id=signature.id if signature else None,
    )
    session.add(change)
    session.flush()
    return change


def initial_status(session: Session, record, workflow: Workflow) -> StatusChange:
    """Record the creation state of a new record in its status history."""
    actor = session.info["actor"]
    record.status = workflow.initial
    session.flush()
    change = StatusChange(entity=record.__tablename__, entity_id=str(record.id), from_status=None,
                          to_status=workflow.initial, at=utcnow(), actor_id=actor.id, actor_name=actor.name,
                          reason=session.info.get("reason"))
    session.add(change)
    session.flush()
    return change
