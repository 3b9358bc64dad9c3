"""QC results of a lot: entered by an analyst against the lot's specification, judged by the rules,
verified by a second person; a retest supersedes the original, which is kept (21 CFR 211.194)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from bank.clock import today as today_
from bank.clock import utcnow
from bank.i18n import N_, t
from bank.refusals import FORM, Problem, Refused, control_character_errors, refuse_if
from bank.uow import current_actor
from lots.models import Lot
from lots.services import harvest_of
from lots.states import LOT_WORKFLOW
from release.models import CORRECTION_PREFIX, LotRelease, ResultAttachment, SpecificationVersion, TestResult
from release.rules import (
    PERCENT,
    LotFacts,
    MarkerPanelTest,
    NumericTest,
    ResultFacts,
    SpecTest,
    correction_problems,
    entry_errors,
    entry_problems,
    judge_entry,
    results_closed,
    verification_problems,
)
from release.rules.verdicts import Verdict, evaluate
from release.services.alerts import raise_late_result_alert
from release.services.specifications import effective_specification, ensure_seed_specifications

CONFIRM_OOS = "confirm_out_of_specification"  # the input that confirms an out-of-specification result
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # raw data print-outs and exports; larger files stay in the LIMS
# The reasons the system records when a reading replaces an interim one (stored in English, shown with |tr).
FINAL_READING = N_("Final reading after an interim result")
LATER_INTERIM_READING = N_("Later interim reading")


@dataclass(frozen=True)
class Upload:
    """A raw data file as the form received it."""

    filename: str
    content_type: str
    data: bytes


def release_record(session: Session, lot: Lot) -> LotRelease | None:
    return session.scalar(select(LotRelease).where(LotRelease.lot_id == lot.id))


def lot_specification(session: Session, lot: Lot) -> SpecificationVersion | None:
    """The version the lot is judged against: the one on its release record, else today's effective one."""
    record = release_record(session, lot)
    if record is not None and record.specification is not None:
        return record.specification
    return effective_specification(session, lot.product_type.key)


def open_release_record(session: Session, lot: Lot) -> LotRelease:
    """The lot's release record, created on first need with the specification then effective (seeded
    on first use), so later versions never change the rules a lot is being tested against."""
    record = release_record(session, lot)
    if record is None:
        ensure_seed_specifications(session)
        spec = effective_specification(session, lot.product_type.key)
        record = LotRelease(lot_id=lot.id, specification_id=spec.id if spec else None)
        session.add(record)
        session.flush()
    return record


def results_of(session: Session, lot: Lot) -> list[TestResult]:
    return list(
        session.scalars(select(TestResult).where(TestResult.lot_id == lot.id).order_by(TestResult.id))
    )


def current_result(session: Session, lot: Lot, test_code: str) -> TestResult | None:
    return session.scalar(
        select(TestResult).where(
            TestResult.lot_id == lot.id,
            TestResult.test_code == test_code,
            TestResult.superseded_by_id.is_(None),
            TestResult.voided_at.is_(None),
        )
    )


def result_facts(results: list[TestResult]) -> list[ResultFacts]:
    return [_facts(r) for r in results]


def _facts(r: TestResult) -> ResultFacts:
    return ResultFacts(
        r.test_code,
        r.verdict,
        r.verified,
        r.entered_by_id,
        r.verified_by_id,
        is_conditional=r.conditional,
        superseded=r.superseded,
        result_ref=str(r.id),
        voided=r.voided,
    )


def lot_facts(lot: Lot) -> LotFacts:
    return LotFacts(
        lot.din, lot.status, LOT_WORKFLOW.label(lot.status), lot.quarantined, lot.product_type.key
    )


def _attachment(session: Session, upload: Upload | None, errors: dict[str, str]) -> ResultAttachment | None:
    if upload is None or not upload.filename:
        return None
    if not upload.data:
        errors["attachment"] = t("The file is empty.")
    elif len(upload.data) > MAX_ATTACHMENT_BYTES:
        errors["attachment"] = t(
            "The file is larger than %(size)s MB.", size=MAX_ATTACHMENT_BYTES // (1024 * 1024)
        )
    if "attachment" in errors:
        return None
    return ResultAttachment(
        filename=(secure_filename(upload.filename) or "attachment")[:200],
        content_type=(upload.content_type or "application/octet-stream")[:100],
        size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        data=upload.data,
        uploaded_by_id=current_actor(session).id,
    )


# --- entering and verifying -------------------------------------------------------------------


def enter_result(
    session: Session,
    lot: Lot,
    *,
    test_code: str,
    method: str,
    instrument: str,
    performed_on: date | None,
    value: str = "",
    unit: str = "",
    markers: dict[str, str] | None = None,
    attachment: Upload | None = None,
    retest_of_id: int | None = None,
    retest_reason: str | None = None,
    today: date | None = None,
    confirm_out_of_specification: bool = False,
    corrects: bool = False,
) -> TestResult:
    """Record a result of a specification test with its verdict, or raise Refused: impossible input by field
    (422), or the rule that forbids a result now (409: the lot's results are closed, the test already has
    a current result, ...); nothing is written then. A test that already has a current result takes a
    retest (`retest_of_id` and a reason), except an interim result, which the next reading supersedes.
    An out-of-specification result is stored only with `confirm_out_of_specification` (else an input error
    on that field says why); `corrects` marks a correction of `retest_of_id` (see correct_result)."""
    refuse_if(
        control_character_errors(
            {
                "method": method,
                "instrument": instrument,
                "value": value,
                "unit": unit,
                "retest_reason": retest_reason,
                "test_code": test_code,
                "markers": " ".join((markers or {}).values()),
            }
        )
    )
    spec_row = lot_specification(session, lot)
    if spec_row is None:
        ensure_seed_specifications(session)
        spec_row = lot_specification(session, lot)
    if spec_row is None:
        raise Refused.rule(
            "release.no_specification",
            t(
                "No effective specification for %(product)s: QA must approve one.",
                product=lot.product_type.key,
            ),
            lot.product_type.key,
        )
    original = session.get(TestResult, retest_of_id) if retest_of_id else None
    if retest_of_id and (original is None or original.lot_id != lot.id):
        raise Refused({FORM: t("The result to retest is not a result of this lot.")})
    if original is not None:
        test_code = original.test_code  # a retest is of the same test, whatever the form says
    test = spec_row.spec().get_test(test_code or "")
    if test is None:
        raise Refused(
            {
                "test_code": t(
                    "'%(code)s' is not a test of specification %(spec)s.",
                    code=(test_code or "").strip(),
                    spec=spec_row.label,
                )
            }
        )
    existing = current_result(session, lot, test.code)
    record = release_record(session, lot)
    refuse_if(
        # A correction of a typing error is possible after release (the release is flagged for re-review).
        problems=results_closed(
            lot_facts(lot),
            bool(record and record.conditional),
            existing is not None and existing.conditional,
            corrects,
        )
    )
    harvest = harvest_of(session, lot)
    retest_facts = _facts(original) if original is not None else None
    errors = entry_errors(
        method,
        instrument,
        performed_on,
        today or today_(),
        harvest.collected_at.date() if harvest else None,
        retest_facts,
        retest_reason,
    )
    problems: list[Problem] = entry_problems(test, _facts(existing) if existing else None, retest_facts)
    verdict, stored, typed = judge_entry(test, value, (unit or "").strip(), markers)
    errors.update(typed)
    if verdict is not None and verdict.status == "fail" and not confirm_out_of_specification:
        errors[CONFIRM_OOS] = t(
            "%(verdict)s Storing it records an out-of-specification result on the certificate of "
            "analysis: check the value and confirm.",
            verdict=verdict.message,
        )
    file = _attachment(session, attachment, errors)
    refuse_if(errors, problems)
    record = open_release_record(session, lot)
    if file is not None:
        session.add(file)
        session.flush()
    replaced = original or existing
    if replaced is not None and replaced.conditional and not (retest_reason or "").strip():
        retest_reason = FINAL_READING if not verdict.conditional else LATER_INTERIM_READING
    result = TestResult(
        lot_id=lot.id,
        release_id=record.id,
        test_code=test.code,
        test_kind=test.kind,
        method=method.strip(),
        instrument=(instrument or "").strip(),
        performed_on=performed_on,
        value=stored,
        unit=(unit or "").strip()
        if isinstance(test, NumericTest)
        else (PERCENT if isinstance(test, MarkerPanelTest) else ""),
        verdict=verdict.status,
        verdict_message=verdict.message,
        conditional=verdict.conditional,
        entered_by_id=current_actor(session).id,
        attachment_id=file.id if file else None,
        retest_of_id=replaced.id if replaced else None,
        retest_reason=retest_reason.strip() if replaced else None,
        corrects=corrects,
    )
    session.add(result)
    session.flush()
    if replaced is not None:
        replaced.superseded_by_id = result.id
        session.flush()
    if record.decision == "released" and record.conditional:
        raise_late_result_alert(session, lot, result, verdict)
    return result


def verdict_of(test: SpecTest | None, result: TestResult) -> Verdict | None:
    """A recorded result judged again against its test, to say its verdict in the reader's language (the
    same rules give the same verdict; the stored English `verdict_message` stays the record). None when the
    test is no longer in the specification."""
    if test is None:
        return None
    return evaluate(test, result.parsed_value(), result.unit)


def verify_result(session: Session, result: TestResult) -> None:
    """Second-person verification: never by the person who entered it (also a database CHECK); refused
    (409) naming every reason."""
    actor = current_actor(session)
    lot = session.get(Lot, result.lot_id)
    refuse_if(problems=verification_problems(_facts(result), actor.id, lot_facts(lot)))
    result.verified_by_id = actor.id
    result.verified_at = utcnow()
    session.flush()


# --- corrections that keep the original (issue 18) -----------------------------------------------


def correct_result(
    session: Session, result: TestResult, *, reason: str, confirm_out_of_specification: bool = False, **typed
) -> TestResult:
    """Correct a result typed wrongly: a new result (judged again, verified by a second person like any
    result) supersedes it, the original kept with the reason. Before verification only its author corrects
    it (release.rules.correction_problems). A release signed on the original is flagged for re-review.
    `typed`: the corrected method, instrument, performed_on, value, unit and markers, as enter_result's."""
    lot = session.get(Lot, result.lot_id)
    errors = {} if (reason or "").strip() else {"reason": t("Say why the result is corrected.")}
    refuse_if(errors, correction_problems(_facts(result), current_actor(session).id, lot_facts(lot), False))
    return enter_result(
        session,
        lot,
        test_code=result.test_code,
        retest_of_id=result.id,
        retest_reason=f"{CORRECTION_PREFIX}{reason.strip()}",
        confirm_out_of_specification=confirm_out_of_specification,
        corrects=True,
        **typed,
    )


def void_result(session: Session, result: TestResult, reason: str) -> None:
    """Void a result entered in error, before its verification, by its author: the test has no result
    again; the voided one stays on record (who, when, why) and on the certificate."""
    lot = session.get(Lot, result.lot_id)
    actor = current_actor(session)
    errors = control_character_errors({"reason": reason})
    if not (reason or "").strip():
        errors["reason"] = t("Say why the result is voided.")
    elif len(reason.strip()) > 500:
        errors["reason"] = t("At most %(limit)s characters.", limit=500)
    refuse_if(errors, correction_problems(_facts(result), actor.id, lot_facts(lot), True))
    result.voided_at, result.voided_by_id, result.void_reason = utcnow(), actor.id, reason.strip()
    session.flush()
