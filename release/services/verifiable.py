"""The release domain's verifiable entries (bank.verification): current test results, listed with their
values in one query and verified by `verify_result`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from bank.i18n import t
from bank.languages import day_text
from bank.models import User
from bank.verification.services import Entry, EntryQuery, VerifiableKind
from bank.web import LIKE_ESCAPE, like_pattern
from lots.models import Lot
from release.models import TestResult
from release.reports import result_text, verdict_word
from release.rules.texts import known_text
from release.services.results import verify_result


def _select(query: EntryQuery):
    entered_by = aliased(User)
    stmt = (
        select(TestResult, Lot.din, entered_by.full_name)
        .join(Lot, Lot.id == TestResult.lot_id)
        .outerjoin(entered_by, entered_by.id == TestResult.entered_by_id)
        .order_by(TestResult.entered_at, TestResult.id)
    )
    if query.ids is not None:
        return stmt.where(TestResult.id.in_(query.ids))
    stmt = stmt.where(
        TestResult.verified_at.is_(None), TestResult.superseded_by_id.is_(None), Lot.status != "rejected"
    )
    if query.excluding_user_id is not None:
        stmt = stmt.where(TestResult.entered_by_id != query.excluding_user_id)
    if query.subject:
        stmt = stmt.where(Lot.din.like(like_pattern("".join(query.subject.split())), escape=LIKE_ESCAPE))
    return stmt.limit(query.limit) if query.limit else stmt


def result_entries(session: Session, query: EntryQuery) -> list[Entry]:
    entries = []
    for r, din, name in session.execute(_select(query)):
        values = [
            (t("Test"), r.test_code),
            (t("Result"), result_text(r)),
            (t("Verdict"), verdict_word(r.verdict, r.conditional)),
            (t("Method"), r.method + (f" · {r.instrument}" if r.instrument else "")),
            (t("Performed on"), day_text(r.performed_on)),
        ]
        if r.retest_of_id:
            values.append(
                (
                    t("Retest of"),
                    t("#%(ref)s: %(reason)s", ref=r.retest_of_id, reason=known_text(r.retest_reason)),
                )
            )
        entries.append(
            Entry(
                kind="result",
                entry_id=r.id,
                title=t("Result #%(ref)s %(test)s", ref=r.id, test=r.test_code),
                subject=f"{din[:5]} {din[5:7]} {din[7:]}",
                values=tuple(values),
                content={
                    "test_code": r.test_code,
                    "value": r.value,
                    "unit": r.unit,
                    "verdict": r.verdict,
                    "conditional": r.conditional,
                    "method": r.method,
                    "instrument": r.instrument,
                    "performed_on": r.performed_on,
                    "retest_of_id": r.retest_of_id,
                    "superseded_by_id": r.superseded_by_id,
                    "attachment_id": r.attachment_id,
                },
                entered_by_id=r.entered_by_id,
                entered_by=name or "",
                entered_at=r.entered_at,
                verified_by_id=r.verified_by_id,
                verified_at=r.verified_at,
                link_endpoint="release.lot",
                link_args=(("lot_id", r.lot_id),),
            )
        )
    return entries


def _verify(session: Session, entry_id: int) -> None:
    verify_result(session, session.get(TestResult, entry_id))


VERIFIABLE_KINDS = (VerifiableKind("result", t("Test result"), "result.verify", result_entries, _verify),)
