"""The one way a record's status changes (21 CFR 11.10(f): permitted sequences only): checked against its
workflow table, signed with the meaning the table states, recorded in the status history."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.esign import sign
from bank.i18n import Text, t
from bank.models import Signature, StatusChange, User
from bank.refusals import Problem, Refused
from bank.workflow import Workflow, check_transition


def _said(reason) -> str:
    """A domain's reason given as a sentence rather than a Problem: kept as it is (a t(...) message stays
    translatable)."""
    return reason if isinstance(reason, str) else str(reason)


class TransitionRefused(Refused):
    """The workflow table or the domain's rules refuse the step: every problem named, nothing changed."""

    def __init__(self, problems):
        super().__init__(
            problems=[p if isinstance(p, Problem) else Problem("domain.refused", _said(p)) for p in problems]
        )


def change_status(
    session: Session,
    record,
    workflow: Workflow,
    target: str,
    *,
    password: str | None = None,
    content=None,
    signer: User | None = None,
    signature: Signature | None = None,
    reason: str | None = None,
    problems=(),
    before_write: Callable[[Signature | None], object] | None = None,
) -> StatusChange:
    """Take `record` (with `status` and `id`) through the transition to `target`.

    1. the table: the transition exists from the record's status, the actor holds its permission, a
       reason is given where the table asks for one;
    2. the domain's `problems` (rule Problems; all of them are named together with the table's);
    3. when the table asks for a signature: `signer` (default: the signed-in user) re-enters `password`
       and signs `content` with the table's meaning; a `signature` made beforehand must carry exactly
       that meaning, or the step is refused;
    4. the status is set and a history row written (with the signature, if any). `before_write(signature)`,
       when given, runs just before: for columns a CHECK constraint ties to the status (e.g. the
       closing signature of a deviation), written in the same flush.
    Nothing is signed while anything is refused. Raises TransitionRefused or SignatureError (both Refused).
    """
    actor = session.info.get("actor")
    if actor is None:
        raise TransitionRefused(
            [Problem("workflow.no_actor", t("Status changes happen inside a unit of work."))]
        )
    reason = (reason or session.info.get("reason") or "").strip() or None
    signing = signature is not None or password is not None
    check = check_transition(workflow, record.status, target, actor.permissions, signing, reason)
    found = list(check.problems) + [
        p if isinstance(p, Problem) else Problem("domain.refused", _said(p)) for p in problems
    ]
    meaning = check.transition.signature_meaning if check.transition else None
    if signature is not None and meaning is not None and signature.meaning != meaning:
        found.append(
            Problem(
                "workflow.signature_meaning",
                t(
                    "The signature means '%(given)s' but this step needs '%(needed)s'.",
                    given=Text(signature.meaning),
                    needed=Text(meaning),
                ),
                signature.meaning,
            )
        )
    if found:
        raise TransitionRefused(found)
    if meaning is not None and signature is None:
        if content is None:
            raise ValueError(f"{workflow.name} -> {target}: a signed transition needs the content it signs")
        signer = signer or session.get(User, actor.id)
        signature = sign(session, signer, password or "", meaning, record.__tablename__, record.id, content)
    if before_write is not None:
        before_write(signature)
    return _record(session, record, record.status, target, reason, signature)


def initial_status(session: Session, record, workflow: Workflow) -> StatusChange:
    """Record the creation state of a new record in its status history."""
    return _record(session, record, None, workflow.initial, session.info.get("reason"), None)


def add_new(session: Session, record, workflow: Workflow) -> StatusChange:
    """Insert a new record as constructed (flushed, so it has its id) and record its creation state in its
    status history: how the services create a record that has a workflow."""
    session.add(record)
    session.flush()
    return initial_status(session, record, workflow)


def _record(
    session: Session, record, source: str | None, target: str, reason: str | None, signature: Signature | None
) -> StatusChange:
    actor = session.info["actor"]
    record.status = target
    session.flush()
    change = StatusChange(
        entity=record.__tablename__,
        entity_id=str(record.id),
        from_status=source,
        to_status=target,
        at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.name,
        reason=reason,
        signature_id=signature.id if signature else None,
    )
    session.add(change)
    session.flush()
    return change


def status_history(session: Session, record) -> list[StatusChange]:
    """The record's status changes, oldest first."""
    return list(
        session.scalars(
            select(StatusChange)
            .where(StatusChange.entity == record.__tablename__, StatusChange.entity_id == str(record.id))
            .order_by(StatusChange.at, StatusChange.id)
        )
    )


def possible_steps(
    record, workflow: Workflow, permissions: frozenset[str]
) -> list[tuple[str, list[Problem]]]:
    """Each transition out of the record's current status with what would stop this user taking it now
    (empty: possible), for a record page to offer or disable its actions. Signatures and reasons are
    asked for on the form, so they do not count here."""
    steps = []
    for step in workflow.targets_from(record.status):
        check = check_transition(workflow, record.status, step.target, permissions, True, "given")
        steps.append((step.target, list(check.problems)))
    return steps
