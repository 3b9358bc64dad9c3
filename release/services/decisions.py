"""QA release and rejection of a lot (21 CFR Part 11; EU GMP Annex 11 §15, Annex 16): a status change of
the lot with an e-signature, refused with every reason (release.rules.release_blockers), and the
questions the doses module asks (is the lot released, what is its endotoxin per mL)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.esign import sign, signature_valid
from bank.models import Signature, User
from bank.status import TransitionRefused, change_status
from bank.workflow import check_transition
from donors.services import donor_use_facts
from lots.models import Lot
from lots.services import open_deviations
from lots.states import LOT_WORKFLOW, REJECT_MEANING, RELEASE_MEANING
from release.models import LateResultAlert, LotRelease, TestResult
from release.rules import DonorReleaseFacts, NumericTest, Problem, release_blockers
from release.services.errors import refuse_if, unstorable
from release.services.results import (
    current_result,
    lot_specification,
    open_release_record,
    release_record,
    result_facts,
    results_of,
)


def donor_release_facts(session: Session, lot: Lot) -> DonorReleaseFacts:
    if lot.donor_id is None:
        # A placebo is suspension media made from no donor: there is no eligibility to determine.
        return DonorReleaseFacts(eligible_signed=True, under_lookback=False, is_autologous=False)
    use = donor_use_facts(session, lot.donor_id)
    return DonorReleaseFacts(use.eligible_signed, use.under_lookback, use.is_autologous)


def release_problems(session: Session, lot: Lot, signer_id: int, conditional: bool) -> list[Problem]:
    """Every reason `signer_id` may not release the lot now (empty: release permitted)."""
    spec_row = lot_specification(session, lot)
    problems = []
    if lot.status != "awaiting_qc":
        problems.append(Problem("release.lot_status", f"Lot is {LOT_WORKFLOW.label(lot.status)}, not awaiting QC.",
                                f"status={lot.status}"))
    if lot.quarantined:
        problems.append(Problem("release.quarantined", "Lot is quarantined until its donor is signed eligible "
                                "and the quarantine is lifted (21 CFR 1271.60).", "quarantined"))
    if spec_row is None:
        problems.append(Problem("release.no_specification", f"No effective specification for "
                                f"{lot.product_type.key}.", lot.product_type.key))
        return problems
    problems += release_blockers(spec_row.spec(), result_facts(results_of(session, lot)),
                                 open_deviations(session, lot), donor_release_facts(session, lot), signer_id,
                                 conditional)
    return problems


def _problem_text(p: Problem) -> str:
    return f"{p.message} ({p.evidence})"


def decision_content(lot: Lot, record: LotRelease, decision: str, conditional: bool, reason: str | None,
                     results: list[TestResult]) -> dict:
    """Exactly what a release or rejection signature is bound to: the lot, the specification version (and
    the digest of its text), the decision and every result it was taken on."""
    spec = record.specification
    return {
        "lot": lot.din, "check_char": lot.check_char,
        "product": f"{lot.product_type.key} v{lot.product_type.version}",
        "specification": spec.label if spec else None,
        "specification_sha256": hashlib.sha256(spec.content.encode()).hexdigest() if spec else None,
        "decision": decision, "conditional": conditional, "reason": reason,
        "results": [[r.id, r.test_code, r.value, r.unit, r.verdict, r.conditional, r.entered_by_id,
                     r.verified_by_id] for r in results],
    }


def _signed_results(session: Session, record: LotRelease) -> list[TestResult]:
    ids = json.loads(record.signed_results or "[]")
    found = {r.id: r for r in session.scalars(select(TestResult).where(TestResult.id.in_(ids)))} if ids else {}
    return [found[i] for i in ids if i in found]


def release_lot(session: Session, lot: Lot, user: User, password: str, conditional: bool = False) -> Signature:
    """Release with the signature 'Released for clinical use', or raise TransitionRefused naming every
    problem (nothing is signed then); bank.esign.SignatureError on a wrong password."""
    actor = session.info.get("actor")
    check = check_transition(LOT_WORKFLOW, lot.status, "released", actor.permissions if actor else frozenset(),
                             True, None)
    problems = list(check.problems) + [_problem_text(p) for p in release_problems(session, lot, user.id, conditional)
                                       if not (p.rule_id == "release.lot_status" and check.problems)]
    if problems:
        raise TransitionRefused(problems)
    record = open_release_record(session, lot)
    current = [r for r in results_of(session, lot) if not r.superseded]
    conditional = conditional and any(r.conditional for r in current)
    content = decision_content(lot, record, "released", conditional, None, current)
    signature = sign(session, user, password, RELEASE_MEANING, "lots", lot.id, content)
    record.decision, record.conditional, record.signed_results = "released", conditional, json.dumps(
        [r.id for r in current])
    record.decided_at, record.decided_by_id, record.signature_id = utcnow(), user.id, signature.id
    change_status(session, lot, LOT_WORKFLOW, "released", signature=signature)
    return signature


def reject_lot(session: Session, lot: Lot, user: User, password: str, reason: str) -> Signature:
    """Reject with the signature 'Rejected' and a reason; refused (TransitionRefused) from any state other
    than awaiting QC or without a reason."""
    refuse_if(unstorable({"reason": reason}))
    reason = (reason or "").strip()
    actor = session.info.get("actor")
    check = check_transition(LOT_WORKFLOW, lot.status, "rejected", actor.permissions if actor else frozenset(),
                             True, reason)
    if check.problems:
        raise TransitionRefused(check.problems)
    record = open_release_record(session, lot)
    current = [r for r in results_of(session, lot) if not r.superseded]
    content = decision_content(lot, record, "rejected", False, reason, current)
    signature = sign(session, user, password, REJECT_MEANING, "lots", lot.id, content)
    record.decision, record.reason, record.signed_results = "rejected", reason, json.dumps([r.id for r in current])
    record.decided_at, record.decided_by_id, record.signature_id = utcnow(), user.id, signature.id
    change_status(session, lot, LOT_WORKFLOW, "rejected", signature=signature, reason=reason)
    return signature


_READ = object()  # "read the release record": None is a real value (no record yet)


def decision_signature(session: Session, lot: Lot, record=_READ) -> tuple[Signature, bool] | None:
    """QA's release or rejection signature and whether it still matches the records it was bound to.
    `record` is the lot's release record when the caller has read it already."""
    if record is _READ:
        record = release_record(session, lot)
    if record is None or record.signature_id is None:
        return None
    sig = session.get(Signature, record.signature_id)
    content = decision_content(lot, record, record.decision, record.conditional, record.reason,
                               _signed_results(session, record))
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
    spec_row = lot_specification(session, lot) if record is _READ else (
        record.specification if record is not None and record.specification is not None
        else lot_specification(session, lot))
    if spec_row is None:
        return None
    for test in spec_row.spec().tests:
        if isinstance(test, NumericTest) and test.unit == "EU/mL":
            result = current_result(session, lot, test.code)
            if result is not None and result.verified and result.unit == "EU/mL":
                return Decimal(result.value)
    return None
