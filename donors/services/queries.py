"""Read-only queries over a donor's screening entries (current = not voided) and its records."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bank.db import rows_of
from donors.models import DeterminationRecord, Donor, MedicationCourse, ScreeningAnswer, SerologyTest


def active_answers(session: Session, donor: Donor) -> list[ScreeningAnswer]:
    return rows_of(session, ScreeningAnswer, ScreeningAnswer.id, donor_id=donor.id, voided_at=None)


def active_medications(session: Session, donor: Donor) -> list[MedicationCourse]:
    return [m for m in medications(session, donor) if m.voided_at is None]


def active_serology(session: Session, donor: Donor) -> list[SerologyTest]:
    return [r for r in serology(session, donor) if r.voided_at is None]


def medications(session: Session, donor: Donor) -> list[MedicationCourse]:
    """Every course, voided ones included (the page shows them struck through)."""
    return rows_of(
        session, MedicationCourse, MedicationCourse.start_date, MedicationCourse.id, donor_id=donor.id
    )


def serology(session: Session, donor: Donor) -> list[SerologyTest]:
    """Every result, voided ones included."""
    return rows_of(
        session,
        SerologyTest,
        SerologyTest.sample_date,
        SerologyTest.marker,
        SerologyTest.id,
        donor_id=donor.id,
    )


def determinations(session: Session, donor: Donor) -> list[DeterminationRecord]:
    return rows_of(session, DeterminationRecord, DeterminationRecord.id.desc(), donor_id=donor.id)
