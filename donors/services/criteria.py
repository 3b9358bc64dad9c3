"""New criteria set versions: drafted by QA from an existing one, reviewed by another QA person and
activated with e-signatures (the meanings are in donors.states); exactly one version is active."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.i18n import N_, t
from bank.models import User
from bank.refusals import FORM, Problem, Refused, refuse_if
from bank.status import add_new, change_status
from bank.uow import acting_with
from donors.models import CriteriaSetVersion
from donors.reference import NO_ACTIVE_CRITERIA, SSC_ADIPOSE_DONOR_V1
from donors.rules import (
    CriteriaSet,
    criteria_set_from_dict,
    criteria_set_to_dict,
    threshold_errors,
    with_thresholds,
)
from donors.states import ACTIVE, CRITERIA_WORKFLOW, DRAFT, RETIRED, REVIEWED, SEED_PERMISSION

# The versions' statuses as the words appear inside messages ("this one is draft"); stored as these keys.
STATUS_WORDS = (N_("draft"), N_("reviewed"), N_("active"), N_("retired"))


def parse(row: CriteriaSetVersion) -> CriteriaSet:
    return criteria_set_from_dict(json.loads(row.content))


def active_version(session: Session) -> CriteriaSetVersion | None:
    return session.scalar(select(CriteriaSetVersion).where(CriteriaSetVersion.status == ACTIVE))


def active_criteria(session: Session) -> CriteriaSetVersion:
    """The active version; Refused (409) when none is."""
    row = active_version(session)
    if row is None:
        raise Refused(problems=[NO_ACTIVE_CRITERIA])
    return row


def ensure_seed_criteria(session: Session) -> CriteriaSetVersion:
    """The active version; on a database without any version, store the seed "SSc adipose donor v1" and
    activate it (idempotent; inside a unit of work). Refused when versions exist but none is active."""
    row = active_version(session)
    if row is not None:
        return row
    if session.scalar(select(func.count()).select_from(CriteriaSetVersion)):
        raise Refused(problems=[NO_ACTIVE_CRITERIA])
    seed = SSC_ADIPOSE_DONOR_V1
    row = CriteriaSetVersion(
        name=seed.name,
        number=seed.version,
        status=CRITERIA_WORKFLOW.initial,
        content=json.dumps(criteria_set_to_dict(seed), sort_keys=True),
        # Stored in English like every note; shown in the reader's language (|tr).
        note=N_("Seed list of the SSc allogeneic MSC(AT) programme (DOMAIN.md §2)"),
    )
    add_new(session, row, CRITERIA_WORKFLOW)
    # The seed is active from the start: it is the protocol's own reviewed exclusion list.
    with acting_with(session, SEED_PERMISSION):
        change_status(
            session,
            row,
            CRITERIA_WORKFLOW,
            ACTIVE,
            reason="seed criteria set of the protocol, active from first use",
        )
    return row


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
        refuse_if({FORM: t("The new version is not consistent: %(problems)s", problems=str(e))})
    row = CriteriaSetVersion(
        name=source.name,
        number=number,
        status=CRITERIA_WORKFLOW.initial,
        note=note.strip(),
        content=json.dumps(criteria_set_to_dict(new), sort_keys=True),
        created_by_id=author.id,
    )
    add_new(session, row, CRITERIA_WORKFLOW)
    return row


def review_version(session: Session, row: CriteriaSetVersion, user: User, password: str) -> None:
    """QA review of a draft, signed; the reviewer is not its author (four eyes)."""
    problems = (
        [Problem("DON-CRITERIA-FOUR-EYES", t("the author of a draft cannot review it"), row.label)]
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
                t("only a reviewed version can be activated (this one is %(status)s)", status=t(row.status)),
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
