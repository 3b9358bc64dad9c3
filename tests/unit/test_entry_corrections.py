"""Corrections that keep the original (DOMAIN.md §2: a determination is signed on its evidence; §4: a
result is verified by a second person and release is signed on the results): who may correct or void, what
a correction after a signature flags, and the serology sample window checked at entry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from donors.rules import EntryChange, SerologyResult, rereview_problems, serology_errors, window_error
from release.rules import LotFacts, ResultFacts, correction_problems
from release.rules import rereview_problems as release_rereview

pytestmark = pytest.mark.requirement("ER-CORRECTIONS")

LOT = LotFacts("W0000", "awaiting_qc", "awaiting QC", False, "AT-MSC-ALLO")
AUTHOR, OTHER = 1, 2
SIGNED = datetime(2026, 5, 1, 12, tzinfo=UTC)


def result(**kw) -> ResultFacts:
    fields = dict(test_code="VIABILITY", verdict="pass", verified=False, entered_by=AUTHOR, verified_by=None)
    fields.update(kw)
    return ResultFacts(**fields, result_ref="7")


@pytest.mark.parametrize(
    ("facts", "actor", "void", "rules"),
    [
        pytest.param(result(), AUTHOR, False, set(), id="sec4-author-corrects-before-verification"),
        pytest.param(result(), AUTHOR, True, set(), id="sec4-author-voids-before-verification"),
        pytest.param(
            result(), OTHER, False, {"release.correct_not_author"}, id="sec4-other-before-verification"
        ),
        pytest.param(
            result(verified=True, verified_by=OTHER),
            OTHER,
            False,
            set(),
            id="sec4-after-verification-corrected",
        ),
        pytest.param(
            result(verified=True, verified_by=OTHER),
            AUTHOR,
            True,
            {"release.void_verified"},
            id="sec4-no-void-verified",
        ),
        pytest.param(
            result(superseded=True), AUTHOR, False, {"release.correct_not_current"}, id="sec4-superseded"
        ),
        pytest.param(result(voided=True), AUTHOR, False, {"release.correct_not_current"}, id="sec4-voided"),
    ],
)
def test_who_may_correct_or_void_a_result(facts, actor, void, rules):
    assert {p.rule_id for p in correction_problems(facts, actor, LOT, void)} == rules


def test_a_voided_result_no_longer_counts_the_test_is_missing():
    from release.rules import current_results

    assert current_results([result(voided=True), result(test_code="STERILITY")]) == [
        result(test_code="STERILITY")
    ]


def test_release_flagged_only_for_results_it_was_signed_on():
    flags = release_rereview(["7", "8"], [("7", "corrected by result #9: typo"), ("10", "voided")])
    assert [(p.rule_id, p.evidence) for p in flags] == [("release.rereview", "7")]


def change(recorded_days: int, voided_days: int) -> EntryChange:
    return EntryChange(
        "serology #3 (HIV negative)",
        SIGNED + timedelta(days=recorded_days),
        SIGNED + timedelta(days=voided_days),
        "typo",
    )


@pytest.mark.parametrize(
    ("entry", "flagged"),
    [
        pytest.param(change(-3, 2), True, id="sec2-signed-on-data-corrected-later"),
        pytest.param(change(-3, -1), False, id="sec2-corrected-before-signing"),
        pytest.param(change(1, 2), False, id="sec2-entry-after-signing-not-signed-on"),
    ],
)
def test_determination_flagged_when_its_evidence_is_corrected_after_signing(entry, flagged):
    problems = rereview_problems(SIGNED, [entry])
    assert bool(problems) is flagged
    if flagged:
        assert problems[0].rule_id == "donor.rereview" and "serology #3" in problems[0].message


HARVEST = date(2026, 4, 10)


@pytest.mark.parametrize(
    ("sample", "ok"),
    [
        pytest.param(HARVEST, True, id="sec2-sample-at-harvest"),
        pytest.param(HARVEST + timedelta(days=7), True, id="sec2-sample-plus-7"),
        pytest.param(HARVEST + timedelta(days=8), False, id="sec2-sample-plus-8-does-not-count"),
        pytest.param(HARVEST - timedelta(days=1), False, id="sec2-sample-before-harvest"),
    ],
)
def test_sample_window_checked_at_entry(sample, ok):
    assert (window_error(sample, HARVEST, CS) is None) is ok


def test_no_window_without_a_harvest_date():
    assert window_error(HARVEST, None, CS) is None


def test_an_empty_marker_asks_to_choose_one_never_unknown_marker():
    errors = serology_errors(SerologyResult("", "negative", HARVEST, HARVEST, "CMIA", "K1"), HARVEST, CS)
    assert errors["marker"] == "choose a marker"
