"""New criteria set versions: drafted by QA from an existing one, reviewed by another QA person and
activated with e-signatures (the meanings are in donors.states); exactly one version is active."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.models import User
from bank.refusals import FORM, Problem, refuse_if
from bank.status import change_status, initial_status
from donors.models import CriteriaSetVersion
from donors.reference import active_version, parse
from donors.rules import criteria_set_to_dict, threshold_errors, with_thresholds
from donors.states import ACTIVE, CRITERIA_WORKFLOW, DRAFT, RETIRED, REVIEWED


def draft_new_version(
    session: Session,
    source: CriteriaSetVersion,
    thresholds: dict[str, float],
    window_before: int,
    window_after: int,
    note: str,
    author: User,
) -> CriteriaSetVersion:
    """A draft copying `source` with new thresholds. `thresholds` maps "RULE-ID.param" -> value; input
    errors are keyed the same way (and window_before, window_after, note)."""
    base = parse(source)
    refuse_if(threshold_errors(base, thresholds, window_before, window_after, note))
    number = (
        session.scalar(
            select(func.max(CriteriaSetVersion.number)).where(CriteriaSetVersion.name == source.name)
        )
        or 0
    ) + 1
    try:
        new = with_thresholds(base, number, thresholds, window_before, window_after)
    except ValueError as e:
        refuse_if({FORM: str(e)})
    row = CriteriaSetVersion(
        name=source.name,
        number=number,
        status=CRITERIA_WORKFLOW.initial,
        note=note.strip(),
        content=json.dumps(criteria_set_to_dict(new), sort_keys=True),
        created_by_id=author.id,
    )
    session.add(row)
    session.flush()
    initial_status(session, row, CRITERIA_WORKFLOW)
    return row


def review_version(session: Session, row: CriteriaSetVersion, user: User, password: str) -> None:
    """QA review of a draft, signed; the reviewer is not its author (four eyes)."""
    problems = (
        [Problem("DON-CRITERIA-FOUR-EYES", "the author of a draft cannot review it", row.label)]
        if row.created_by_id == user.id
        else []
    )
    change_status(
        session,
        row,
        CRITERIA_WORKFLOW,
        REVIEWED,
        password=password,
        signer=user,
        content=content_for_signature(row),
        problems=problems,
    )


def activate_version(session: Session, row: CriteriaSetVersion, user: User, password: str) -> None:
    """Activate a reviewed version with a signature; the version active until now is retired."""
    # The seed's own step (draft -> active) is not QA's: only a reviewed version is activated here.
    problems = (
        []
        if row.status == REVIEWED
        else [
            Problem(
                "DON-CRITERIA-REVIEWED",
                f"only a reviewed version can be activated (this one is {row.status})",
                row.status,
            )
        ]
    )
    current = active_version(session)
    if current is not None and not problems:
        change_status(session, current, CRITERIA_WORKFLOW, RETIRED, reason=f"replaced by {row.label}")
    change_status(
        session,
        row,
        CRITERIA_WORKFLOW,
        ACTIVE,
        password=password,
        signer=user,
        content=content_for_signature(row),
        problems=problems,
    )


def retire_draft(session: Session, row: CriteriaSetVersion, reason: str) -> None:
    """A reviewed version goes back to draft; a draft is abandoned (retired)."""
    target = DRAFT if row.status == REVIEWED else RETIRED
    change_status(session, row, CRITERIA_WORKFLOW, target, reason=reason)


def content_for_signature(row: CriteriaSetVersion) -> dict:
    return {"criteria_set": row.label, "id": row.id, "content": json.loads(row.content)}
