"""Criteria set versions in the database: the seed "SSc adipose donor v1", drafting a new version,
QA review and activation with e-signatures (exactly one active version at a time)."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.esign import sign
from bank.models import StatusChange, User
from bank.status import TransitionRefused, change_status, initial_status
from donors.criteria import (
    SSC_ADIPOSE_DONOR_V1,
    CriteriaSet,
    Criterion,
    criteria_set_from_dict,
    criteria_set_to_dict,
)
from donors.models import CriteriaSetVersion
from donors.states import (
    ACTIVE,
    CRITERIA_APPROVAL_MEANING,
    CRITERIA_REVIEW_MEANING,
    CRITERIA_WORKFLOW,
    DRAFT,
    RETIRED,
    REVIEWED,
)

# Numbers QA may change when drafting a new version, with their plausible range (impossible values
# are refused; anything in range is a QA decision recorded with the version).
EDITABLE_PARAMS = {"min_weight_kg": (1, 200), "lookback_days": (1, 36500), "max_days": (0, 3650)}
MAX_WINDOW_DAYS = 30


class CriteriaError(ValueError):
    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def parse(row: CriteriaSetVersion) -> CriteriaSet:
    return criteria_set_from_dict(json.loads(row.content))


def active_version(session: Session) -> CriteriaSetVersion | None:
    return session.scalar(select(CriteriaSetVersion).where(CriteriaSetVersion.status == ACTIVE))


def ensure_seed_criteria(session: Session) -> CriteriaSetVersion:
    """The active version; on a database without any version, store and activate the seed
    "SSc adipose donor v1" (idempotent; needs a unit of work the first time)."""
    row = active_version(session)
    if row is not None:
        return row
    if session.scalar(select(func.count()).select_from(CriteriaSetVersion)):
        raise CriteriaError({"criteria": "no criteria set version is active: QA must activate one"})
    seed = SSC_ADIPOSE_DONOR_V1
    row = CriteriaSetVersion(name=seed.name, number=seed.version, status=ACTIVE,
                             content=json.dumps(criteria_set_to_dict(seed), sort_keys=True),
                             note="Seed list of the SSc allogeneic MSC(AT) programme (DOMAIN.md §2)")
    session.add(row)
    session.flush()
    # The seed is active from the start: it is the protocol's own reviewed exclusion list.
    actor = session.info["actor"]
    session.add(StatusChange(entity=row.__tablename__, entity_id=str(row.id), from_status=None, to_status=ACTIVE,
                             at=utcnow(), actor_id=actor.id, actor_name=actor.name,
                             reason="seed criteria set of the protocol, active from first use"))
    session.flush()
    return row


def draft_new_version(session: Session, source: CriteriaSetVersion, thresholds: dict[str, float],
                      window_before: int, window_after: int, note: str, author: User) -> CriteriaSetVersion:
    """A draft copying `source` with new thresholds. `thresholds` maps "RULE-ID.param" -> value."""
    errors = _threshold_errors(source, thresholds, window_before, window_after)
    if not (note or "").strip():
        errors["note"] = "say what changes in this version and why"
    elif len(note) > 500:
        errors["note"] = "at most 500 characters"
    if errors:
        raise CriteriaError(errors)
    base = parse(source)
    number = (session.scalar(select(func.max(CriteriaSetVersion.number))
                             .where(CriteriaSetVersion.name == source.name)) or 0) + 1
    criteria = tuple(_with_params(c, thresholds) for c in base.criteria)
    try:
        new = replace(base, version=number, criteria=criteria, sample_days_before=window_before,
                      sample_days_after=window_after)
    except ValueError as e:
        raise CriteriaError({"criteria": str(e)}) from e
    row = CriteriaSetVersion(name=source.name, number=number, status=DRAFT, note=note.strip(),
                             content=json.dumps(criteria_set_to_dict(new), sort_keys=True),
                             created_by_id=author.id)
    session.add(row)
    session.flush()
    initial_status(session, row, CRITERIA_WORKFLOW)
    return row


def _threshold_errors(source, thresholds, before, after) -> dict[str, str]:
    errors = {}
    known = {f"{c.rule_id}.{k}" for c in parse(source).criteria for k, _ in c.params if k in EDITABLE_PARAMS}
    for key, value in thresholds.items():
        low, high = EDITABLE_PARAMS.get(key.rsplit(".", 1)[-1], (0, 0))
        if key not in known:
            errors[key] = "not a threshold of this criteria set"
        elif value is None or not (low <= value <= high):
            errors[key] = f"must be between {low} and {high}"
    for name, days in (("window_before", before), ("window_after", after)):
        if days is None or not (0 <= days <= MAX_WINDOW_DAYS):
            errors[name] = f"must be between 0 and {MAX_WINDOW_DAYS} days"
    return errors


def _with_params(c: Criterion, thresholds: dict[str, float]) -> Criterion:
    params = []
    for k, v in c.params:
        key = f"{c.rule_id}.{k}"
        if k in EDITABLE_PARAMS and key in thresholds:
            v = thresholds[key]
            # Day counts stay whole numbers (the rules compare whole days); 50.0 kg is stored as 50.
            v = int(v) if k != "min_weight_kg" or float(v).is_integer() else float(v)
        params.append((k, v))
    return replace(c, params=tuple(params))


def editable_thresholds(cs: CriteriaSet) -> list[tuple[str, Criterion, str, float]]:
    """(key, criterion, parameter, value) for every threshold QA may change."""
    return [(f"{c.rule_id}.{k}", c, k, v) for c in cs.criteria for k, v in c.params if k in EDITABLE_PARAMS]


def review_version(session: Session, row: CriteriaSetVersion, user: User, password: str) -> None:
    """QA review of a draft, signed; the reviewer is not its author (four eyes)."""
    problems = ["the author of a draft cannot review it"] if row.created_by_id == user.id else []
    if problems:
        raise TransitionRefused(problems)
    sig = sign(session, user, password, CRITERIA_REVIEW_MEANING, row.__tablename__, row.id, _content(row))
    change_status(session, row, CRITERIA_WORKFLOW, REVIEWED, signature=sig)


def activate_version(session: Session, row: CriteriaSetVersion, user: User, password: str) -> None:
    """Activate a reviewed version with a signature; the version active until now is retired."""
    if row.status != REVIEWED:
        raise TransitionRefused([f"only a reviewed version can be activated (this one is {row.status})"])
    sig = sign(session, user, password, CRITERIA_APPROVAL_MEANING, row.__tablename__, row.id, _content(row))
    current = active_version(session)
    if current is not None:
        change_status(session, current, CRITERIA_WORKFLOW, RETIRED, reason=f"replaced by {row.label}")
    change_status(session, row, CRITERIA_WORKFLOW, ACTIVE, signature=sig)


def retire_draft(session: Session, row: CriteriaSetVersion, reason: str) -> None:
    target = DRAFT if row.status == REVIEWED else RETIRED
    change_status(session, row, CRITERIA_WORKFLOW, target, reason=reason)


def _content(row: CriteriaSetVersion) -> dict:
    return {"criteria_set": row.label, "id": row.id, "content": json.loads(row.content)}


def content_for_signature(row: CriteriaSetVersion) -> dict:
    return _content(row)
