"""The donor registry: registration, registry data, the identity kept apart, the harvest date, and the
facts other domains read about a donor (`donor_use_facts`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bank.clock import today
from bank.i18n import t
from bank.identifiers import next_value
from bank.refusals import refuse_if
from bank.status import add_new
from donors.models import DeterminationRecord, Donor, DonorIdentity
from donors.rules import donor_errors, text_error
from donors.services.determination import reevaluate_after_new_evidence
from donors.states import DONOR_WORKFLOW, ELIGIBLE, PENDING


@dataclass(frozen=True)
class DonorUse:
    """What other modules need to decide whether a donor's material may be used."""

    status: str
    is_autologous: bool
    under_lookback: bool
    eligible_signed: bool  # signed eligible, for the harvest date now on record
    code: str


def register_donor(
    session: Session,
    *,
    sex: str,
    birth_date: date,
    consent_version: str,
    consent_date: date,
    weight_kg: float | None = None,
    height_cm: float | None = None,
    is_autologous: bool = False,
    full_name: str | None = None,
) -> Donor:
    """A new donor with a pseudonymous code DN-<year>-<nnnn>, status pending."""
    refuse_if(
        donor_errors(today(), sex, birth_date, weight_kg, height_cm, consent_version, consent_date, full_name)
    )
    year = today().year
    number = next_value(session, "donor_code", str(year))
    donor = Donor(
        code=f"DN-{year}-{number:04d}",
        sex=sex,
        birth_date=birth_date,
        weight_kg=weight_kg,
        height_cm=height_cm,
        consent_version=consent_version.strip(),
        consent_date=consent_date,
        consent_recorded_by_id=session.info["actor"].id,
        is_autologous=is_autologous,
        status=DONOR_WORKFLOW.initial,
        under_lookback=False,
    )
    add_new(session, donor, DONOR_WORKFLOW)
    if (full_name or "").strip():
        session.add(DonorIdentity(donor_id=donor.id, full_name=full_name.strip()))
        session.flush()
    return donor


def update_donor(
    session: Session,
    donor: Donor,
    expected_version: int,
    *,
    sex: str,
    birth_date: date,
    weight_kg: float | None,
    height_cm: float | None,
    consent_version: str,
    consent_date: date,
    is_autologous: bool,
    hbc_risk_assessment: str | None = None,
) -> Donor:
    """Edit the registry data; a stale `expected_version` raises StaleDataError (shown as 409)."""
    if expected_version != donor.version:
        raise StaleDataError(f"donor {donor.code} changed since version {expected_version}")
    errors = donor_errors(
        today(),
        sex,
        birth_date,
        weight_kg,
        height_cm,
        consent_version,
        consent_date,
        hbc_risk_assessment=hbc_risk_assessment,
    )
    if is_autologous != donor.is_autologous and donor.status != PENDING:
        errors["is_autologous"] = t("cannot change once a determination has been signed")
    refuse_if(errors)
    donor.sex, donor.birth_date, donor.weight_kg, donor.height_cm = sex, birth_date, weight_kg, height_cm
    donor.consent_version, donor.consent_date = consent_version.strip(), consent_date
    donor.is_autologous = is_autologous
    donor.hbc_risk_assessment = (hbc_risk_assessment or "").strip() or None
    session.flush()
    reevaluate_after_new_evidence(session, donor)
    return donor


def set_identity(session: Session, donor: Donor, full_name: str) -> None:
    """Record or correct the donor's name (visible only with permission donor.identify)."""
    if message := text_error(full_name, t("name"), 160):
        refuse_if({"full_name": message})
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
        refuse_if({"harvest_date": t("harvest date %(date)s is in the future", date=harvest_date)})
    if harvest_date < donor.birth_date:
        refuse_if({"harvest_date": t("harvest date is before the donor's date of birth")})
    if donor.harvest_date == harvest_date:
        return
    donor.harvest_date = harvest_date
    session.flush()
    reevaluate_after_new_evidence(session, donor)


# --- for other modules ----------------------------------------------------------------------------


def latest_signed(session: Session, donor: Donor) -> DeterminationRecord | None:
    return session.scalar(
        select(DeterminationRecord)
        .where(DeterminationRecord.donor_id == donor.id, DeterminationRecord.signature_id.is_not(None))
        .order_by(DeterminationRecord.id.desc())
        .limit(1)
    )


def donor_use_facts(session: Session, donor_id: int) -> DonorUse:
    """Whether the donor's material may be used: lots, release and doses decide on these facts.
    `eligible_signed` is True only for a donor signed eligible for the harvest on record."""
    donor = session.get(Donor, donor_id)
    if donor is None:
        raise LookupError(f"no donor {donor_id}")
    signed = latest_signed(session, donor)
    eligible_signed = (
        donor.status == ELIGIBLE
        and not donor.under_lookback
        and signed is not None
        and signed.decision == ELIGIBLE
        and signed.harvest_date == donor.harvest_date
    )
    return DonorUse(donor.status, donor.is_autologous, donor.under_lookback, eligible_signed, donor.code)
