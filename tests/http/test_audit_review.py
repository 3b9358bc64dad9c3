"""The periodic audit-trail review (EU GMP Annex 11 §9, issue 21): QA records the findings on a period's
rows and signs; the signature covers the period's first and last rows and the last row's hash; a period
that ends in the future, a review without findings or a wrong password is refused and nothing is kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bank.audit_review import REVIEWED_MEANING, AuditReview, review_content
from bank.clock import today
from bank.esign import signature_valid
from bank.models import AuditEntry, Signature
from bank.status import status_history
from tests.support import PASSWORD


def count(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(AuditReview))


def post_review(client, findings="No findings.", password=PASSWORD, days=(0, 0)):
    client.get("/audit/reviews")
    return client.post(
        "/audit/reviews",
        {
            "period_from": (today() - timedelta(days=days[0])).isoformat(),
            "period_to": (today() + timedelta(days=days[1])).isoformat(),
            "findings": findings,
            "signature_password": password,
        },
    )


def test_qa_signs_a_review_bound_to_the_rows_of_the_period(session, login_as):
    qa = login_as("qa")
    before = count(session)
    resp = post_review(
        qa, findings="Two corrections of passages checked: reasons given, second person confirmed."
    )
    assert resp.status_code == 302
    assert count(session) == before + 1
    review = session.scalar(select(AuditReview).order_by(AuditReview.id.desc()).limit(1))
    last = session.get(AuditEntry, review.last_entry_id)
    assert review.status == "reviewed" and review.entries > 0 and review.last_row_hash == last.row_hash
    sig = session.get(Signature, review.signature_id)
    assert sig.meaning == REVIEWED_MEANING and sig.printed_name == qa.user.full_name
    assert signature_valid(sig, review_content(review))
    assert [c.to_status for c in status_history(session, review)] == ["open", "reviewed"]
    page = qa.get("/audit/reviews").get_data(as_text=True)
    assert "Two corrections of passages checked" in page and "Audit trail reviewed" in page
    assert "content changed since signing" not in page


def test_review_refused_for_a_future_period_without_findings_or_with_a_wrong_password(session, login_as):
    qa = login_as("qa")
    before = count(session)
    future = post_review(qa, days=(0, 1))
    assert future.status_code == 200 and "The period cannot end in the future." in future.get_data(
        as_text=True
    )
    empty = post_review(qa, findings="  ")
    assert "Write what the review found" in empty.get_data(as_text=True)
    wrong = post_review(qa, password="not-my-password")
    assert wrong.status_code == 200
    assert count(session) == before


def test_only_qa_reviews_the_audit_trail(login_as):
    tech = login_as("technician")
    assert tech.get("/audit/reviews").status_code == 403
