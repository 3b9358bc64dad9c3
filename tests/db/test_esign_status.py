"""E-signatures and status changes (DOMAIN.md §6; 21 CFR 11.50, 11.70, 11.200)."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from bank.esign import SignatureError, countersign, sign, signature_valid, signatures_for
from bank.models import AuditEntry, StatusChange
from bank.status import TransitionRefused, change_status
from bank.uow import unit_of_work
from bank.users import actor_for
from bank.workflow import Transition, Workflow
from tests.support import PASSWORD

pytestmark = pytest.mark.requirement("ER-ESIGNATURE", "ER-SEQUENCE")

WF = Workflow(
    "demo",
    ("draft", "approved"),
    "draft",
    (Transition("draft", "approved", "spec.manage", signature_meaning="Approved"),),
)


def test_signature_needs_the_password_again_and_binds_to_content(session, make_user):
    qa = make_user("qa")
    content = {"lot": "G123426000001", "verdict": "pass"}
    with pytest.raises(SignatureError, match="password incorrect"):
        with unit_of_work(session, actor_for(qa)):
            sign(session, qa, "wrong-password-1", "Approved", "demo", 1, content)
    with unit_of_work(session, actor_for(qa)):
        sig = sign(session, qa, PASSWORD, "Approved", "demo", 1, content)
    assert sig.printed_name == qa.full_name and sig.meaning == "Approved"
    assert signature_valid(sig, content)
    assert not signature_valid(sig, {**content, "verdict": "fail"}), (
        "a signature cannot move to other content"
    )
    assert sig in signatures_for(session, "demo", 1)
    logged = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "sign", AuditEntry.entity_id == "1")
    ).all()
    assert logged, "signing is itself in the audit trail"


def test_wrong_signature_passwords_lock_the_account_like_failed_logins(session, make_user):
    """21 CFR 11.300(d): a wrong password at a signature is an attempted use like a wrong login; the
    refusal rolls the signed work back but the failure is still counted, audited, and locks at five."""
    qa = make_user("qa")
    for attempt in range(1, 5):
        with pytest.raises(SignatureError, match=f"{5 - attempt} attempt\\(s\\) left"):
            with unit_of_work(session, actor_for(qa), "release G1234 26 000001"):
                sign(session, qa, f"wrong-{attempt}", "Approved", "demo", 5, {})
        session.refresh(qa)
        assert qa.failed_logins == attempt and qa.locked_at is None
    assert not signatures_for(session, "demo", 5), "a refused signature leaves no signature"
    with unit_of_work(session, actor_for(qa)):
        sign(session, qa, PASSWORD, "Approved", "demo", 5, {})
    session.refresh(qa)
    assert qa.failed_logins == 0, "a right password ends the run of failures"
    for _ in range(4):
        with pytest.raises(SignatureError):
            with unit_of_work(session, actor_for(qa)):
                sign(session, qa, "wrong", "Approved", "demo", 6, {})
    with pytest.raises(SignatureError, match="now locked"):
        with unit_of_work(session, actor_for(qa)):
            sign(session, qa, "wrong", "Approved", "demo", 6, {})
    session.refresh(qa)
    assert qa.is_locked
    with pytest.raises(SignatureError, match="cannot sign"):
        with unit_of_work(session, actor_for(qa)):
            sign(session, qa, PASSWORD, "Approved", "demo", 6, {})
    counted = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == "users",
            AuditEntry.entity_id == str(qa.id),
            AuditEntry.action == "update",
            AuditEntry.changes.contains("failed_logins"),
        )
        .order_by(AuditEntry.id)
    ).all()
    assert len(counted) == 10 and counted[0].actor_id == qa.id
    assert counted[0].reason == "release G1234 26 000001", "the failure is logged with the work it was for"


def test_wrong_receiver_password_counts_against_the_receiver(session, make_user):
    sender, receiver = make_user("clinical"), make_user("clinical")
    with pytest.raises(SignatureError):
        with unit_of_work(session, actor_for(sender)):
            sign(session, sender, PASSWORD, "Handed over", "demo", 7, {})
            countersign(session, receiver, "not-the-receivers", "Received", "demo", 7, {})
    session.refresh(sender)
    session.refresh(receiver)
    assert (sender.failed_logins, receiver.failed_logins) == (0, 1)
    assert not signatures_for(session, "demo", 7), "the hand-over signature went with the refused hand-off"


def test_signature_applied_only_by_the_signed_in_person(session, make_user):
    qa, other = make_user("qa"), make_user("qa")
    with pytest.raises(SignatureError, match="signed-in person"):
        with unit_of_work(session, actor_for(other)):
            sign(session, qa, PASSWORD, "Approved", "demo", 2, {})


def test_status_change_checks_workflow_and_writes_history(session, make_user):
    tech, qa = make_user("technician"), make_user("qa")
    record = SimpleNamespace(__tablename__="demo", id=77, status="draft")
    with pytest.raises(TransitionRefused) as refused:
        with unit_of_work(session, actor_for(tech)):
            change_status(session, record, WF, "approved", problems=["spec has no tests"])
    assert len(refused.value.problems) == 3  # permission, signature, domain problem: all named
    assert record.status == "draft"
    with unit_of_work(session, actor_for(qa)):
        sig = sign(session, qa, PASSWORD, "Approved", "demo", 77, {"x": 1})
        change_status(session, record, WF, "approved", signature=sig)
    assert record.status == "approved"
    history = session.scalars(
        select(StatusChange).where(StatusChange.entity == "demo", StatusChange.entity_id == "77")
    ).all()
    assert [(h.from_status, h.to_status, h.signature_id) for h in history] == [("draft", "approved", sig.id)]


def test_status_history_and_signatures_are_append_only(engine, session, make_user):
    qa = make_user("qa")
    record = SimpleNamespace(__tablename__="demo", id=78, status="draft")
    with unit_of_work(session, actor_for(qa)):
        sig = sign(session, qa, PASSWORD, "Approved", "demo", 78, {})
        change_status(session, record, WF, "approved", signature=sig)
    with engine.connect() as conn:
        for table in ("status_changes", "signatures"):
            for stmt in (f"DELETE FROM {table}", f"UPDATE {table} SET entity = 'moved'"):
                with pytest.raises(DatabaseError, match="append-only"):
                    conn.execute(text(stmt))
                conn.rollback()
