"""The periodic review of the audit trail (EU GMP Annex 11 §9: audit trails are reviewed regularly): QA
reviews the rows of a period in the viewer, writes what was found, and signs. The signature is bound to
the period, the first and last rows and the hash of the last row, so it covers exactly the rows that
existed, and a review of rows since changed would show up in the chain check (`flask audit verify`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bank.clock import today, utcnow
from bank.db import Base, one_of
from bank.esign import signature_valid
from bank.i18n import N_, t
from bank.models import Audited, AuditEntry, Signature
from bank.refusals import refuse_if
from bank.status import add_new, change_status
from bank.workflow import Transition, Workflow

REVIEWED_MEANING = N_("Audit trail reviewed")

AUDIT_REVIEW_WORKFLOW = Workflow(
    name="Audit-trail review",
    states=("open", "reviewed"),
    initial="open",
    transitions=(
        Transition(
            "open",
            "reviewed",
            "audit.review",
            signature_meaning=REVIEWED_MEANING,
            label=N_("Sign the review"),
        ),
    ),
)


class AuditReview(Audited, Base):
    __tablename__ = "audit_reviews"
    __table_args__ = (
        CheckConstraint(one_of("status", AUDIT_REVIEW_WORKFLOW.states), name="status"),
        CheckConstraint("period_to >= period_from", name="period"),
        # A reviewed review always names its signature.
        CheckConstraint("(status = 'reviewed') = (signature_id IS NOT NULL)", name="signed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    first_entry_id: Mapped[int | None] = mapped_column(Integer)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)
    last_row_hash: Mapped[str | None] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=AUDIT_REVIEW_WORKFLOW.initial)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("signatures.id"))


def _bounds(period_from: date, period_to: date):
    start = datetime.combine(period_from, time.min, UTC)
    end = datetime.combine(period_to + timedelta(days=1), time.min, UTC)
    return (AuditEntry.at >= start) & (AuditEntry.at < end)


def review_content(review: AuditReview) -> dict:
    """Exactly what the reviewer's signature covers."""
    return {
        "review_id": review.id,
        "period_from": review.period_from,
        "period_to": review.period_to,
        "first_entry_id": review.first_entry_id,
        "last_entry_id": review.last_entry_id,
        "last_row_hash": review.last_row_hash,
        "entries": review.entries,
        "findings": review.findings,
    }


def sign_review(
    session: Session, user, password: str, period_from: date, period_to: date, findings: str
) -> AuditReview:
    """Record the review of the rows written from `period_from` to `period_to` (UTC days) with `user`'s
    signature. Refused (next to the field) for a period that ends before it starts or in the future, or
    without findings (write "No findings." when there are none)."""
    errors = {}
    if period_from and period_to and period_to < period_from:
        errors["period_to"] = t("The period ends before it starts.")
    if period_to and period_to > today():
        errors["period_to"] = t("The period cannot end in the future.")
    if not (findings or "").strip():
        errors["findings"] = t(
            'Write what the review found ("No findings." when there is nothing to report).'
        )
    refuse_if(errors)
    rows = select(func.min(AuditEntry.id), func.max(AuditEntry.id), func.count()).where(
        _bounds(period_from, period_to)
    )
    first, last, count = session.execute(rows).one()
    last_hash = session.scalar(select(AuditEntry.row_hash).where(AuditEntry.id == last)) if last else None
    review = AuditReview(
        period_from=period_from,
        period_to=period_to,
        first_entry_id=first,
        last_entry_id=last,
        last_row_hash=last_hash,
        entries=count,
        findings=findings.strip(),
    )
    add_new(session, review, AUDIT_REVIEW_WORKFLOW)

    def bind(signature: Signature | None) -> None:
        review.signature_id = signature.id if signature else None

    change_status(
        session,
        review,
        AUDIT_REVIEW_WORKFLOW,
        "reviewed",
        password=password,
        signer=user,
        content=review_content(review),
        before_write=bind,
    )
    return review


def reviews(session: Session, limit: int = 50) -> list[tuple[AuditReview, Signature | None, bool]]:
    """The latest reviews, newest first, each with its signature and whether it still holds."""
    found = list(session.scalars(select(AuditReview).order_by(AuditReview.id.desc()).limit(limit)))
    sigs = {
        s.id: s
        for s in session.scalars(
            select(Signature).where(Signature.id.in_([r.signature_id for r in found if r.signature_id]))
        )
    }
    out = []
    for r in found:
        sig = sigs.get(r.signature_id)
        out.append((r, sig, sig is not None and signature_valid(sig, review_content(r))))
    return out
