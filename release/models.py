"""Records of the release domain: versioned specifications, each lot's release record, test results
with their raw attachments, and late-result alerts (DOMAIN.md §4; 21 CFR 211.165, 211.192).

Results are never deleted: a retest supersedes the original, which stays on record and on screen.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

import lots.models  # noqa: F401  (lots must be known before release refers to it)
from bank.clock import utcnow
from bank.db import Base, Versioned, from_stored_json, one_of
from bank.model_parts import partial_index, verification_checks
from bank.models import Audited, Signature
from release.reference import TERM_WORDS, with_seed_terms
from release.rules import STORED_VERDICTS, Specification
from release.states import ALERT_WORKFLOW, DECISIONS, SPEC_WORKFLOW

# How a correction's reason is stored: "Correction: <what was typed wrongly>" (kept as recorded since issue 18).
CORRECTION_PREFIX = "Correction: "


class SpecificationVersion(Audited, Versioned, Base):
    """One version of the release specification of a product type (by product key), stored as the JSON
    of `release.rules.Specification.to_dict()`. Exactly one version per product is effective."""

    __tablename__ = "release_specifications"
    __table_args__ = (
        CheckConstraint(one_of("status", SPEC_WORKFLOW.states), name="status"),
        # Only a draft is unsigned; a seeded version is the one exception, and it says so (seeded).
        CheckConstraint("status = 'draft' OR signature_id IS NOT NULL OR seeded", name="approved_signed"),
        Index("uq_release_specifications_key_version", "product_key", "spec_version", unique=True),
        # The database itself keeps a single effective version per product, even under concurrent approvals.
        partial_index(
            "uq_release_specifications_one_effective",
            "product_key",
            where="status = 'effective'",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_key: Mapped[str] = mapped_column(String(40))
    spec_version: Mapped[str] = mapped_column(String(40))  # Specification.version ('version' is the lock)
    status: Mapped[str] = mapped_column(String(12), default=SPEC_WORKFLOW.initial)
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of Specification.to_dict()
    change_note: Mapped[str] = mapped_column(Text, default="")
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("release_specifications.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))
    effective_at: Mapped[datetime | None]

    def spec(self) -> Specification:
        # A seed version stored before controlled result terms reads with its seed's terms (issue 18).
        return with_seed_terms(from_stored_json(Specification, self.content))

    @property
    def label(self) -> str:
        return f"{self.product_key} v{self.spec_version}"


class LotRelease(Audited, Versioned, Base):
    """The release record of one lot: the specification version its results are judged against (fixed
    at the first result), and QA's decision with its signature."""

    __tablename__ = "lot_releases"
    __audit_words__ = {"decision": {d: d for d in DECISIONS}}  # the lot's status words, marked N_
    __table_args__ = (
        CheckConstraint("decision IS NULL OR " + one_of("decision", DECISIONS), name="decision"),
        CheckConstraint("(decision IS NULL) = (signature_id IS NULL AND decided_at IS NULL)", name="signed"),
        CheckConstraint("NOT conditional OR decision = 'released'", name="conditional"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), unique=True)
    # None only for a lot rejected before any specification existed for its product.
    specification_id: Mapped[int | None] = mapped_column(ForeignKey("release_specifications.id"), index=True)
    signed_results: Mapped[str] = mapped_column(Text, default="[]")  # JSON ids of the results signed for
    decision: Mapped[str | None] = mapped_column(String(10))
    conditional: Mapped[bool] = mapped_column(Boolean, default=False)  # released on an interim result
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))

    specification: Mapped[SpecificationVersion | None] = relationship(lazy="joined")
    # Joined: whoever reads the decision checks its signature (session.get then finds it loaded).
    signature: Mapped[Signature | None] = relationship(lazy="joined")


class ResultAttachment(Audited, Base):
    """A raw data file behind a result (instrument print-out, FCS export), kept in the database with its
    SHA-256 so the file shown later is provably the one uploaded."""

    __tablename__ = "release_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class TestResult(Audited, Versioned, Base):
    """One QC result of a lot for one test of its specification, with the verdict the rules gave."""

    __tablename__ = "release_results"
    # A controlled result and the verdict are stored English words (N_): the trail shows them translated.
    __audit_words__ = {"value": TERM_WORDS, "verdict": {"pass": "pass", "fail": "fail"}}
    __test__ = False  # not a pytest test class, despite the name
    __table_args__ = (
        CheckConstraint(one_of("verdict", STORED_VERDICTS), name="verdict"),
        *verification_checks(),
        CheckConstraint("retest_of_id IS NULL OR retest_reason IS NOT NULL", name="retest_reason"),
        CheckConstraint("NOT corrects OR retest_of_id IS NOT NULL", name="corrects"),
        CheckConstraint(
            "(voided_at IS NULL) = (void_reason IS NULL) AND (voided_at IS NULL) = (voided_by_id IS NULL)",
            name="voided",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("lot_releases.id"), index=True)
    test_code: Mapped[str] = mapped_column(String(40))
    test_kind: Mapped[str] = mapped_column(String(12))
    method: Mapped[str] = mapped_column(String(200))
    instrument: Mapped[str] = mapped_column(String(120), default="")
    performed_on: Mapped[date]
    value: Mapped[str] = mapped_column(Text)  # exact decimal text, qualitative text, or panel JSON
    unit: Mapped[str] = mapped_column(String(40), default="")
    verdict: Mapped[str] = mapped_column(String(8))
    verdict_message: Mapped[str] = mapped_column(Text)
    conditional: Mapped[bool] = mapped_column(Boolean, default=False)  # interim pass (no growth to date)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None]
    retest_of_id: Mapped[int | None] = mapped_column(ForeignKey("release_results.id"))
    retest_reason: Mapped[str | None] = mapped_column(Text)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("release_results.id"))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("release_attachments.id"))
    # A correction (issue 18) replaces a result typed wrongly: the original is superseded and kept, with
    # the reason in retest_reason; a retest is a new performance of the test. A void (entered in error,
    # before verification) leaves the test without a result; the voided one stays on record.
    corrects: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    void_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def voided(self) -> bool:
        return self.voided_at is not None

    @property
    def current(self) -> bool:
        """Counts for the verdict: neither superseded (retest, correction) nor voided."""
        return self.superseded_by_id is None and self.voided_at is None

    @property
    def stated_reason(self) -> str | None:
        """Why this result replaced the one before it, as the person gave it: a correction stores its reason
        after "Correction: " (release.services.correct_result), which the pages already say in words."""
        reason = self.retest_reason
        if self.corrects and reason:
            return reason.removeprefix(CORRECTION_PREFIX)
        return reason

    @property
    def out_of_specification(self) -> bool:
        return self.verdict == "fail"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    @property
    def superseded(self) -> bool:
        return self.superseded_by_id is not None

    def parsed_value(self) -> Any:
        """What the rules judge: a {marker: percent} dict for a panel, else the text as entered."""
        return json.loads(self.value) if self.test_kind == "panel" else self.value


class LateResultAlert(Audited, Versioned, Base):
    """QA alert raised when a lot released on an interim result gets a final result that is not a pass:
    every container and every patient known to have received or been allocated one."""

    __tablename__ = "release_alerts"
    __table_args__ = (
        CheckConstraint(one_of("status", ALERT_WORKFLOW.states), name="status"),
        CheckConstraint("(status = 'acknowledged') = (acknowledged_at IS NOT NULL)", name="acknowledged"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("release_results.id"))
    rule_id: Mapped[str] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(Text)
    containers: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of container descriptions
    patients: Mapped[str] = mapped_column(Text, default="[]")  # JSON list from the doses listeners
    notify: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default=ALERT_WORKFLOW.initial)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement: Mapped[str | None] = mapped_column(Text)

    @property
    def container_list(self) -> list[str]:
        return json.loads(self.containers)

    @property
    def patient_list(self) -> list[str]:
        return json.loads(self.patients)
