"""Screening entries: questionnaire answers, medication courses, serology results, and their void.

Every entry is checked for impossible input first (nothing is written when one field is wrong); every
write re-evaluates a donor signed eligible, which may start a look-back (a late positive).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from bank.clock import today, utcnow
from bank.i18n import t
from bank.refusals import FORM, Refused, refuse_if
from donors.models import Donor, MedicationCourse, ScreeningAnswer, SerologyTest
from donors.rules import (
    Medication,
    SerologyResult,
    medication_errors,
    serology_errors,
    text_error,
    window_error,
)
from donors.services.criteria import active_criteria, parse
from donors.services.determination import reevaluate_after_new_evidence
from donors.services.queries import active_answers

# answers: question_id -> (yes/no, or None for "not answered"; date of the event; detail)
AnswerInput = tuple[bool | None, date | None, str]


def _answer_errors(criteria, donor: Donor, answers: dict[str, AnswerInput]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for qid, (value, event_date, detail) in answers.items():
        key = f"answers.{qid}"
        if qid not in {q.question_id for q in criteria.questions}:
            errors[key] = t(
                "unknown question %(question)s in %(criteria)s", question=qid, criteria=criteria.label
            )
            continue
        if event_date is not None and value:
            if not criteria.question(qid).asks_date:
                errors[f"{key}.event_date"] = t("this question does not ask a date")
            elif event_date > today():
                errors[f"{key}.event_date"] = t("date %(date)s is in the future", date=event_date)
            elif event_date < donor.birth_date:
                errors[f"{key}.event_date"] = t("date is before the donor's date of birth")
        if message := text_error(detail, t("detail"), 300, required=False):
            errors[f"{key}.detail"] = message
    return errors


def record_answers(session: Session, donor: Donor, answers: dict[str, AnswerInput], reason: str = "") -> int:
    """Record the questionnaire; returns how many answers changed. An answer recorded before is never
    edited: a changed or cleared one is voided with `reason` (or the unit of work's; required then, error
    key "reason") and the new
    answer names it (replaces_id), so the original stays visible. Errors are keyed
    "answers.<question id>.<field>"."""
    criteria = parse(active_criteria(session))
    errors = _answer_errors(criteria, donor, answers)
    current = {a.question_id: a for a in active_answers(session, donor)}
    changes = {}
    for qid, (value, event_date, detail) in answers.items():
        new = (value, event_date if value else None, (detail or "").strip())  # a date only qualifies a "yes"
        old = current.get(qid)
        if (old is None and value is not None) or (
            old is not None and (old.answer, old.event_date, old.detail) != new
        ):
            changes[qid] = new
    reason = (reason or "").strip() or (session.info.get("reason") or "").strip()  # or the act's reason
    if any(qid in current for qid in changes) and not reason:
        errors["reason"] = t("say why recorded answers change (the originals stay on record)")
    refuse_if(errors)
    actor = session.info["actor"]
    for qid, (value, event_date, detail) in changes.items():
        old = current.get(qid)
        if old is not None:
            _void(old, reason, actor.id)
        if value is not None:
            session.add(
                ScreeningAnswer(
                    donor_id=donor.id,
                    question_id=qid,
                    answer=value,
                    event_date=event_date,
                    detail=detail,
                    recorded_by_id=actor.id,
                    replaces_id=old.id if old is not None else None,
                )
            )
    session.flush()
    if changes:
        reevaluate_after_new_evidence(session, donor)
    return len(changes)


def record_answer(
    session: Session,
    donor: Donor,
    question_id: str,
    value: bool | None,
    event_date: date | None = None,
    detail: str = "",
    reason: str = "",
) -> int:
    return record_answers(session, donor, {question_id: (value, event_date, detail)}, reason)


def record_medication(
    session: Session, donor: Donor, kind: str, name: str, start_date: date, stop_date: date | None
) -> MedicationCourse:
    """A course of treatment (stop None = ongoing). Errors keyed kind, name, start_date, stop_date."""
    criteria = parse(active_criteria(session))
    med = Medication(kind, (name or "").strip(), start_date, stop_date)
    names = {"kind": "kind", "name": "name", "start": "start_date", "stop": "stop_date"}
    errors = {names[k]: v for k, v in medication_errors(med, today(), criteria).items()}
    if "name" not in errors and (message := text_error(name, t("medication name"), 120)):
        errors["name"] = message
    if "start_date" not in errors and start_date < donor.birth_date:
        errors["start_date"] = t("start is before the donor's date of birth")
    refuse_if(errors)
    return _add_evidence(
        session, donor, MedicationCourse(kind=kind, name=med.name, start_date=start_date, stop_date=stop_date)
    )


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
        ("method", method, t("method"), 60),
        ("kit", kit, t("kit"), 120),
        ("kit_lot", kit_lot, t("kit lot"), 60),
    ):
        if message := text_error(value, label, size):
            errors[field] = message
    if "sample_date" not in errors and sample_date < donor.birth_date:
        errors["sample_date"] = t("sample date is before the donor's date of birth")
    refuse_if(errors)
    test = SerologyTest(
        marker=marker,
        method=method.strip(),
        kit=kit.strip(),
        kit_lot=kit_lot.strip(),
        sample_date=sample_date,
        test_date=test_date,
        result=result,
    )
    return _add_evidence(session, donor, test)


def _add_evidence(session: Session, donor: Donor, entry: MedicationCourse | SerologyTest):
    """Store a new entry of the donor's evidence, recorded by the acting user, and judge the donor again."""
    entry.donor_id, entry.recorded_by_id = donor.id, session.info["actor"].id
    session.add(entry)
    session.flush()
    reevaluate_after_new_evidence(session, donor)
    return entry


def _void(entry, reason: str, actor_id: int | None) -> None:
    entry.voided_at, entry.void_reason, entry.voided_by_id = utcnow(), reason, actor_id


def void_entry(
    session: Session, entry: ScreeningAnswer | MedicationCourse | SerologyTest, reason: str
) -> None:
    """Void an entry made in error (records are never deleted); the reason is required."""
    _refuse_unless_voidable(entry, reason, t("this entry is already voided"))
    _void_and_judge_again(session, entry, reason)


def correct_medication(
    session: Session,
    course: MedicationCourse,
    reason: str,
    kind: str,
    name: str,
    start_date: date,
    stop_date: date | None,
) -> MedicationCourse:
    """Correct a course typed wrongly: the corrected course is recorded (same checks as a new one) and
    names the original, which is voided with the reason and stays visible. Donor entries have no second-person
    verification: whoever may edit the donor corrects, and the determination signed on the original is
    flagged for re-review (determination.rereview)."""
    _refuse_unless_voidable(
        course, reason, t("this entry is already voided or corrected: correct the current one")
    )
    new = record_medication(session, session.get(Donor, course.donor_id), kind, name, start_date, stop_date)
    new.replaces_id = course.id
    _void_and_judge_again(session, course, reason)
    return new


def correct_serology(session: Session, test: SerologyTest, reason: str, **fields) -> SerologyTest:
    """Correct a serology result typed wrongly (fields as record_serology's); the original is voided with
    the reason and named by the correction."""
    _refuse_unless_voidable(
        test, reason, t("this entry is already voided or corrected: correct the current one")
    )
    new = record_serology(session, session.get(Donor, test.donor_id), **fields)
    new.replaces_id = test.id
    _void_and_judge_again(session, test, reason)
    return new


def _refuse_unless_voidable(entry, reason: str, already_voided: str) -> None:
    """Voiding or correcting an entry needs a reason, and an entry is voided once."""
    errors = {}
    if message := text_error(reason, t("reason"), 500):
        errors["reason"] = message
    elif entry.voided_at is not None:
        errors["reason"] = already_voided
    refuse_if(errors)


def _void_and_judge_again(session: Session, entry, reason: str) -> None:
    """The entry is voided with the reason (it stays visible, struck through) and its donor judged again."""
    _void(entry, reason.strip(), session.info["actor"].id)
    session.flush()
    reevaluate_after_new_evidence(session, session.get(Donor, entry.donor_id))


@dataclass(frozen=True)
class SerologyRow:
    """One marker's row of the serology panel as typed; a row without a result is not entered."""

    marker: str
    result: str = ""
    method: str = ""
    kit: str = ""
    kit_lot: str = ""
    sample_date: date | None = None
    test_date: date | None = None


def record_serology_panel(session: Session, donor: Donor, rows: list[SerologyRow]) -> list[SerologyTest]:
    """The donor's serology panel on one form: rows without a result are skipped; an empty field of a row
    takes the first filled row's (one sample, one method and kit for most panels); a sample outside the
    window is refused here (it would not count; the single-result form still records it). Every row's errors
    keyed "<marker>__<field>", nothing stored unless every filled row is valid (the caller's unit of work)."""
    criteria = parse(active_criteria(session))
    filled = [r for r in rows if (r.result or "").strip()]
    if not filled:
        raise Refused(
            {FORM: t("Give the result of at least one marker: rows without a result are not entered.")}
        )
    first = filled[0]
    errors: dict[str, str] = {}
    entered = []
    for row in filled:
        key = row.marker or "row"
        if not (row.marker or "").strip():
            errors[f"{key}__marker"] = t("choose a marker")
            continue
        row = replace(
            row,
            method=row.method or first.method,
            kit=row.kit or first.kit,
            kit_lot=row.kit_lot or first.kit_lot,
            sample_date=row.sample_date or first.sample_date,
            test_date=row.test_date or first.test_date,
        )
        if row.sample_date is None or row.test_date is None:
            for name in ("sample_date", "test_date"):
                if getattr(row, name) is None:
                    errors[f"{key}__{name}"] = t("give the date (or on the first row)")
            continue
        if message := window_error(row.sample_date, donor.harvest_date, criteria):
            errors[f"{key}__sample_date"] = message
            continue
        try:
            entered.append(record_serology(session, donor, **asdict(row)))  # a row's fields are its arguments
        except Refused as refused:
            errors.update({f"{key}__{name}": message for name, message in refused.errors.items()})
    refuse_if(errors)
    return entered
