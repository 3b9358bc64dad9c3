"""Read-only queries over a donor's screening entries (current = not voided) and its records."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from donors.models import DeterminationRecord, Donor, MedicationCourse, ScreeningAnswer, SerologyTest


def active_answers(session: Session, donor: Donor) -> list[ScreeningAnswer]:
    return list(
        session.scalars(
            select(ScreeningAnswer)
            .where(ScreeningAnswer.donor_id == donor.id, ScreeningAnswer.voided_at.is_(None))
            .order_by(ScreeningAnswer.id)
        )
    )


def active_medications(session: Session, donor: Donor) -> list[MedicationCourse]:
    return [m for m in medications(session, donor) if m.voided_at is None]


def active_serology(session: Session, donor: Donor) -> list[SerologyTest]:
    return [r for r in serology(session, donor) if r.voided_at is None]


def medications(session: Session, donor: Donor) -> list[MedicationCourse]:
    """Every course, voided ones included (the page shows them struck through)."""
    return list(
        session.scalars(
            select(MedicationCourse)
            .where(MedicationCourse.donor_id == donor.id)
            .order_by(MedicationCourse.start_date, MedicationCourse.id)
        )
    )


def serology(session: Session, donor: Donor) -> list[SerologyTest]:
    """Every result, voided ones included."""
    return list(
        session.scalars(
            select(SerologyTest)
            .where(SerologyTest.donor_id == donor.id)
            .order_by(SerologyTest.sample_date, SerologyTest.marker, SerologyTest.id)
        )
    )


def determinations(session: Session, donor: Donor) -> list[DeterminationRecord]:
    return list(
        session.scalars(
            select(DeterminationRecord)
            .where(DeterminationRecord.donor_id == donor.id)
            .order_by(DeterminationRecord.id.desc())
        )
    )
