"""QC results of a lot: entered by an analyst against the lot's specification, judged by the rules,
verified by a second person; a retest supersedes the original, which is kept (21 CFR 211.194)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from bank.clock import utcnow
from bank.uow import current_actor
from lots.models import Lot
from lots.services import harvest_of
from release.models import LotRelease, ResultAttachment, SpecificationVersion, TestResult
from release.rules import (
    PERCENT,
    MarkerPanelTest,
    NumericTest,
    QualitativeTest,
    ResultFacts,
    SpecTest,
    Verdict,
    evaluate,
)
from release.services.alerts import raise_late_result_alert
from release.services.errors import FORM, ReleaseError, refuse_if, unstorable
from release.services.specifications import effective_specification, ensure_seed_specifications

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # raw data print-outs and exports; larger files stay in the LIMS


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
    return list(session.scalars(select(TestResult).where(TestResult.lot_id == lot.id).order_by(TestResult.id)))


def current_result(session: Session, lot: Lot, test_code: str) -> TestResult | None:
    return session.scalar(select(TestResult).where(TestResult.lot_id == lot.id, TestResult.test_code == test_code,
                                                   TestResult.superseded_by_id.is_(None)))


def result_facts(results: list[TestResult]) -> list[ResultFacts]:
    return [ResultFacts(r.test_code, r.verdict, r.verified, r.entered_by_id, r.verified_by_id,
                        is_conditional=r.conditional, superseded=r.superseded, result_ref=str(r.id))
            for r in results]


# --- judging what was typed -------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() else None


def _judge(test: SpecTest, value: str, unit: str, markers: dict[str, str] | None,
           errors: dict[str, str]) -> tuple[Verdict | None, str]:
    """The verdict and the text to store, or None with `errors` naming the impossible input."""
    if isinstance(test, NumericTest):
        number = _decimal(value or "")
        if number is None:
            errors["value"] = f"{test.name} needs a number." if not (value or "").strip() else \
                f"{value.strip()!r} is not a number."
        elif test.unit == PERCENT and not 0 <= number <= 100:
            errors["value"] = f"{number} % is not a possible percentage (0–100)."
        if unit != test.unit:
            errors["unit"] = f"{test.name} is reported in {test.unit}; {unit or 'no unit'!r} does not match."
        if errors:
            return None, ""
        verdict = evaluate(test, str(number), unit)
        stored = str(number)
    elif isinstance(test, QualitativeTest):
        if unit:
            errors["unit"] = f"{test.name} has no unit: leave it empty."
        if not (value or "").strip():
            errors["value"] = f"Give the result of {test.name} (expected: {test.expected})."
        if errors:
            return None, ""
        stored = " ".join(value.split())
        verdict = evaluate(test, stored)
    else:
        assert isinstance(test, MarkerPanelTest)
        if unit not in ("", PERCENT):
            errors["unit"] = f"A marker panel is reported in % positive cells; {unit!r} does not match."
        measured = {m: v.strip() for m, v in (markers or {}).items() if (v or "").strip()}
        impossible = [f"{m} = {v!r}" for m, v in measured.items()
                      if (n := _decimal(v)) is None or not 0 <= n <= 100]
        if impossible:
            errors["markers"] = "Not a possible percentage (0–100): " + "; ".join(impossible) + "."
        if errors:
            return None, ""
        values = {m: str(_decimal(v)) for m, v in measured.items()}
        verdict = evaluate(test, values)
        stored = json.dumps(values, sort_keys=True)
    if verdict.status == "invalid":  # e.g. a marker of the panel not measured at all
        errors["markers" if isinstance(test, MarkerPanelTest) else "value"] = verdict.message
        return None, ""
    return verdict, stored


def _attachment(session: Session, upload: Upload | None, errors: dict[str, str]) -> ResultAttachment | None:
    if upload is None or not upload.filename:
        return None
    if not upload.data:
        errors["attachment"] = "The file is empty."
    elif len(upload.data) > MAX_ATTACHMENT_BYTES:
        errors["attachment"] = f"The file is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB."
    if "attachment" in errors:
        return None
    return ResultAttachment(filename=(secure_filename(upload.filename) or "attachment")[:200],
                            content_type=(upload.content_type or "application/octet-stream")[:100],
                            size=len(upload.data), sha256=hashlib.sha256(upload.data).hexdigest(),
                            data=upload.data, uploaded_by_id=current_actor(session).id)


# --- entering and verifying -------------------------------------------------------------------


def _entry_problem(lot: Lot, record: LotRelease | None, existing: TestResult | None) -> str | None:
    if lot.status == "rejected":
        return f"Lot {lot.din} is rejected: its results are closed."
    if lot.status == "released":
        # After a conditional release the one result still expected is the final reading of the test
        # released on its interim result (sterility); the lot is otherwise closed.
        if not (record and record.conditional and existing is not None and existing.conditional):
            return f"Lot {lot.din} is released: its results are closed."
    return None


def enter_result(session: Session, lot: Lot, *, test_code: str, method: str, instrument: str,
                 performed_on: date | None, value: str = "", unit: str = "", markers: dict[str, str] | None = None,
                 attachment: Upload | None = None, retest_of_id: int | None = None,
                 retest_reason: str | None = None, today: date | None = None) -> TestResult:
    """Record a result of a specification test with its verdict, or raise ReleaseError naming every
    impossible input by field (nothing is written then). A test that already has a current result takes
    a retest (`retest_of_id` and a reason), except an interim result, which the next reading supersedes."""
    errors = unstorable({"method": method, "instrument": instrument, "value": value, "unit": unit,
                         "retest_reason": retest_reason, "test_code": test_code,
                         "markers": " ".join((markers or {}).values())})
    refuse_if(errors)
    spec_row = lot_specification(session, lot)
    if spec_row is None:
        ensure_seed_specifications(session)
        spec_row = lot_specification(session, lot)
    if spec_row is None:
        raise ReleaseError({FORM: f"No effective specification for {lot.product_type.key}: QA must approve one."})
    original = session.get(TestResult, retest_of_id) if retest_of_id else None
    if retest_of_id and (original is None or original.lot_id != lot.id):
        raise ReleaseError({FORM: "The result to retest is not a result of this lot."})
    if original is not None:
        test_code = original.test_code  # a retest is of the same test, whatever the form says
        if original.superseded:
            errors[FORM] = f"Result #{original.id} was already superseded: retest the current result."
        if not (retest_reason or "").strip() and not original.conditional:
            errors["retest_reason"] = "A retest needs a reason (e.g. the OOS investigation reference)."
    test = spec_row.spec().get_test(test_code or "")
    if test is None:
        raise ReleaseError({"test_code": f"{(test_code or '').strip()!r} is not a test of specification "
                                         f"{spec_row.label}."})
    existing = current_result(session, lot, test.code)
    if problem := _entry_problem(lot, release_record(session, lot), existing):
        raise ReleaseError({FORM: problem})
    if existing is not None and original is None and not existing.conditional:
        errors["test_code"] = (f"{test.name} already has result #{existing.id}; to replace it, retest it "
                               "with a reason (the original is kept).")
    for field, text, limit in (("method", method, 200), ("instrument", instrument, 120)):
        if len((text or "").strip()) > limit:
            errors[field] = f"At most {limit} characters."
    if not (method or "").strip():
        errors["method"] = "Name the method (e.g. Ph. Eur. 2.6.27, BacT/ALERT)."
    if performed_on is None:
        errors["performed_on"] = "Give the date the test was performed."
    elif performed_on > (today or utcnow().date()):
        errors["performed_on"] = "Cannot be in the future."
    elif (harvest := harvest_of(session, lot)) and performed_on < harvest.collected_at.date():
        errors["performed_on"] = f"Before the harvest of this lot ({harvest.collected_at:%Y-%m-%d})."
    verdict, stored = _judge(test, value, (unit or "").strip(), markers, errors)
    file = _attachment(session, attachment, errors)
    refuse_if(errors)
    record = open_release_record(session, lot)
    if file is not None:
        session.add(file)
        session.flush()
    replaced = original or existing
    if replaced is not None and replaced.conditional and not (retest_reason or "").strip():
        retest_reason = "Final reading after an interim result" if not verdict.conditional else "Later interim reading"
    result = TestResult(lot_id=lot.id, release_id=record.id, test_code=test.code, test_kind=test.kind,
                        method=method.strip(), instrument=(instrument or "").strip(), performed_on=performed_on,
                        value=stored, unit=(unit or "").strip() if isinstance(test, NumericTest) else
                        (PERCENT if isinstance(test, MarkerPanelTest) else ""),
                        verdict=verdict.status, verdict_message=verdict.message, conditional=verdict.conditional,
                        entered_by_id=current_actor(session).id, attachment_id=file.id if file else None,
                        retest_of_id=replaced.id if replaced else None,
                        retest_reason=retest_reason.strip() if replaced else None)
    session.add(result)
    session.flush()
    if replaced is not None:
        replaced.superseded_by_id = result.id
        session.flush()
    if record.decision == "released" and record.conditional:
        raise_late_result_alert(session, lot, result, verdict)
    return result


def verify_result(session: Session, result: TestResult) -> None:
    """Second-person verification: never by the person who entered the result (also a database CHECK)."""
    actor = current_actor(session)
    lot = session.get(Lot, result.lot_id)
    if result.verified:
        raise ReleaseError({FORM: f"Result #{result.id} is already verified."})
    if result.superseded:
        raise ReleaseError({FORM: f"Result #{result.id} was superseded by a retest: verify the current one."})
    if result.entered_by_id == actor.id:
        raise ReleaseError({FORM: f"You entered result #{result.id}: a second person must verify it."})
    if lot.status == "rejected":
        raise ReleaseError({FORM: f"Lot {lot.din} is rejected: its results are closed."})
    result.verified_by_id = actor.id
    result.verified_at = utcnow()
    session.flush()
