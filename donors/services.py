"""Donor use cases: registry, screening entries, evaluation, signed determination, look-back.

Services take the session and flush; the caller's unit of work commits. Other modules (lots, release,
doses) read donors only through `donor_use_facts` and the look-back hook; donors never imports them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bank.clock import utcnow
from bank.identifiers import next_value
from bank.signals import donor_lookback_started
from bank.status import change_status, initial_status
from donors.criteria_sets import active_version, ensure_seed_criteria, parse
from donors.models import DeterminationRecord, Donor, DonorIdentity
from donors.queries import active_answers, active_medications, active_serology
from donors.rules import Answer, Determination, DonorFacts, Medication, SerologyResult, evaluate_donor
from donors.rules import requires_lookback as _requires_lookback
from donors.states import DONOR_WORKFLOW, ELIGIBLE, INELIGIBLE
from donors.validation import DonorError, donor_errors, raise_if, text_error


@dataclass(frozen=True)
class DonorUse:
    """What other modules need to decide whether a donor's material may be used."""

    status: str
    is_autologous: bool
    under_lookback: bool
    eligible_signed: bool  # signed eligible, for the harvest date now on record
    code: str


def today() -> date:
    """The evaluation date: UTC calendar day, the same clock as every stored time."""
    return utcnow().date()


def _actor_id(session: Session) -> int | None:
    return session.info["actor"].id


# --- registry -------------------------------------------------------------------------------------


def register_donor(session: Session, *, sex: str, birth_date: date, consent_version: str, consent_date: date,
                   weight_kg: float | None = None, height_cm: float | None = None, is_autologous: bool = False,
                   full_name: str | None = None) -> Donor:
    """A new donor with a pseudonymous code DN-<year>-<nnnn>, status pending."""
    raise_if(donor_errors(today(), sex, birth_date, weight_kg, height_cm, consent_version, consent_date,
                          full_name))
    year = today().year
    number = next_value(session, "donor_code", str(year))
    donor = Donor(code=f"DN-{year}-{number:04d}", sex=sex, birth_date=birth_date, weight_kg=weight_kg,
                  height_cm=height_cm, consent_version=consent_version.strip(), consent_date=consent_date,
                  consent_recorded_by_id=_actor_id(session), is_autologous=is_autologous,
                  under_lookback=False)
    session.add(donor)
    session.flush()
    initial_status(session, donor, DONOR_WORKFLOW)
    if (full_name or "").strip():
        session.add(DonorIdentity(donor_id=donor.id, full_name=full_name.strip()))
        session.flush()
    return donor


def update_donor(session: Session, donor: Donor, expected_version: int, *, sex: str, birth_date: date,
                 weight_kg: float | None, height_cm: float | None, consent_version: str, consent_date: date,
                 is_autologous: bool, hbc_risk_assessment: str | None = None) -> Donor:
    """Edit the registry data; a stale `expected_version` raises StaleDataError (shown as 409)."""
    if expected_version != donor.version:
        raise StaleDataError(f"donor {donor.code} changed since version {expected_version}")
    errors = donor_errors(today(), sex, birth_date, weight_kg, height_cm, consent_version, consent_date,
                          hbc_risk_assessment=hbc_risk_assessment)
    if is_autologous != donor.is_autologous and donor.status != "pending":
        errors["is_autologous"] = "cannot change once a determination has been signed"
    raise_if(errors)
    donor.sex, donor.birth_date, donor.weight_kg, donor.height_cm = sex, birth_date, weight_kg, height_cm
    donor.consent_version, donor.consent_date = consent_version.strip(), consent_date
    donor.is_autologous = is_autologous
    donor.hbc_risk_assessment = (hbc_risk_assessment or "").strip() or None
    session.flush()
    reevaluate_after_new_evidence(session, donor)
    return donor


def set_identity(session: Session, donor: Donor, full_name: str) -> None:
    """Record or correct the donor's name (visible only with permission donor.identify)."""
    if message := text_error(full_name, "name", 160):
        raise DonorError({"full_name": message})
    identity = identity_of(session, donor)
    if identity is None:
        session.add(DonorIdentity(donor_id=donor.id, full_name=full_name.strip()))
    else:
        identity.full_name = full_name.strip()
    session.flush()


def identity_of(session: Session, donor: Donor) -> DonorIdentity | None:
    return session.scalar(select(DonorIdentity).where(DonorIdentity.donor_id == donor.id))


def set_harvest_date(session: Session, donor: Donor, harvest_date: date) -> None:
    """Record the tissue collection date (called by lots at harvest); the serology window and the
    look-backs count from it, so a signed donor is re-evaluated."""
    if harvest_date > today():
        raise DonorError({"harvest_date": f"harvest date {harvest_date} is in the future"})
    if harvest_date < donor.birth_date:
        raise DonorError({"harvest_date": "harvest date is before the donor's date of birth"})
    if donor.harvest_date == harvest_date:
        return
    donor.harvest_date = harvest_date
    session.flush()
    reevaluate_after_new_evidence(session, donor)


# --- evaluation -----------------------------------------------------------------------------------


def donor_facts(session: Session, donor: Donor, evaluation_date: date | None = None) -> DonorFacts:
    """The donor's current (not voided) data as the pure rules take it."""
    return DonorFacts(
        evaluation_date=evaluation_date or today(),
        harvest_date=donor.harvest_date,
        weight_kg=donor.weight_kg,
        answers={a.question_id: Answer(a.answer, a.event_date, a.detail) for a in active_answers(session, donor)},
        medications=tuple(Medication(m.kind, m.name, m.start_date, m.stop_date)
                          for m in active_medications(session, donor)),
        serology=tuple(SerologyResult(r.marker, r.result, r.sample_date, r.test_date, r.method, r.kit_lot)
                       for r in active_serology(session, donor)),
        risk_assessment_documented=bool(donor.hbc_risk_assessment),
    )


def evaluate(session: Session, donor: Donor, criteria_row=None) -> Determination:
    """The determination the rules reach today under the active (or given) criteria version; writes nothing."""
    row = criteria_row or active_version(session)
    if row is None:
        raise DonorError({"criteria": "no active criteria set: QA must activate one"})
    return evaluate_donor(donor_facts(session, donor), parse(row))


def reasons_json(det: Determination) -> tuple[str, str]:
    reasons = [{"rule_id": r.rule_id, "criterion": r.criterion, "evidence": r.evidence} for r in det.reasons]
    missing = [{"item": m.item, "rule_id": m.rule_id, "why": m.why} for m in det.missing]
    return json.dumps(reasons), json.dumps(missing)


def write_determination(session: Session, donor: Donor, row, det: Determination, decision: str,
                        comment: str) -> DeterminationRecord:
    reasons, missing = reasons_json(det)
    record = DeterminationRecord(donor_id=donor.id, criteria_set_id=row.id, criteria_label=row.label,
                                 outcome=det.outcome, decision=decision, reasons=reasons, missing=missing,
                                 comment=comment, harvest_date=donor.harvest_date, evaluation_date=today())
    session.add(record)
    session.flush()
    return record


# --- look-back ------------------------------------------------------------------------------------


def start_lookback(session: Session, donor: Donor, reason: str) -> None:
    """Flag the donor for look-back: an eligible donor becomes ineligible, every listener holds what
    derives from the donor. Used by QA by hand and by the automatic re-evaluation."""
    if message := text_error(reason, "reason", 500):
        raise DonorError({"reason": message})
    if donor.under_lookback:
        raise DonorError({"reason": f"donor {donor.code} is already under look-back"})
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
    row = ensure_seed_criteria(session)
    det = evaluate(session, donor, row)
    if not _requires_lookback(ELIGIBLE, det):
        return None
    causes = "; ".join(f"{r.rule_id}: {r.evidence}" for r in det.reasons)
    record = write_determination(session, donor, row, det, INELIGIBLE,
                                 "automatic re-evaluation after new evidence; look-back started")
    start_lookback(session, donor, f"new evidence after the eligible determination ({causes})")
    return record


# --- for other modules ----------------------------------------------------------------------------


def latest_signed(session: Session, donor: Donor) -> DeterminationRecord | None:
    return session.scalar(select(DeterminationRecord).where(
        DeterminationRecord.donor_id == donor.id, DeterminationRecord.signature_id.is_not(None))
        .order_by(DeterminationRecord.id.desc()).limit(1))


def donor_use_facts(session: Session, donor_id: int) -> DonorUse:
    """Whether the donor's material may be used: lots, release and doses decide on these facts.
    `eligible_signed` is True only for a donor signed eligible for the harvest on record."""
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise LookupError(f"no donor {donor_id}")
    signed = latest_signed(session, donor)
    eligible_signed = (donor.status == ELIGIBLE and not donor.under_lookback and signed is not None
                       and signed.decision == ELIGIBLE and signed.harvest_date == donor.harvest_date)
    return DonorUse(donor.status, donor.is_autologous, donor.under_lookback, eligible_signed, donor.code)
