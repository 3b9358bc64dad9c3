"""Screening entries: questionnaire answers, medication courses, serology results, and their void.

Every entry is checked for impossible input first (nothing is written when one field is wrong); every
write re-evaluates a donor signed eligible, which may start a look-back (a late positive).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from bank.clock import today, utcnow
from bank.refusals import refuse_if
from donors.models import Donor, MedicationCourse, ScreeningAnswer, SerologyTest
from donors.rules import (
    CriteriaSet,
    Medication,
    SerologyResult,
    medication_errors,
    serology_errors,
    text_error,
)
from donors.services.criteria import active_criteria, parse
from donors.services.determination import reevaluate_after_new_evidence
from donors.services.queries import active_answers

# answers: question_id -> (yes/no, or None for "not answered"; date of the event; detail)
AnswerInput = tuple[bool | None, date | None, str]


def record_answers(session: Session, donor: Donor, answers: dict[str, AnswerInput]) -> int:
    """Record the questionnaire; returns how many answers changed. A question answered before and now
    left unanswered has its answer voided. Errors are keyed "answers.<question id>.<field>"."""
    refuse_if(_answer_errors(parse(active_criteria(session)), donor, answers))
    current = {a.question_id: a for a in active_answers(session, donor)}
    changed = 0
    for qid, (value, event_date, detail) in answers.items():
        detail = (detail or "").strip()
        event_date = event_date if value else None  # a date only qualifies a "yes"
        changed += _store_answer(session, donor, current.get(qid), qid, value, event_date, detail)
    session.flush()
    if changed:
        reevaluate_after_new_evidence(session, donor)
    return changed


def _answer_errors(criteria: CriteriaSet, donor: Donor, answers: dict[str, AnswerInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for qid, (value, event_date, detail) in answers.items():
        key = f"answers.{qid}"
        if qid not in {q.question_id for q in criteria.questions}:
            errors[key] = f"unknown question {qid} in {criteria.label}"
            continue
        if event_date is not None and value:
            if not criteria.question(qid).asks_date:
                errors[f"{key}.event_date"] = "this question does not ask a date"
            elif event_date > today():
                errors[f"{key}.event_date"] = f"date {event_date} is in the future"
            elif event_date < donor.birth_date:
                errors[f"{key}.event_date"] = "date is before the donor's date of birth"
        if message := text_error(detail, "detail", 300, required=False):
            errors[f"{key}.detail"] = message
    return errors


def _store_answer(
    session: Session,
    donor: Donor,
    old: ScreeningAnswer | None,
    qid: str,
    value: bool | None,
    event_date: date | None,
    detail: str,
) -> bool:
    """Add, change or void one answer; True when it changed."""
    if value is None:
        if old is None:
            return False
        _void(old, "answer cleared in the questionnaire")
        return True
    if old is None:
        session.add(
            ScreeningAnswer(
                donor_id=donor.id,
                question_id=qid,
                answer=value,
                event_date=event_date,
                detail=detail,
                recorded_by_id=session.info["actor"].id,
            )
        )
        return True
    if (old.answer, old.event_date, old.detail) == (value, event_date, detail):
        return False
    old.answer, old.event_date, old.detail = value, event_date, detail
    return True


def record_answer(
    session: Session,
    donor: Donor,
    question_id: str,
    value: bool | None,
    event_date: date | None = None,
    detail: str = "",
) -> int:
    return record_answers(session, donor, {question_id: (value, event_date, detail)})


def record_medication(
    session: Session, donor: Donor, kind: str, name: str, start_date: date, stop_date: date | None
) -> MedicationCourse:
    """A course of treatment (stop None = ongoing). Errors keyed kind, name, start_date, stop_date."""
    criteria = parse(active_criteria(session))
    med = Medication(kind, (name or "").strip(), start_date, stop_date)
    names = {"kind": "kind", "name": "name", "start": "start_date", "stop": "stop_date"}
    errors = {names[k]: v for k, v in medication_errors(med, today(), criteria).items()}
    if "name" not in errors and (message := text_error(name, "medication name", 120)):
        errors["name"] = message
    if "start_date" not in errors and start_date < donor.birth_date:
        errors["start_date"] = "start is before the donor's date of birth"
    refuse_if(errors)
    course = MedicationCourse(
        donor_id=donor.id,
        kind=kind,
        name=med.name,
        start_date=start_date,
        stop_date=stop_date,
        recorded_by_id=session.info["actor"].id,
    )
    session.add(course)
    session.flush()
    reevaluate_after_new_evidence(session, donor)
    return course


def record_serology(
    session: Session,
    donor: Donor,
    *,
    marker: str,
    method: str,
    kit: str,
    kit_lot: str,
    sample_date: date,
    test_date: date,
    result: str,
) -> SerologyTest:
    """One infectious-marker result. A sample outside the harvest window is kept but does not count."""
    criteria = parse(active_criteria(session))
    candidate = SerologyResult(marker, result, sample_date, test_date, (method or "").strip(), kit_lot)
    errors = serology_errors(candidate, today(), criteria)
    for field, value, label, size in (
        ("method", method, "method", 60),
        ("kit", kit, "kit", 120),
        ("kit_lot", kit_lot, "kit lot", 60),
    ):
        if message := text_error(value, label, size):
            errors[field] = message
    if "sample_date" not in errors and sample_date < donor.birth_date:
        errors["sample_date"] = "sample date is before the donor's date of birth"
    refuse_if(errors)
    test = SerologyTest(
        donor_id=donor.id,
        marker=marker,
        method=method.strip(),
        kit=kit.strip(),
        kit_lot=kit_lot.strip(),
        sample_date=sample_date,
        test_date=test_date,
        result=result,
        recorded_by_id=session.info["actor"].id,
    )
    session.add(test)
    session.flush()
    reevaluate_after_new_evidence(session, donor)
    return test


def _void(entry, reason: str) -> None:
    entry.voided_at = utcnow()
    entry.void_reason = reason


def void_entry(
    session: Session, entry: ScreeningAnswer | MedicationCourse | SerologyTest, reason: str
) -> None:
    """Void an entry made in error (records are never deleted); the reason is required."""
    errors = {}
    if message := text_error(reason, "reason", 500):
        errors["reason"] = message
    elif entry.voided_at is not None:
        errors["reason"] = "this entry is already voided"
    refuse_if(errors)
    _void(entry, reason.strip())
    session.flush()
    reevaluate_after_new_evidence(session, session.get(Donor, entry.donor_id))
