"""The signed donor eligibility determination (21 CFR 1271.50): QA signs what the rules found under the
active criteria version; the signature is bound to the outcome, reasons, missing items and version."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.esign import sign, signature_valid, signatures_for
from bank.models import User
from bank.status import TransitionRefused, change_status
from bank.workflow import check_transition
from donors.criteria_sets import ensure_seed_criteria
from donors.models import DeterminationRecord, Donor
from donors.rules import Determination
from donors.services import evaluate, write_determination
from donors.states import DETERMINATION_MEANING, DONOR_WORKFLOW, ELIGIBLE, INCOMPLETE, INELIGIBLE

DECISIONS = (ELIGIBLE, INELIGIBLE, INCOMPLETE)


def decision_problems(donor: Donor, det: Determination, decision: str, comment: str) -> list[str]:
    """Every reason `decision` cannot be signed for this donor with these findings."""
    problems = []
    if donor.is_autologous:
        problems.append("autologous donor: no eligibility determination is required (21 CFR 1271.90)")
    if decision not in DECISIONS:
        problems.append(f"unknown decision {decision!r}")
    elif decision == ELIGIBLE and det.outcome != ELIGIBLE:
        problems.append(f"the rules find the donor {det.outcome}: it cannot be signed eligible")
    elif decision == INCOMPLETE and det.outcome != INCOMPLETE:
        problems.append(f"the rules find the donor {det.outcome}, not incomplete")
    elif decision == INELIGIBLE and det.outcome != INELIGIBLE and not comment:
        problems.append("no rule excludes this donor: write the reason for an ineligible decision")
    if decision == ELIGIBLE and donor.under_lookback:
        problems.append("the donor is under look-back and cannot be signed eligible")
    return problems


def sign_determination(session: Session, donor: Donor, user: User, password: str, decision: str,
                       comment: str = "") -> DeterminationRecord:
    """Sign the determination with meaning "Donor eligibility determination" and set the donor's
    status to `decision`. Raises TransitionRefused naming every problem, SignatureError on a bad
    password; nothing is written then."""
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise TransitionRefused(["comment: at most 2000 characters"])
    row = ensure_seed_criteria(session)
    det = evaluate(session, donor, row)
    problems = decision_problems(donor, det, decision, comment)
    if not problems:
        check = check_transition(DONOR_WORKFLOW, donor.status, decision, session.info["actor"].permissions,
                                 True, comment)
        problems += list(check.problems)
    if problems:
        raise TransitionRefused(problems)
    record = write_determination(session, donor, row, det, decision, comment)
    sig = sign(session, user, password, DETERMINATION_MEANING, record.__tablename__, record.id,
               determination_content(donor, record))
    record.signature_id = sig.id
    session.flush()
    change_status(session, donor, DONOR_WORKFLOW, decision, signature=sig,
                  reason=comment or f"signed {decision} under {row.label}")
    return record


def determination_content(donor: Donor, record: DeterminationRecord) -> dict:
    """Exactly what the signature covers (the signature id itself excluded)."""
    return {
        "donor": donor.code, "donor_id": donor.id, "determination_id": record.id,
        "criteria_set": record.criteria_label, "criteria_set_id": record.criteria_set_id,
        "outcome": record.outcome, "decision": record.decision, "comment": record.comment,
        "reasons": json.loads(record.reasons), "missing": json.loads(record.missing),
        "harvest_date": record.harvest_date, "evaluation_date": record.evaluation_date,
    }


def signatures_with_validity(session: Session, donor: Donor, records: list[DeterminationRecord]):
    """[(record, signature, still valid)] for the signed determinations, newest first."""
    out = []
    for record in records:
        for sig in signatures_for(session, record.__tablename__, record.id):
            out.append((record, sig, signature_valid(sig, determination_content(donor, record))))
    return out


def reevaluate_all(session: Session, criteria_row) -> list[tuple[Donor, Determination]]:
    """What the rules of `criteria_row` find for every allogeneic donor (read only), to show QA which
    donors a new version would change; QA then signs a new determination donor by donor."""
    donors = session.scalars(select(Donor).where(Donor.is_autologous.is_(False)).order_by(Donor.code))
    return [(d, evaluate(session, d, criteria_row)) for d in donors]
