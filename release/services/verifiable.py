"""The release domain's verifiable entries (bank.verification): current test results, listed with their
values in one query and verified by `verify_result`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bank.i18n import t
from bank.languages import day_text
from bank.verification.services import Entry, EntryQuery, VerifiableKind
from lots.models import Lot
from lots.services.verifiable import entries_select, lot_entry
from release.models import TestResult
from release.reports import result_text, verdict_word
from release.rules.texts import known_text
from release.services.results import verify_result


def result_entries(session: Session, query: EntryQuery) -> list[Entry]:
    entries = []
    awaiting = (TestResult.superseded_by_id.is_(None), Lot.status != "rejected")
    for r, lot_id, din, name in session.execute(entries_select(TestResult, query, *awaiting)):
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
            lot_entry(
                "result",
                r,
                lot_id,
                din,
                name,
                t("Result #%(ref)s %(test)s", ref=r.id, test=r.test_code),
                values,
                {
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
                "release.lot",
            )
        )
    return entries


def _verify(session: Session, entry_id: int) -> None:
    verify_result(session, session.get(TestResult, entry_id))


VERIFIABLE_KINDS = (VerifiableKind("result", t("Test result"), "result.verify", result_entries, _verify),)
