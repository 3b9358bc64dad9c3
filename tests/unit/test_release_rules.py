"""Unit tests of release.rules and release.reference (the seed specifications); parameter ids `secN-…` cite /work/shared/DOMAIN.md."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import pytest

from release.reference import IFATS_2013_AT_PANEL, ISCT_2006_BM_PANEL, seed_specifications
from release.rules import DonorReleaseFacts as Donor
from release.rules import (
    LotFacts,
    MarkerRule,
    NumericTest,
    QualitativeTest,
    ResultFacts,
    Specification,
    Verdict,
    approval_problems,
    current_results,
    draft_problems,
    edit_problems,
    editable_fields,
    edited_specification,
    entry_problems,
    evaluate,
    judge_entry,
    late_sterility_alert,
    lot_status_problems,
    lot_verdict,
    release_blockers,
    release_problems,
    results_closed,
    spec_test_from_dict,
    spec_test_to_dict,
    verdict_numeric,
    verdict_panel,
    verdict_qualitative,
    verification_problems,
)

pytestmark = pytest.mark.requirement("REL-DECISION", "REL-SPECIFICATIONS")

VIABILITY = NumericTest("VIABILITY", "Viability", "%", min=70.0)
ENDOTOXIN = NumericTest("ENDOTOXIN", "Endotoxin", "EU/mL", max=0.5)
CELLS = NumericTest("CELLS", "Viable cells per container", "x10^6 viable cells", min=70.0, max=200.0)
OPEN_RANGE = NumericTest("PH", "pH", "pH", min=7.0, max=7.6, min_inclusive=False, max_inclusive=False)
STERILITY = QualitativeTest("STERILITY", "Sterility", "no growth", conditional=("no growth to date",))
MYCOPLASMA = QualitativeTest("MYCOPLASMA", "Mycoplasma", "not detected", accepted=("negative",))


# --- numeric verdicts (§4: viability ≥ 70 %, endotoxin per mL, cells per container) ------------


@pytest.mark.parametrize(
    ("test", "value", "unit", "status"),
    [
        pytest.param(VIABILITY, 70.0, "%", "pass", id="sec4-viability-70-at-floor-passes"),
        pytest.param(VIABILITY, 69.9, "%", "fail", id="sec4-viability-69.9-fails"),
        pytest.param(VIABILITY, 100.0, "%", "pass", id="sec4-viability-100"),
        pytest.param(VIABILITY, 100.1, "%", "invalid", id="sec4-percent-over-100-invalid"),
        pytest.param(VIABILITY, -1, "%", "invalid", id="sec4-percent-negative-invalid"),
        pytest.param(VIABILITY, 85, "fraction", "invalid", id="sec4-unit-mismatch-invalid"),
        pytest.param(VIABILITY, 85, None, "invalid", id="sec4-unit-missing-invalid"),
        pytest.param(VIABILITY, None, "%", "invalid", id="sec4-no-value-invalid"),
        pytest.param(VIABILITY, "abc", "%", "invalid", id="sec4-not-a-number-invalid"),
        pytest.param(VIABILITY, float("nan"), "%", "invalid", id="sec4-nan-invalid"),
        pytest.param(VIABILITY, "82.5", " % ", "pass", id="sec4-text-value-and-padded-unit"),
        pytest.param(ENDOTOXIN, 0.5, "EU/mL", "pass", id="sec4-endotoxin-at-max-passes"),
        pytest.param(ENDOTOXIN, 0.51, "EU/mL", "fail", id="sec4-endotoxin-over-max-fails"),
        pytest.param(ENDOTOXIN, 0.5, "EU/kg", "invalid", id="sec4-endotoxin-per-kg-is-not-per-ml"),
        pytest.param(CELLS, 70, "x10^6 viable cells", "pass", id="sec4-cells-at-min"),
        pytest.param(CELLS, 200, "x10^6 viable cells", "pass", id="sec4-cells-at-max"),
        pytest.param(CELLS, 200.1, "x10^6 viable cells", "fail", id="sec4-cells-over-range"),
        pytest.param(CELLS, 69, "x10^6 viable cells", "fail", id="sec4-cells-under-range"),
        pytest.param(OPEN_RANGE, 7.0, "pH", "fail", id="sec4-exclusive-min-boundary-fails"),
        pytest.param(OPEN_RANGE, 7.6, "pH", "fail", id="sec4-exclusive-max-boundary-fails"),
        pytest.param(OPEN_RANGE, 7.3, "pH", "pass", id="sec4-inside-open-range"),
    ],
)
def test_verdict_numeric(test, value, unit, status):
    verdict = verdict_numeric(test, value, unit)
    assert verdict.status == status
    assert test.name in verdict.message and not verdict.conditional


def test_numeric_boundary_compares_decimal_not_binary_float():
    # 0.1 + 0.2 is 0.30000000000000004 in floats: a max of 0.3 met "exactly" must not fail by rounding,
    # while the typed value 0.30000000000000004 is genuinely above.
    test = NumericTest("X", "X", "EU/mL", max=0.3)
    assert verdict_numeric(test, Decimal("0.3"), "EU/mL").status == "pass"
    assert verdict_numeric(test, 0.3, "EU/mL").status == "pass"
    assert verdict_numeric(test, 0.1 + 0.2, "EU/mL").status == "fail"
    # float(20.1) is 20.100000000000001…: a typed 20.1 must meet a minimum of 20.1.
    potency = NumericTest("POTENCY", "Potency", "%", min=20.1)
    assert verdict_numeric(potency, 20.1, "%").status == "pass"
    assert verdict_numeric(potency, "20.09", "%").status == "fail"


# --- qualitative verdicts (§4: sterility no growth, conditional 'no growth to date') -----------


@pytest.mark.parametrize(
    ("test", "value", "status", "conditional"),
    [
        pytest.param(STERILITY, "no growth", "pass", False, id="sec4-sterility-no-growth"),
        pytest.param(STERILITY, "  No   Growth ", "pass", False, id="sec4-case-and-spacing-ignored"),
        pytest.param(STERILITY, "no growth to date", "pass", True, id="sec4-interim-is-conditional-pass"),
        pytest.param(STERILITY, "growth: S. aureus", "fail", False, id="sec4-sterility-growth-fails"),
        pytest.param(STERILITY, "", "invalid", False, id="sec4-empty-invalid"),
        pytest.param(STERILITY, None, "invalid", False, id="sec4-none-invalid"),
        pytest.param(MYCOPLASMA, "not detected", "pass", False, id="sec4-mycoplasma-not-detected"),
        pytest.param(MYCOPLASMA, "Negative", "pass", False, id="sec4-accepted-synonym"),
        pytest.param(MYCOPLASMA, "detected", "fail", False, id="sec4-mycoplasma-detected"),
        pytest.param(MYCOPLASMA, "no growth to date", "fail", False, id="sec4-conditional-only-where-listed"),
    ],
)
def test_verdict_qualitative(test, value, status, conditional):
    verdict = verdict_qualitative(test, value)
    assert (verdict.status, verdict.conditional) == (status, conditional)


# --- marker panels (§4: ISCT 2006 BM-MSC, either/or pairs) -------------------------------------

GOOD_BM = {
    "CD73": 99.1,
    "CD90": 98.7,
    "CD105": 95.0,
    "CD45": 0.4,
    "CD34": 2.0,
    "CD14": 0.3,
    "CD79a": 0.2,
    "HLA-DR": 1.1,
}


def panel(**changes):
    values = {k: v for k, v in GOOD_BM.items() if k not in changes}
    values.update({k: v for k, v in changes.items() if v is not None})
    return values


@pytest.mark.parametrize(
    ("values", "status", "in_message"),
    [
        pytest.param(GOOD_BM, "pass", "", id="sec4-isct-all-within"),
        pytest.param(panel(CD105=94.9), "fail", "CD105", id="sec4-positive-94.9-fails-95"),
        pytest.param(panel(CD34=2.1), "fail", "CD34", id="sec4-negative-2.1-fails-2"),
        pytest.param(panel(CD14=None, CD11b=1.0), "pass", "", id="sec4-cd11b-replaces-cd14"),
        pytest.param(panel(CD14=5.0, CD11b=1.0), "pass", "", id="sec4-either-measured-and-passing-ok"),
        pytest.param(panel(CD14=5.0), "fail", "CD14", id="sec4-only-alternative-measured-fails"),
        pytest.param(panel(CD14=5.0, CD11b=3.0), "fail", "CD11b", id="sec4-both-alternatives-fail"),
        pytest.param(
            panel(CD79a=None), "invalid", "missing marker(s): CD79a or CD19", id="sec4-pair-missing"
        ),
        pytest.param(panel(CD79a=None, CD19=0.5), "pass", "", id="sec4-cd19-replaces-cd79a"),
        pytest.param(panel(**{"CD79a": None, "CD79α": 0.5}), "pass", "", id="sec4-greek-alpha-name"),
        pytest.param(panel(**{"HLA-DR": None, "hla-dr": 0.5}), "pass", "", id="sec4-marker-case"),
        pytest.param(
            panel(CD90=None, CD45=3.0), "fail", "missing marker(s): CD90", id="sec4-fail-lists-missing-too"
        ),
        pytest.param(panel(CD73=101.0), "invalid", "impossible", id="sec4-percent-over-100-invalid"),
        pytest.param(panel(CD73="n/a"), "invalid", "impossible", id="sec4-unreadable-value-invalid"),
        pytest.param(panel(CD73=Decimal("95.00")), "pass", "", id="sec4-decimal-values"),
    ],
)
def test_verdict_panel_isct_2006(values, status, in_message):
    verdict = verdict_panel(ISCT_2006_BM_PANEL, values)
    assert verdict.status == status
    assert in_message in verdict.message


def test_panel_lists_every_failing_marker():
    message = verdict_panel(ISCT_2006_BM_PANEL, panel(CD73=80.0, CD45=9.0)).message
    assert "CD73" in message and "CD45" in message and "CD90" not in message


@pytest.mark.parametrize(
    ("values", "status"),
    [
        pytest.param(
            {"CD90": 80.0, "CD73": 85, "CD105": 90, "CD44": 99, "CD45": 2.0, "CD31": 1, "CD235a": 0},
            "pass",
            id="sec4-ifats-at-80-passes",
        ),
        pytest.param(
            {"CD90": 79.9, "CD73": 85, "CD105": 90, "CD44": 99, "CD45": 1, "CD31": 1, "CD235a": 0},
            "fail",
            id="sec4-ifats-79.9-fails",
        ),
    ],
)
def test_verdict_panel_ifats_2013(values, status):
    assert verdict_panel(IFATS_2013_AT_PANEL, values).status == status


def test_evaluate_dispatches_on_kind():
    assert evaluate(VIABILITY, 80, "%").status == "pass"
    assert evaluate(STERILITY, "no growth").status == "pass"
    assert evaluate(ISCT_2006_BM_PANEL, GOOD_BM).status == "pass"
    assert evaluate(ISCT_2006_BM_PANEL, 99.0).status == "invalid"


# --- specifications as data (§4: per product type and versioned) ------------------------------


@pytest.mark.parametrize("key", ["BM-MSC-AUTO", "AT-MSC-ALLO"])
def test_seed_specification_round_trips_through_json(key):
    spec = seed_specifications()[key]
    assert spec.product_key == key and spec.version
    assert Specification.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize(
    ("key", "codes"),
    [
        pytest.param("BM-MSC-AUTO", {"IDENTITY-ISCT2006"}, id="sec4-bm-isct-2006"),
        pytest.param("AT-MSC-ALLO", {"IDENTITY-IFATS2013"}, id="sec4-at-ifats-2013"),
    ],
)
def test_seed_specifications_hold_the_section_4_tests(key, codes):
    spec = seed_specifications()[key]
    common = set(
        "VIABILITY STERILITY MYCOPLASMA ENDOTOXIN CELLS-PER-CONTAINER KARYOTYPE TRILINEAGE POTENCY".split()
    )
    assert common | codes <= {t.code for t in spec.tests}
    assert len({t.code for t in spec.tests}) == len(spec.tests)
    assert spec.get_test("VIABILITY").min == 70.0
    assert spec.get_test("POTENCY").min == 20.0
    assert spec.get_test("STERILITY").conditional == ("no growth to date",)
    assert spec.get_test("NOPE") is None


def test_unconfirmed_adipose_thresholds_are_flagged_check():
    # The flag is the specification's note, which QA reads; the test's name is what every screen, alert
    # and printout shows, so it carries no internal marker (issue 21).
    assert "[check]" in IFATS_2013_AT_PANEL.note and "[check]" not in IFATS_2013_AT_PANEL.name


def test_spec_test_from_dict_rejects_unknown_kind_and_bad_rule():
    with pytest.raises(ValueError):
        spec_test_from_dict({"kind": "magic", "code": "X", "name": "X"})
    with pytest.raises(ValueError):
        MarkerRule(("CD73",), ">", 95.0)
    rebuilt = spec_test_from_dict(spec_test_to_dict(MYCOPLASMA))
    assert rebuilt == MYCOPLASMA and isinstance(rebuilt.accepted, tuple)


# --- release blockers and lot verdict (§4 QA release; §2 donor; Part 11 / Annex 11 four eyes) ---

SPEC = Specification("TEST", "1", (VIABILITY, STERILITY, replace(CELLS, required=False)))
ANALYST, REVIEWER, QA = 1, 2, 3
ELIGIBLE = Donor(eligible_signed=True, under_lookback=False, is_autologous=False)


def ok(code: str, **kw) -> ResultFacts:
    """A passing, verified result entered by the analyst and verified by the reviewer, unless overridden."""
    base = dict(test_code=code, verdict="pass", verified=True, entered_by=ANALYST, verified_by=REVIEWER)
    return ResultFacts(**(base | kw))


ALL_OK = [ok("VIABILITY"), ok("STERILITY")]


def blockers(results=ALL_OK, deviations=(), donor=ELIGIBLE, signer=QA, allow_conditional=False):
    return [p.rule_id for p in release_blockers(SPEC, results, deviations, donor, signer, allow_conditional)]


@pytest.mark.parametrize(
    ("kwargs", "expected", "verdict"),
    [
        pytest.param({}, [], "pass", id="sec4-all-met-release-allowed"),
        pytest.param(
            {"results": [ok("VIABILITY")]},
            ["release.test_missing"],
            "incomplete",
            id="sec4-required-test-missing",
        ),
        pytest.param(
            {"results": [ok("VIABILITY", verdict="fail"), ok("STERILITY")]},
            ["release.out_of_specification"],
            "fail",
            id="sec4-out-of-specification",
        ),
        pytest.param(
            {"results": [ok("VIABILITY", verdict="invalid"), ok("STERILITY")]},
            ["release.result_invalid"],
            "incomplete",
            id="sec4-invalid-result",
        ),
        pytest.param(
            {"results": [ok("VIABILITY", verified=False, verified_by=None), ok("STERILITY")]},
            ["release.unverified"],
            "incomplete",
            id="sec4-unverified",
        ),
        pytest.param(
            {"results": [ok("VIABILITY", verified_by=ANALYST), ok("STERILITY")]},
            ["release.self_verified"],
            "incomplete",
            id="sec6-verified-by-its-author",
        ),
        pytest.param(
            {"deviations": ["DEV-7", "DEV-9"]},
            ["release.deviation_open"] * 2,
            "pass",
            id="sec3-each-open-deviation",
        ),
        pytest.param(
            {"donor": Donor(False, False, False)},
            ["release.donor_not_eligible"],
            "pass",
            id="sec2-donor-not-signed-eligible",
        ),
        pytest.param(
            {"donor": Donor(False, False, True)}, [], "pass", id="sec1-autologous-needs-no-eligibility"
        ),
        pytest.param(
            {"donor": Donor(True, True, True)},
            ["release.donor_lookback"],
            "pass",
            id="sec2-lookback-holds-even-autologous",
        ),
        pytest.param({"signer": ANALYST}, ["release.four_eyes"], "pass", id="sec4-signer-entered-results"),
        pytest.param({"signer": REVIEWER}, ["release.four_eyes"], "pass", id="sec4-signer-verified-results"),
        pytest.param(
            {"results": [ok("VIABILITY", performed_by=QA), ok("STERILITY")]},
            ["release.four_eyes"],
            "pass",
            id="sec4-signer-performed-a-test",
        ),
        pytest.param(
            {
                "results": [
                    ok("VIABILITY", verdict="fail", superseded=True, entered_by=QA),
                    ok("VIABILITY"),
                    ok("STERILITY"),
                ]
            },
            ["release.four_eyes"],
            "pass",
            id="sec4-superseded-not-judged-but-four-eyes-counts",
        ),
        pytest.param(
            {"results": [*ALL_OK, ok("CELLS", verdict="fail")]},
            ["release.out_of_specification"],
            "fail",
            id="sec4-optional-test-failing-still-blocks",
        ),
        pytest.param(
            {"results": [*ALL_OK, ok("OTHER", verdict="fail")]},
            [],
            "pass",
            id="sec4-result-outside-spec-ignored",
        ),
        pytest.param(
            {"results": [ok("VIABILITY"), ok("STERILITY", is_conditional=True)]},
            ["release.conditional_not_allowed"],
            "incomplete",
            id="sec4-interim-without-conditional",
        ),
        pytest.param(
            {"results": [ok("VIABILITY"), ok("STERILITY", is_conditional=True)], "allow_conditional": True},
            [],
            "pass",
            id="sec4-conditional-release-on-no-growth-to-date",
        ),
        pytest.param(
            {"results": [ok("VIABILITY", is_conditional=True), ok("STERILITY")], "allow_conditional": True},
            ["release.conditional_not_in_spec"],
            "incomplete",
            id="sec4-conditional-only-where-spec-allows",
        ),
    ],
)
def test_release_blockers_and_lot_verdict(kwargs, expected, verdict):
    assert blockers(**kwargs) == expected
    results = kwargs.get("results", ALL_OK)
    assert lot_verdict(SPEC, results, kwargs.get("allow_conditional", False)) == verdict


def test_release_blockers_name_every_reason_at_once():
    results = [ok("VIABILITY", verdict="fail", verified=False, verified_by=None, entered_by=QA)]
    problems = release_blockers(SPEC, results, ["DEV-1"], Donor(False, True, False), QA, False)
    assert sorted(p.rule_id for p in problems) == sorted(
        [
            "release.test_missing",
            "release.out_of_specification",
            "release.unverified",
            "release.deviation_open",
            "release.donor_lookback",
            "release.donor_not_eligible",
            "release.four_eyes",
        ]
    )
    assert all(p.message and p.evidence for p in problems)
    assert any("DEV-1" in p.evidence for p in problems)


def test_retest_supersedes_failing_original_which_stays_visible():
    original = ok("VIABILITY", verdict="fail", superseded=True, result_ref="17")
    results = [original, ok("VIABILITY", result_ref="18"), ok("STERILITY")]
    assert lot_verdict(SPEC, results) == "pass"
    assert original not in current_results(results) and original in results


# --- late sterility (§4: a late positive must reach QA and the clinician) ----------------------


@pytest.mark.parametrize(
    ("final", "conditional_release", "patients", "alert", "notify"),
    [
        pytest.param(
            Verdict("fail", "growth"), True, ["P-001"], True, ("QA", "clinician"), id="sec4-late-positive"
        ),
        pytest.param(
            Verdict("fail", "growth"), True, [], True, ("QA",), id="sec4-late-positive-not-yet-allocated"
        ),
        pytest.param(
            Verdict("invalid", "broken"),
            True,
            ["P-001"],
            True,
            ("QA", "clinician"),
            id="sec4-final-invalid-sterility-unconfirmed",
        ),
        pytest.param(Verdict("pass", "no growth"), True, ["P-001"], False, None, id="sec4-final-negative"),
        pytest.param(
            Verdict("pass", "no growth to date", True), True, [], False, None, id="sec4-still-interim"
        ),
        pytest.param(Verdict("fail", "growth"), False, [], False, None, id="sec4-not-conditionally-released"),
    ],
)
def test_late_sterility_alert(final, conditional_release, patients, alert, notify):
    result = late_sterility_alert(final, conditional_release, patients, lot_ref="L-2025-001")
    assert (result is not None) == alert
    if alert:
        assert result.notify == notify and result.patients == tuple(patients)
        assert "L-2025-001" in result.message


# --- the lot's release, results entered and verified, specification versions (decisions in rules) ------

LOT = LotFacts(
    din="G123426000001",
    status="awaiting_qc",
    status_label="awaiting QC",
    quarantined=False,
    product_key="TEST",
)


def test_lot_status_blocks_release_only_outside_awaiting_qc():
    assert lot_status_problems(LOT) == []
    held = replace(LOT, status="on_hold", status_label="on hold")
    assert [p.rule_id for p in lot_status_problems(held)] == ["release.lot_status"]


@pytest.mark.parametrize(
    ("lot", "spec", "expected"),
    [
        pytest.param(LOT, SPEC, [], id="releasable"),
        pytest.param(replace(LOT, quarantined=True), SPEC, ["release.quarantined"], id="quarantined-1271.60"),
        pytest.param(
            replace(LOT, quarantined=True),
            None,
            ["release.quarantined", "release.no_specification"],
            id="quarantined-and-no-specification",
        ),
    ],
)
def test_release_problems_beyond_the_status(lot, spec, expected):
    found = release_problems(lot, spec, ALL_OK, (), ELIGIBLE, QA, False)
    assert [p.rule_id for p in found] == expected


@pytest.mark.parametrize(
    ("status", "conditional", "replaces_interim", "closed"),
    [
        ("awaiting_qc", False, False, False),
        ("rejected", False, False, True),
        ("released", False, False, True),
        ("released", True, False, True),
        ("released", True, True, False),  # the final reading after a conditional release
    ],
)
def test_results_close_with_the_decision(status, conditional, replaces_interim, closed):
    assert bool(results_closed(replace(LOT, status=status), conditional, replaces_interim)) is closed


def test_a_test_takes_a_second_result_only_as_a_retest_of_the_current_one():
    current = ok("VIABILITY", result_ref="7")
    assert [p.rule_id for p in entry_problems(VIABILITY, current, None)] == ["release.result_exists"]
    assert entry_problems(VIABILITY, current, current) == []
    assert entry_problems(VIABILITY, ok("STERILITY", is_conditional=True), None) == []
    old = ok("VIABILITY", result_ref="6", superseded=True)
    assert [p.rule_id for p in entry_problems(VIABILITY, current, old)] == ["release.retest_superseded"]


def test_verification_names_every_reason():
    mine = ok("VIABILITY", verified=True, entered_by=REVIEWER, superseded=True, result_ref="9")
    found = verification_problems(mine, REVIEWER, replace(LOT, status="rejected"))
    assert {p.rule_id for p in found} == {
        "release.already_verified",
        "release.verify_superseded",
        "release.self_verification",
        "release.results_closed",
    }
    assert verification_problems(ok("VIABILITY", verified=False, verified_by=None), REVIEWER, LOT) == []


def test_specification_versions_four_eyes_and_one_in_preparation():
    assert [p.rule_id for p in approval_problems((ANALYST, ANALYST), ANALYST, "")] == [
        "release.spec_four_eyes",
        "release.spec_no_change_note",
    ]
    assert approval_problems((ANALYST, REVIEWER), QA, "tighter endotoxin") == []
    assert [p.rule_id for p in draft_problems("TEST", ["effective", "draft"])] == [
        "release.spec_in_preparation"
    ]
    assert [p.rule_id for p in draft_problems("TEST", [])] == ["release.spec_none"]
    assert draft_problems("TEST", ["effective", "superseded"]) == []
    assert [p.rule_id for p in edit_problems("TEST v2", "approved", None, 1)] == ["release.spec_not_draft"]
    assert [p.rule_id for p in edit_problems("TEST v2", "draft", 1, 2)] == ["release.spec_stale"]


def test_edited_limits_are_refused_by_field_and_leave_the_rest():
    spec = seed_specifications()["PLACEBO-MEDIA"]
    edits = {name: current for _, fields in editable_fields(spec) for name, _, current in fields}
    edited, errors = edited_specification(spec, {**edits, "ENDOTOXIN__max": "0.25"})
    assert errors == {} and edited.get_test("ENDOTOXIN").max == 0.25
    _, errors = edited_specification(
        spec, {**edits, "ENDOTOXIN__max": "lots", "STERILITY__conditional": "no growth"}
    )
    assert set(errors) == {"ENDOTOXIN__max", "STERILITY__conditional"}


@pytest.mark.parametrize(
    ("value", "unit", "field"), [("101", "%", "value"), ("85", "cells/mL", "unit"), ("eighty", "%", "value")]
)
def test_a_typed_result_that_cannot_be_one_is_an_input_error(value, unit, field):
    verdict, stored, errors = judge_entry(VIABILITY, value, unit, None)
    assert verdict is None and field in errors
    verdict, stored, errors = judge_entry(VIABILITY, " 85.0 ", "%", None)
    assert (verdict.status, stored, errors) == ("pass", "85.0", {})
