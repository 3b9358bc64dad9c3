"""QA release and rejection of a lot (21 CFR Part 11; EU GMP Annex 11 §15, Annex 16): one signed status change
of the lot (lots.states.LOT_WORKFLOW states the meaning), refused with every reason the release rules find,
and the questions the doses module asks (is the lot released, what is its endotoxin per mL)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.esign import signature_valid
from bank.i18n import t
from bank.models import Signature, User
from bank.refusals import Problem, control_character_errors, refuse_if
from bank.status import change_status
from donors.services import donor_use_facts
from lots.models import Lot
from lots.services import open_deviations
from lots.states import LOT_WORKFLOW
from release.models import LateResultAlert, LotRelease, TestResult
from release.rules import (
    DonorReleaseFacts,
    NumericTest,
    late_sterility_alert,
    lot_status_problems,
    rereview_problems,
)
from release.rules import release_problems as release_rule_problems
from release.services.results import (
    current_result,
    lot_facts,
    lot_specification,
    open_release_record,
    release_record,
    result_facts,
    results_of,
    verdict_of,
)


def donor_release_facts(session: Session, lot: Lot) -> DonorReleaseFacts:
    if lot.donor_id is None:
        # A placebo is suspension media made from no donor: there is no eligibility to determine.
        return DonorReleaseFacts(eligible_signed=True, under_lookback=False, is_autologous=False)
    use = donor_use_facts(session, lot.donor_id)
    return DonorReleaseFacts(use.eligible_signed, use.under_lookback, use.is_autologous)


def release_problems(session: Session, lot: Lot, signer_id: int, conditional: bool) -> list[Problem]:
    """Every reason `signer_id` may not release the lot now, its status included (empty: release permitted)."""
    facts = lot_facts(lot)
    return lot_status_problems(facts) + _rule_problems(session, lot, signer_id, conditional)


def _rule_problems(session: Session, lot: Lot, signer_id: int, conditional: bool) -> list[Problem]:
    spec_row = lot_specification(session, lot)
    if spec_row is None:
        return release_rule_problems(lot_facts(lot), None, (), (), _NO_DONOR, signer_id, conditional)
    return release_rule_problems(
        lot_facts(lot),
        spec_row.spec(),
        result_facts(results_of(session, lot)),
        open_deviations(session, lot),
        donor_release_facts(session, lot),
        signer_id,
        conditional,
    )


_NO_DONOR = DonorReleaseFacts(eligible_signed=True, under_lookback=False, is_autologous=False)


def decision_content(
    lot: Lot,
    record: LotRelease,
    decision: str,
    conditional: bool,
    reason: str | None,
    results: list[TestResult],
) -> dict:
    """Exactly what a release or rejection signature is bound to: the lot, the specification version (and
    the digest of its text), the decision and every result it was taken on."""
    spec = record.specification
    return {
        "lot": lot.din,
        "check_char": lot.check_char,
        "product": f"{lot.product_type.key} v{lot.product_type.version}",
        "specification": spec.label if spec else None,
        "specification_sha256": hashlib.sha256(spec.content.encode()).hexdigest() if spec else None,
        "decision": decision,
        "conditional": conditional,
        "reason": reason,
        "results": [
            [r.id, r.test_code, r.value, r.unit, r.verdict, r.conditional, r.entered_by_id, r.verified_by_id]
            for r in results
        ],
    }


def _signed_results(session: Session, record: LotRelease) -> list[TestResult]:
    ids = json.loads(record.signed_results or "[]")
    found = (
        {r.id: r for r in session.scalars(select(TestResult).where(TestResult.id.in_(ids)))} if ids else {}
    )
    return [found[i] for i in ids if i in found]


def _decide(
    session: Session,
    lot: Lot,
    user: User,
    password: str,
    decision: str,
    conditional: bool,
    reason: str | None,
    problems: list[Problem],
) -> Signature:
    """The lot's signed step to `decision`, bound to the release record and every current result; then the
    release record keeps the decision and its signature."""
    record = open_release_record(session, lot)
    current = [r for r in results_of(session, lot) if r.current]
    content = decision_content(lot, record, decision, conditional, reason, current)
    change = change_status(
        session,
        lot,
        LOT_WORKFLOW,
        decision,
        password=password,
        content=content,
        signer=user,
        reason=reason,
        problems=problems,
    )
    record.decision, record.conditional, record.reason = decision, conditional, reason
    record.signed_results = json.dumps([r.id for r in current])
    record.decided_at, record.decided_by_id, record.signature_id = utcnow(), user.id, change.signature_id
    session.flush()
    return session.get(Signature, change.signature_id)


def release_lot(
    session: Session, lot: Lot, user: User, password: str, conditional: bool = False
) -> Signature:
    """Release for clinical use, signed by `user` (the signed-in QA person) with the meaning of the lot
    workflow's release step; refused (TransitionRefused) naming every problem — nothing is signed then —
    or bank.esign.SignatureError on a wrong password. A conditional release is recorded only when an
    interim result is among those released on."""
    problems = _rule_problems(session, lot, user.id, conditional)  # the lot's status: the workflow table
    current = [r for r in results_of(session, lot) if r.current]
    conditional = conditional and any(r.conditional for r in current)
    return _decide(session, lot, user, password, "released", conditional, None, problems)


def reject_lot(session: Session, lot: Lot, user: User, password: str, reason: str) -> Signature:
    """Reject with a reason, signed with the meaning of the lot workflow's rejection step; refused
    (TransitionRefused) from any state other than awaiting QC or without a reason."""
    refuse_if(control_character_errors({"reason": reason}))
    reason = (reason or "").strip() or (session.info.get("reason") or "").strip() or None
    return _decide(session, lot, user, password, "rejected", False, reason, [])


_READ = object()  # "read the release record": None is a real value (no record yet)


def decision_signature(session: Session, lot: Lot, record=_READ) -> tuple[Signature, bool] | None:
    """QA's release or rejection signature and whether it still matches the records it was bound to.
    `record` is the lot's release record when the caller has read it already."""
    if record is _READ:
        record = release_record(session, lot)
    if record is None or record.signature_id is None:
        return None
    sig = session.get(Signature, record.signature_id)
    content = decision_content(
        lot, record, record.decision, record.conditional, record.reason, _signed_results(session, record)
    )
    return sig, signature_valid(sig, content)


def lot_is_released(session: Session, lot: Lot, record=_READ) -> bool:
    """For allocation and labels: released by a valid QA signature, not quarantined, not held, and no
    late-result alert (a late positive sterility makes the lot unusable whatever QA does next)."""
    if lot.status != "released" or lot.quarantined:
        return False
    if record is _READ:
        record = release_record(session, lot)
    if record is None or record.decision != "released":
        return False
    signed = decision_signature(session, lot, record)
    if signed is None or not signed[1]:
        return False
    return session.scalar(select(LateResultAlert.id).where(LateResultAlert.lot_id == lot.id).limit(1)) is None


def lot_endotoxin_eu_per_ml(session: Session, lot: Lot, record=_READ) -> Decimal | None:
    """The lot's endotoxin in EU/mL from its current, verified result of the specification's EU/mL test;
    None when there is none yet (the doses rules then refuse allocation)."""
    spec_row = (
        lot_specification(session, lot)
        if record is _READ
        else (
            record.specification
            if record is not None and record.specification is not None
            else lot_specification(session, lot)
        )
    )
    if spec_row is None:
        return None
    for test in spec_row.spec().tests:
        if isinstance(test, NumericTest) and test.unit == "EU/mL":
            result = current_result(session, lot, test.code)
            if result is not None and result.verified and result.unit == "EU/mL":
                return Decimal(result.value)
    return None


def alert_text(session: Session, alert: LateResultAlert) -> str:
    """A late-result alert's message in the reader's language: said again from its result, judged again (the
    stored English message stays the record, and is shown when its test left the specification)."""
    result = session.get(TestResult, alert.result_id)
    lot = session.get(Lot, alert.lot_id)
    spec_row = lot_specification(session, lot)
    verdict = verdict_of(spec_row.spec().get_test(result.test_code) if spec_row else None, result)
    again = verdict and late_sterility_alert(verdict, True, alert.patient_list, lot.din)
    return again.message if again and again.rule_id == alert.rule_id else alert.message


def decision_rereview(session: Session, lot: Lot, record=_READ) -> list[Problem]:
    """A release or rejection signed on results corrected or voided since: one problem per such result,
    shown on the lot's QC page and certificate for QA's re-review (the signature itself stays as signed)."""
    if record is _READ:
        record = release_record(session, lot)
    if record is None or record.decided_at is None:
        return []
    results = results_of(session, lot)
    by_id = {r.id: r for r in results}
    changed = []
    for r in _signed_results(session, record):
        if r.voided_at is not None and r.voided_at > record.decided_at:
            when = f"{r.voided_at:%Y-%m-%d %H:%M}"
            changed.append(
                (str(r.id), t("voided on %(when)s UTC: %(reason)s", when=when, reason=r.void_reason))
            )
        after = by_id.get(r.superseded_by_id)
        if after is not None and after.corrects and after.entered_at > record.decided_at:
            what = t("corrected by result #%(ref)s: %(reason)s", ref=after.id, reason=after.stated_reason)
            changed.append((str(r.id), what))
    return rereview_problems([str(i) for i in json.loads(record.signed_results or "[]")], changed)
