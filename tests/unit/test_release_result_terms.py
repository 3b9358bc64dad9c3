"""Controlled qualitative results (DOMAIN.md §4: sterility "no growth", mycoplasma "not detected", conditional
release on sterility "no growth to date"): a synonym the site accepts is the term it stands for; anything
else is refused at entry, never judged a failure; a specification stored without terms reads as before."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from release.reference import SEED_VERSION, seed_specifications, with_seed_terms
from release.rules import (
    QualitativeTest,
    Specification,
    edited_specification,
    judge_entry,
    verdict_qualitative,
)

SEED = seed_specifications()["AT-MSC-ALLO"]
STERILITY = SEED.get_test("STERILITY")
MYCOPLASMA = SEED.get_test("MYCOPLASMA")


@pytest.mark.parametrize(
    ("test", "typed", "stored", "status", "conditional"),
    [
        pytest.param(
            STERILITY, "negative", "no growth", "pass", False, id="sec4-sterility-negative-is-no-growth"
        ),
        pytest.param(
            STERILITY, " No  Growth ", "no growth", "pass", False, id="sec4-case-and-spacing-ignored"
        ),
        pytest.param(STERILITY, "no growth to date", "no growth to date", "pass", True, id="sec4-interim"),
        pytest.param(STERILITY, "positive", "growth", "fail", False, id="sec4-sterility-positive-is-growth"),
        pytest.param(MYCOPLASMA, "negative", "not detected", "pass", False, id="sec4-mycoplasma-negative"),
        pytest.param(MYCOPLASMA, "detected", "detected", "fail", False, id="sec4-mycoplasma-detected-fails"),
    ],
)
def test_a_controlled_result_is_stored_as_its_term(test, typed, stored, status, conditional):
    verdict, value, errors = judge_entry(test, typed, "", None)
    assert errors == {}
    assert (value, verdict.status, verdict.conditional) == (stored, status, conditional)


def test_a_synonym_is_named_with_its_term_in_the_verdict():
    verdict, _, _ = judge_entry(STERILITY, "negative", "", None)
    assert "negative (= no growth)" in verdict.message


@pytest.mark.parametrize("typed", ["neg", "clean", "no growth yet", "not detected"])
def test_anything_else_is_refused_at_entry_listing_the_allowed_terms(typed):
    verdict, value, errors = judge_entry(STERILITY, typed, "", None)
    assert verdict is None and value == ""
    assert "not an allowed result" in errors["value"]
    for term in ("'no growth'", "'no growth to date'", "'growth'", "negative"):
        assert term in errors["value"]


def test_an_unknown_term_is_invalid_never_a_failure():
    assert verdict_qualitative(STERILITY, "neg").status == "invalid"


def test_every_qualitative_seed_test_lists_conforming_and_failing_terms():
    for spec in seed_specifications().values():
        for test in spec.tests:
            if isinstance(test, QualitativeTest):
                assert any(t.conforming and not t.interim for t in test.terms), test.code
                assert any(not t.conforming for t in test.terms), test.code
                assert test.term_of(test.expected) is not None, test.code
                assert all(test.term_of(c).interim for c in test.conditional), test.code


def test_terms_survive_storage_as_json():
    again = Specification.from_dict(json.loads(json.dumps(SEED.to_dict())))
    assert again == SEED


def _stored_before_terms(spec: Specification) -> Specification:
    data = spec.to_dict()
    for t in data["tests"]:
        t.pop("terms", None)
    return Specification.from_dict(data)


def test_a_seed_version_stored_before_terms_reads_with_its_seeds_terms():
    old = _stored_before_terms(SEED)
    assert old.get_test("STERILITY").terms == ()
    assert with_seed_terms(old) == SEED


def test_a_non_seed_version_without_terms_is_judged_by_its_expected_text_as_before():
    old = replace(_stored_before_terms(SEED), version="2")
    read = with_seed_terms(old)
    assert read.get_test("STERILITY").terms == ()
    # Today's behaviour: "negative" is not "no growth", so it is a failure, not refused.
    assert verdict_qualitative(read.get_test("STERILITY"), "negative").status == "fail"
    assert judge_entry(read.get_test("STERILITY"), "negative", "", None)[2] == {}
    assert SEED.version == SEED_VERSION


def test_a_draft_may_allow_only_interim_terms_for_conditional_release():
    _, errors = edited_specification(SEED, _edits(SEED, STERILITY__conditional="growth"))
    assert "Not an interim result" in errors["STERILITY__conditional"]
    spec, errors = edited_specification(SEED, _edits(SEED, STERILITY__conditional="negative to date"))
    assert errors == {} and spec.get_test("STERILITY").conditional == ("no growth to date",)


def _edits(spec: Specification, **over: str) -> dict[str, str]:
    from release.rules import editable_fields

    edits = {name: text for _, fields in editable_fields(spec) for name, _, text in fields}
    return {**edits, **over}
