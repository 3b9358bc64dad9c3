"""Eligibility: the facts the rules take, the determination they reach, the determination QA signs
(21 CFR 1271.50; the signature is bound to the outcome, reasons, missing items and criteria version),
and the look-back when new evidence makes a donor signed eligible ineligible."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import today
from bank.esign import signature_valid
from bank.i18n import N_, t
from bank.models import Signature, User
from bank.refusals import Problem, refuse_if
from bank.signals import donor_lookback_started
from bank.status import change_status
from donors.models import (
    CriteriaSetVersion,
    DeterminationRecord,
    Donor,
    MedicationCourse,
    ScreeningAnswer,
    SerologyTest,
)
from donors.rules import (
    Answer,
    Determination,
    DonorFacts,
    EntryChange,
    Medication,
    SerologyResult,
    decision_problems,
    evaluate_donor,
    requires_lookback,
    rereview_problems,
    stored_missing,
    stored_reasons,
    text_error,
)
from donors.services.criteria import active_criteria, parse
from donors.services.queries import active_answers, active_medications, active_serology
from donors.states import DONOR_WORKFLOW, ELIGIBLE, INELIGIBLE

# The comment of a determination the system writes (stored in English; the donor page shows it translated).
SYSTEM_REEVALUATION = N_("automatic re-evaluation after new evidence; look-back started")

# --- evaluation -----------------------------------------------------------------------------------


def donor_facts(session: Session, donor: Donor, evaluation_date: date | None = None) -> DonorFacts:
    """The donor's current (not voided) data as the pure rules take it."""
    return DonorFacts(
        evaluation_date=evaluation_date or today(),
        harvest_date=donor.harvest_date,
        weight_kg=donor.weight_kg,
        answers={
            a.question_id: Answer(a.answer, a.event_date, a.detail) for a in active_answers(session, donor)
        },
        medications=tuple(
            Medication(m.kind, m.name, m.start_date, m.stop_date) for m in active_medications(session, donor)
        ),
        serology=tuple(
            SerologyResult(r.marker, r.result, r.sample_date, r.test_date, r.method, r.kit_lot)
            for r in active_serology(session, donor)
        ),
        risk_assessment_documented=bool(donor.hbc_risk_assessment),
    )


def evaluate(session: Session, donor: Donor, criteria_row: CriteriaSetVersion | None = None) -> Determination:
    """The determination the rules reach today under the active (or given) criteria version; writes nothing."""
    row = criteria_row or active_criteria(session)
    return evaluate_donor(donor_facts(session, donor), parse(row))


def write_determination(
    session: Session, donor: Donor, row: CriteriaSetVersion, det: Determination, decision: str, comment: str
) -> DeterminationRecord:
    record = DeterminationRecord(
        donor_id=donor.id,
        criteria_set_id=row.id,
        criteria_label=row.label,
        outcome=det.outcome,
        decision=decision,
        reasons=json.dumps(stored_reasons(det.reasons)),
        missing=json.dumps(stored_missing(det.missing)),
        comment=comment,
        harvest_date=donor.harvest_date,
        evaluation_date=today(),
    )
    session.add(record)
    session.flush()
    return record


# --- the signed determination -----------------------------------------------------------------------


def sign_determination(
    session: Session, donor: Donor, user: User, password: str, decision: str, comment: str = ""
) -> DeterminationRecord:
    """Record the determination and take the donor to `decision`, signed by `user` with the meaning the
    workflow states ("Donor eligibility determination"). Refused naming every problem (the rules', the
    workflow's) or on a wrong password; the caller's unit of work then writes nothing."""
    comment = (comment or "").strip()
    if len(comment) > 2000:
        refuse_if({"comment": t("comment: at most 2000 characters")})
    row = active_criteria(session)
    det = evaluate(session, donor, row)
    problems = decision_problems(
        is_autologous=donor.is_autologous,
        under_lookback=donor.under_lookback,
        outcome=det.outcome,
        decision=decision,
        comment=comment,
    )
    reason = comment or f"signed {decision} under {row.label}"
    if problems:  # named together with the workflow's own; nothing is recorded
        change_status(
            session, donor, DONOR_WORKFLOW, decision, password=password, reason=reason, problems=problems
        )
    record = write_determination(session, donor, row, det, decision, comment)
    change = change_status(
        session,
        donor,
        DONOR_WORKFLOW,
        decision,
        password=password,
        signer=user,
        content=determination_content(donor, record),
        reason=reason,
    )
    record.signature_id = change.signature_id
    session.flush()
    return record


def determination_content(donor: Donor, record: DeterminationRecord) -> dict:
    """Exactly what the signature covers (the signature id itself excluded): the stored JSON as stored."""
    return {
        "donor": donor.code,
        "donor_id": donor.id,
        "determination_id": record.id,
        "criteria_set": record.criteria_label,
        "criteria_set_id": record.criteria_set_id,
        "outcome": record.outcome,
        "decision": record.decision,
        "comment": record.comment,
        "reasons": json.loads(record.reasons),
        "missing": json.loads(record.missing),
        "harvest_date": record.harvest_date,
        "evaluation_date": record.evaluation_date,
    }


def signatures_with_validity(session: Session, donor: Donor, records: list[DeterminationRecord]):
    """[(record, signature, still valid)] for the signed determinations, newest first."""
    out = []
    for record in records:
        if record.signature_id is not None:
            sig = session.get(Signature, record.signature_id)
            out.append((record, sig, signature_valid(sig, determination_content(donor, record))))
    return out


def reevaluate_all(session: Session, criteria_row: CriteriaSetVersion) -> list[tuple[Donor, Determination]]:
    """What the rules of `criteria_row` find for every allogeneic donor (read only), to show QA which
    donors a new version would change; QA then signs a new determination donor by donor."""
    donors = session.scalars(select(Donor).where(Donor.is_autologous.is_(False)).order_by(Donor.code))
    return [(d, evaluate(session, d, criteria_row)) for d in donors]


# --- look-back ------------------------------------------------------------------------------------


def start_lookback(session: Session, donor: Donor, reason: str) -> None:
    """Flag the donor for look-back: an eligible donor becomes ineligible, and the signal
    `donor_lookback_started` has every receiver hold what derives from the donor, in the same
    transaction. Used by QA by hand and by the automatic re-evaluation."""
    if message := text_error(reason, t("reason"), 500):
        refuse_if({"reason": message})
    if donor.under_lookback:
        refuse_if(
            problems=[
                Problem(
                    "DON-LOOKBACK-STARTED",
                    t("donor %(code)s is already under look-back", code=donor.code),
                    donor.lookback_reason or "",
                    "reason",
                )
            ]
        )
    if donor.status == ELIGIBLE:
        change_status(session, donor, DONOR_WORKFLOW, INELIGIBLE, reason=f"Look-back: {reason.strip()}")
    donor.under_lookback = True
    donor.lookback_reason = reason.strip()
    session.flush()
    donor_lookback_started.send(session, donor=donor)


def reevaluate_after_new_evidence(session: Session, donor: Donor) -> DeterminationRecord | None:
    """After any new answer, result, void or harvest date on a donor signed eligible: if the rules now
    find the donor ineligible (a late positive), record the re-evaluation and start the look-back."""
    if donor.is_autologous or donor.status != ELIGIBLE or donor.under_lookback:
        return None
    row = active_criteria(session)
    det = evaluate(session, donor, row)
    if not requires_lookback(ELIGIBLE, det):
        return None
    causes = "; ".join(f"{r.rule_id}: {r.evidence}" for r in det.reasons)
    record = write_determination(session, donor, row, det, INELIGIBLE, SYSTEM_REEVALUATION)
    start_lookback(session, donor, f"new evidence after the eligible determination ({causes})")
    return record


def rereview(session: Session, donor: Donor, record: DeterminationRecord) -> list[Problem]:
    """A signed determination taken on screening entries corrected or voided since: one problem per entry
    (donors.rules.rereview_problems), shown on the record for the responsible person's re-review."""
    if record.signature_id is None:
        return []
    changes = []
    for model, ref in (
        (ScreeningAnswer, lambda e: t("answer #%(id)s (%(question)s)", id=e.id, question=e.question_id)),
        (
            MedicationCourse,
            lambda e: t("medication #%(id)s (%(kind)s %(name)s)", id=e.id, kind=t(e.kind), name=e.name),
        ),
        (
            SerologyTest,
            lambda e: t(
                "serology #%(id)s (%(marker)s %(result)s)", id=e.id, marker=e.marker, result=t(e.result)
            ),
        ),
    ):
        voided = session.scalars(
            select(model).where(model.donor_id == donor.id, model.voided_at.is_not(None))
        )
        changes += [EntryChange(ref(e), e.recorded_at, e.voided_at, e.void_reason or "") for e in voided]
    return rereview_problems(record.evaluated_at, changes)
