"""Bulk verification (bank.verification) on a real database: entries entered by others listed in one
query per kind, verified under one signature with a verification record each; one's own entries, an
entry changed or verified meanwhile refuse the whole act, naming every reason, and write nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bank.esign import SignatureError
from bank.models import Signature
from bank.refusals import Refused
from bank.uow import unit_of_work
from bank.users import actor_for
from bank.verification import services as vs
from bank.verification.states import ENTRY_VERIFICATION, VERIFIED_MEANING
from lots.models import Isolation, Passage
from lots.services.verifiable import VERIFIABLE_KINDS as LOT_KINDS
from release import services as release_services
from release.models import TestResult
from release.services.verifiable import VERIFIABLE_KINDS as RELEASE_KINDS
from tests.factories import lots as lf
from tests.factories import release as fr
from tests.support import PASSWORD

pytestmark = pytest.mark.requirement("ER-ENTRY-CHECKS")

REGISTRY = {k.key: k for k in (*LOT_KINDS, *RELEASE_KINDS)}


@pytest.fixture
def staff(make_user):
    return make_user("technician"), make_user("technician"), make_user("qa")


def bench_lot(session, tech, verifier):
    """A lot with its isolation and two passages entered by `tech`, none verified."""
    lot, _entries = lf.unverified_bench(session, tech, verifier)
    return lot


def awaiting(session, user, **kw) -> list[vs.Entry]:
    return vs.awaiting_verification(session, REGISTRY, actor_for(user), **kw)


def chosen(entries) -> list[vs.Chosen]:
    return [vs.Chosen(e.kind, e.entry_id, e.digest) for e in entries]


def verify(session, user, choice, password=PASSWORD):
    with unit_of_work(session, actor_for(user), "entries verified"):
        return vs.verify_entries(session, REGISTRY, user, password, choice)


def ten_entries(session, tech, tech2, qa):
    """Six bench entries of two lots and four QC results of a third, all entered by `tech`."""
    lots = [bench_lot(session, tech, qa), bench_lot(session, tech, qa)]
    qc = fr.qc_lot(session, tech, tech2, qa)
    for code in ("VIABILITY", "STERILITY", "MYCOPLASMA", "ENDOTOXIN"):
        fr.enter(session, tech, qc, code)
    entries = [e for lot in [*lots, qc] for e in awaiting(session, qa, subject=lot.din)]
    assert len(entries) == 10 and {e.kind for e in entries} == {"isolation", "passage", "result"}
    return entries


def test_ten_entries_verified_with_one_signature_each_with_its_own_record(session, staff):
    tech, tech2, qa = staff
    entries = ten_entries(session, tech, tech2, qa)
    signatures_before = session.scalar(select(func.count()).select_from(Signature))

    records = verify(session, qa, chosen(entries))

    assert len(records) == 10
    assert session.scalar(select(func.count()).select_from(Signature)) == signatures_before + 1
    sig = session.get(Signature, records[0].signature_id)
    assert sig.meaning == VERIFIED_MEANING == ENTRY_VERIFICATION.transitions[0].signature_meaning
    assert sig.printed_name == qa.full_name and sig.entity == vs.SIGNED_ENTITY
    assert {r.signature_id for r in records} == {sig.id}
    assert {(r.kind, r.entry_id) for r in records} == {(e.kind, e.entry_id) for e in entries}
    assert all(r.verified_by_id == qa.id for r in records)
    # Each entry carries its own verification in its domain, and shows the signature that verified it.
    models = {"isolation": Isolation, "passage": Passage, "result": TestResult}
    for e in entries:
        row = session.get(models[e.kind], e.entry_id)
        assert row.verified_by_id == qa.id and row.verified_at is not None
        shown = vs.verifications_of(session, REGISTRY, e.kind, [e.entry_id])[e.entry_id]
        assert shown.signature.id == sig.id and shown.valid and shown.record.entry_digest == e.digest
    # Nothing of these is offered any more, to anyone.
    for user in (qa, tech2):
        assert not {e.key for e in awaiting(session, user)} & {e.key for e in entries}


def test_own_entries_are_never_offered_and_refused_when_posted(session, staff):
    tech, tech2, qa = staff
    lot = bench_lot(session, tech, qa)
    assert awaiting(session, tech, subject=lot.din) == []
    others = awaiting(session, tech2, subject=lot.din)
    assert len(others) == 3

    with pytest.raises(Refused) as refused:
        verify(session, tech, chosen(others))

    assert refused.value.status == 409
    assert [p.rule_id for p in refused.value.problems] == ["verify.four_eyes"] * 3
    assert all(lot.din_display in p.message for p in refused.value.problems)
    assert not any(vs.verifications_of(session, REGISTRY, e.kind, [e.entry_id]) for e in others)
    assert all(
        session.get(Passage if e.kind == "passage" else Isolation, e.entry_id).verified_at is None
        for e in others
    )


def test_one_stale_entry_refuses_the_whole_act_naming_every_reason(session, staff):
    tech, tech2, qa = staff
    qc = fr.qc_lot(session, tech, tech2, qa)
    viability = fr.enter(session, tech, qc, "VIABILITY")
    sterility = fr.enter(session, tech, qc, "STERILITY")
    endotoxin = fr.enter(session, tech, qc, "ENDOTOXIN")
    shown = awaiting(session, qa, subject=qc.din)
    assert {e.entry_id for e in shown} == {viability.id, sterility.id, endotoxin.id}
    # Meanwhile: the viability is retested (the result shown is superseded) and tech2 verifies the
    # endotoxin result.
    fr.enter(session, tech, qc, "VIABILITY", retest_of_id=viability.id, retest_reason="sample mix-up")
    fr.verify(session, tech2, endotoxin)
    signatures_before = session.scalar(select(func.count()).select_from(Signature))

    with pytest.raises(Refused) as refused:
        verify(session, qa, chosen(shown))

    problems = {p.evidence: p.rule_id for p in refused.value.problems}
    assert problems == {
        f"result:{viability.id}": "verify.changed",
        f"result:{endotoxin.id}": "verify.already",
    }
    session.expire_all()
    assert session.get(TestResult, sterility.id).verified_at is None, "nothing half-verified"
    assert session.scalar(select(func.count()).select_from(Signature)) == signatures_before
    assert not vs.verifications_of(session, REGISTRY, "result", [sterility.id])


def test_a_refusal_of_the_domain_refuses_the_whole_act(session, staff):
    """The domain's own rules still apply (a rejected lot's results are closed), inside the same act."""
    tech, tech2, qa = staff
    open_lot = bench_lot(session, tech, qa)
    qc = fr.qc_lot(session, tech, tech2, qa)
    result = fr.enter(session, tech, qc, "VIABILITY")
    shown = awaiting(session, tech2, subject=open_lot.din) + [
        e for e in vs.entries_by_key(session, REGISTRY, [("result", result.id)]).values()
    ]
    with unit_of_work(session, actor_for(qa), "rejected"):
        release_services.reject_lot(session, qc, qa, PASSWORD, "sterility failure")

    with pytest.raises(Refused) as refused:
        verify(session, tech2, chosen(shown))

    assert refused.value.rule_ids == {"release.results_closed"}
    session.expire_all()
    assert all(
        session.get(Passage if e.kind == "passage" else Isolation, e.entry_id).verified_at is None
        for e in shown
        if e.kind != "result"
    )


def test_a_wrong_password_verifies_nothing(session, staff):
    tech, tech2, qa = staff
    lot = bench_lot(session, tech, qa)
    shown = awaiting(session, qa, subject=lot.din)
    with pytest.raises(SignatureError):
        verify(session, qa, chosen(shown), password="not-the-password-1")
    session.expire_all()
    assert awaiting(session, qa, subject=lot.din) == shown


def test_the_list_filters_by_kind_and_lot_and_reads_one_query_per_kind(session, staff, engine):
    tech, tech2, qa = staff
    lot = bench_lot(session, tech, qa)
    assert [e.kind for e in awaiting(session, qa, subject=lot.din, kinds=["passage"])] == [
        "passage",
        "passage",
    ]
    assert awaiting(session, qa, subject=lot.din[5:], kinds=["isolation"])[0].title == "Isolation"
    assert awaiting(session, qa, subject="%", kinds=["isolation"]) == []  # % is taken literally
    statements = []
    from sqlalchemy import event

    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        awaiting(session, qa)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == len(REGISTRY)


def test_empty_unreadable_and_unknown_entries_are_input_errors_or_named(session, staff):
    _tech, tech2, _qa = staff
    with pytest.raises(Refused) as empty:
        verify(session, tech2, [])
    assert empty.value.status == 422 and "entries" in empty.value.errors
    with pytest.raises(Refused) as unreadable:
        vs.parse_chosen(["passage:1@nothex", "passage"])
    assert "entries" in unreadable.value.errors
    with pytest.raises(Refused) as unknown:
        verify(session, tech2, [vs.Chosen("dose", 1, "0" * 64), vs.Chosen("passage", 10**9, "0" * 64)])
    assert [p.rule_id for p in unknown.value.problems] == ["verify.unknown_kind", "verify.not_found"]
