"""Donor records: registry, identity (kept apart), questionnaire answers, medications, serology,
criteria set versions and signed determinations (21 CFR 1271.45-1271.90; DOMAIN.md §2).

Entries made in error are voided with a reason, never deleted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.model_parts import partial_index, trigram_index
from bank.models import Audited
from donors.rules.entries import RESULTS, SEXES
from donors.states import CRITERIA_WORKFLOW, DECISIONS, DONOR_WORKFLOW


class Donor(Audited, Versioned, Base):
    """A tissue donor under a pseudonymous code; `status` is the signed eligibility (lots rely on it)."""

    __tablename__ = "donors"
    __audit_words__ = {"status": DONOR_WORKFLOW.labels}  # "pending" reads "pending determination"
    __table_args__ = (
        CheckConstraint(one_of("status", DONOR_WORKFLOW.states), name="status"),
        CheckConstraint(one_of("sex", SEXES), name="sex"),
        CheckConstraint("weight_kg IS NULL OR (weight_kg > 0 AND weight_kg <= 400)", name="weight"),
        CheckConstraint("height_cm IS NULL OR (height_cm > 0 AND height_cm <= 250)", name="height"),
        # A donor leaves look-back only by a future QA procedure; while under it, never eligible.
        CheckConstraint("NOT (under_lookback AND status = 'eligible')", name="lookback"),
        # The donor search finds any part of a code (LIKE '%…%'): a trigram index keeps it from reading
        # every donor on PostgreSQL (SQLite scans; it serves small sites).
        trigram_index("ix_donors_code_trgm", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    weight_kg: Mapped[float | None] = mapped_column(Float)
    height_cm: Mapped[float | None] = mapped_column(Float)
    consent_version: Mapped[str] = mapped_column(String(40))
    consent_date: Mapped[date]
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_autologous: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=DONOR_WORKFLOW.initial)
    under_lookback: Mapped[bool] = mapped_column(default=False)
    lookback_reason: Mapped[str | None] = mapped_column(Text)
    harvest_date: Mapped[date | None]
    # anti-HBc positive with HBsAg negative is cleared only by a documented risk assessment (DOMAIN §2).
    hbc_risk_assessment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def bmi(self) -> float | None:
        if not self.weight_kg or not self.height_cm:
            return None
        return round(self.weight_kg / (self.height_cm / 100) ** 2, 1)


class DonorIdentity(Audited, Base):
    """Identifying data, apart from the pseudonymous record; shown only with `donor.identify`.
    The audit trail records that the name changed, not the name (the trail is open to more roles)."""

    __tablename__ = "donor_identities"
    __audit_exclude__ = ("full_name",)

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), unique=True)
    full_name: Mapped[str] = mapped_column(String(160))


class _Entry:
    """Columns every screening entry has: who entered it and when, its void (who, when, why), and the
    entry it corrects (the original is voided with the reason and stays on record, struck through)."""

    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @declared_attr
    def replaces_id(cls) -> Mapped[int | None]:  # noqa: N805 (SQLAlchemy's declared_attr takes the class)
        return mapped_column(ForeignKey(f"{cls.__tablename__}.id"))


def _void_needs_reason() -> CheckConstraint:
    """A voided screening entry says why (a new constraint for each table: a constraint belongs to one)."""
    return CheckConstraint("voided_at IS NULL OR void_reason IS NOT NULL", name="void_reason")


class ScreeningAnswer(_Entry, Audited, Base):
    """The current answer to one question of the criteria set (changes are in the audit trail)."""

    __tablename__ = "donor_answers"
    __table_args__ = (
        Index("ix_donor_answers_donor_question", "donor_id", "question_id"),
        _void_needs_reason(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"))
    question_id: Mapped[str] = mapped_column(String(40))
    answer: Mapped[bool]
    event_date: Mapped[date | None]
    detail: Mapped[str] = mapped_column(String(300), default="")


class MedicationCourse(_Entry, Audited, Base):
    __tablename__ = "donor_medications"
    __table_args__ = (
        CheckConstraint("stop_date IS NULL OR stop_date >= start_date", name="dates"),
        _void_needs_reason(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    start_date: Mapped[date]
    stop_date: Mapped[date | None]


class SerologyTest(_Entry, Audited, Base):
    __tablename__ = "donor_serology"
    __audit_words__ = {"result": {r: r for r in RESULTS}}  # stored English words, marked N_
    __table_args__ = (
        CheckConstraint(one_of("result", RESULTS), name="result"),
        CheckConstraint("test_date >= sample_date", name="dates"),
        _void_needs_reason(),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    marker: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(60))
    kit: Mapped[str] = mapped_column(String(120))
    kit_lot: Mapped[str] = mapped_column(String(60))
    sample_date: Mapped[date]
    test_date: Mapped[date]
    result: Mapped[str] = mapped_column(String(15))


class CriteriaSetVersion(Audited, Versioned, Base):
    """One version of a donor criteria set, stored as the JSON of `criteria_set_to_dict`."""

    __tablename__ = "criteria_sets"
    __table_args__ = (
        CheckConstraint(one_of("status", CRITERIA_WORKFLOW.states), name="status"),
        UniqueConstraint("name", "number"),
        # Exactly one version is applied to new determinations.
        partial_index("uq_criteria_sets_one_active", "status", where="status = 'active'", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    number: Mapped[int]  # 1, 2, ... within `name` ("version" is the lock)
    status: Mapped[str] = mapped_column(String(20), default=CRITERIA_WORKFLOW.initial)
    content: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.number}"


class DeterminationRecord(Audited, Base):
    """A determination as signed by QA, or written by the system when new evidence starts a look-back."""

    __tablename__ = "donor_determinations"
    __audit_words__ = {"outcome": DONOR_WORKFLOW.labels, "decision": DONOR_WORKFLOW.labels}
    __table_args__ = (
        CheckConstraint(one_of("outcome", DECISIONS), name="outcome"),
        CheckConstraint(one_of("decision", DECISIONS), name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donors.id"), index=True)
    criteria_set_id: Mapped[int] = mapped_column(ForeignKey("criteria_sets.id"))
    criteria_label: Mapped[str] = mapped_column(String(140))
    outcome: Mapped[str] = mapped_column(String(15))  # what the rules found
    decision: Mapped[str] = mapped_column(String(15))  # what was signed (or applied by the system)
    # JSON lists as signed (donors.rules.stored_reasons / stored_missing; read back as Problems)
    reasons: Mapped[str] = mapped_column(Text)  # [{rule_id, criterion, evidence}]
    missing: Mapped[str] = mapped_column(Text)  # [{item, rule_id, why}]
    comment: Mapped[str] = mapped_column(Text, default="")
    harvest_date: Mapped[date | None]  # the harvest this determination covers (serology window)
    evaluation_date: Mapped[date]
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
