"""Donor eligibility rules against the seed set "SSc adipose donor v1" (DOMAIN.md §2), table-driven."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from donors.rules import (
    ELIGIBLE,
    HARVEST_RULE_ID,
    INCOMPLETE,
    INELIGIBLE,
    Answer,
    Determination,
    DonorFacts,
    Medication,
    SerologyResult,
    autologous_serology_summary,
    criteria_set_from_dict,
    criteria_set_to_dict,
    decision_problems,
    evaluate_donor,
    facts_errors,
    medication_errors,
    missing_from_stored,
    reason,
    reasons_from_stored,
    requires_lookback,
    serology_errors,
    stored_missing,
    stored_reasons,
    validate_serology,
    weight_errors,
)

pytestmark = pytest.mark.requirement("DON-EXCLUSIONS", "DON-SEROLOGY", "DON-DETERMINATION")

HARVEST = date(2026, 10, 1)
EVALUATION = date(2026, 10, 10)
D = timedelta(days=1)


def ser(marker: str, result: str = "negative", day: int = 0) -> SerologyResult:
    """A result whose sample is drawn `day` days after harvest and tested the next day."""
    sample = HARVEST + day * D
    return SerologyResult(marker, result, sample, sample + D, "CLIA", "LOT-1")


def eligible_facts() -> DonorFacts:
    return DonorFacts(
        evaluation_date=EVALUATION,
        harvest_date=HARVEST,
        weight_kg=70.0,
        answers={q.question_id: Answer(False) for q in CS.questions},
        serology=tuple(ser(m) for m in CS.required_markers),
    )


def with_serology(facts: DonorFacts, *results: SerologyResult, drop: tuple[str, ...] = ()) -> DonorFacts:
    """Replace the results of the markers in `results` (and `drop`), keep the others."""
    replaced = {r.marker for r in results} | set(drop)
    return replace(facts, serology=tuple(r for r in facts.serology if r.marker not in replaced) + results)


def with_answers(facts: DonorFacts, **answers: Answer) -> DonorFacts:
    return replace(facts, answers={**facts.answers, **answers})


def steroid(start: date, stop: date | None, name: str = "prednisolone") -> Medication:
    return Medication("corticosteroid", name, start, stop)


def rule_ids(det: Determination) -> list[str]:
    return [r.rule_id for r in det.reasons]


def missing_ids(det: Determination) -> list[str]:
    return [m.rule_id for m in det.missing]


def test_baseline_donor_is_eligible():
    det = evaluate_donor(eligible_facts(), CS)
    assert det == Determination(ELIGIBLE, (), ())


def test_seed_set_holds_every_exclusion_of_the_seed_list():
    expected = {
        "DON-WEIGHT", "DON-SER-HIV", "DON-SER-HBSAG", "DON-SER-ANTI-HBC", "DON-SER-HCV", "DON-SER-SYPHILIS",
        "DON-SER-HTLV", "DON-SER-HEV", "DON-SER-TOXO", "DON-SER-EBV", "DON-SER-CMV", "DON-CLIN-INFECTION",
        "DON-HX-HYPERTENSION", "DON-HX-DURA", "DON-HX-CNS-SURGERY", "DON-HX-DEMENTIA", "DON-HX-CJD-FAMILY",
        "DON-HX-HAEM-MALIGNANCY", "DON-HX-CANCER", "DON-HX-CHEMO-RT", "DON-HX-AUTOIMMUNE",
        "DON-EXAM-ADENOPATHY", "DON-EXAM-SPLENOMEGALY", "DON-EXAM-HEPATOMEGALY", "DON-EXAM-ICTERUS",
        "DON-HX-HAEMOPHILIA", "DON-HX-IDDM", "DON-HX-PITUITARY", "DON-MED-STEROID", "DON-MED-LITHIUM",
        "DON-STATUS-PREGNANCY", "DON-STATUS-DEPRIVED",
    }  # fmt: skip
    assert {c.rule_id for c in CS.criteria} == expected
    assert CS.criterion("DON-WEIGHT").param("min_weight_kg") == 50
    assert dict(CS.criterion("DON-MED-STEROID").params) == {
        "medication_kind": "corticosteroid", "lookback_days": 90, "max_days": 5}  # fmt: skip
    assert CS.criterion("DON-HX-HYPERTENSION").param("lookback_days") == 365
    assert (CS.sample_days_before, CS.sample_days_after) == (0, 7)
    assert "TOXO_IGG" not in CS.required_markers and "TOXO_IGM" in CS.required_markers


# --- weight (DOMAIN.md §2: weight < 50 kg excludes, 2004/33/EC) ----------------------------------


@pytest.mark.parametrize(
    ("weight", "outcome", "reasons", "missing"),
    [
        pytest.param(50.0, ELIGIBLE, [], [], id="weight-50.0kg-eligible-§2"),
        pytest.param(49.9, INELIGIBLE, ["DON-WEIGHT"], [], id="weight-49.9kg-excluded-§2"),
        pytest.param(None, INCOMPLETE, [], ["DON-WEIGHT"], id="weight-not-measured-missing-§2"),
    ],
)
def test_weight(weight, outcome, reasons, missing):
    det = evaluate_donor(replace(eligible_facts(), weight_kg=weight), CS)
    assert (det.outcome, rule_ids(det), missing_ids(det)) == (outcome, reasons, missing)


def test_weight_evidence_is_plain_language():
    det = evaluate_donor(replace(eligible_facts(), weight_kg=49.5), CS)
    assert det.reasons == (reason("DON-WEIGHT", CS.criterion("DON-WEIGHT").text, "weight 49.5 kg < 50 kg"),)


# --- serology (DOMAIN.md §2, 2006/17/EC Annex II, 21 CFR 1271.85/.80(b)) -------------------------

# fmt: off
SEROLOGY_CASES = [
    pytest.param([ser("HIV", "positive")], INELIGIBLE, ["DON-SER-HIV"], [], id="HIV-positive-§2"),
    pytest.param([ser("HBSAG", "positive")], INELIGIBLE, ["DON-SER-HBSAG"], [], id="HBsAg-positive-§2"),
    pytest.param([ser("HCV", "positive")], INELIGIBLE, ["DON-SER-HCV"], [], id="HCV-positive-§2"),
    pytest.param([ser("HTLV", "positive")], INELIGIBLE, ["DON-SER-HTLV"], [], id="HTLV-positive-§2"),
    pytest.param([ser("HEV", "positive")], INELIGIBLE, ["DON-SER-HEV"], [], id="HEV-positive-§2"),
    pytest.param([ser("TOXO_IGM", "positive")], INELIGIBLE, ["DON-SER-TOXO"], [], id="toxo-IgM-positive-§2"),
    pytest.param([ser("EBV_IGM", "positive")], INELIGIBLE, ["DON-SER-EBV"], [], id="EBV-IgM-positive-§2"),
    pytest.param([ser("CMV_IGM", "positive")], INELIGIBLE, ["DON-SER-CMV"], [], id="CMV-IgM-positive-§2"),
    pytest.param([ser("TOXO_IGG", "positive"), ser("EBV_IGG", "positive"), ser("CMV_IGG", "positive")],
                 ELIGIBLE, [], [], id="IgG-positive-recorded-not-excluding-§2"),
    pytest.param([ser("ANTI_HBC", "positive")], INELIGIBLE, ["DON-SER-ANTI-HBC"], [],
                 id="anti-HBc-positive-HBsAg-negative-no-risk-assessment-§2"),
    pytest.param([ser("ANTI_HBC", "positive"), ser("HBSAG", "positive")], INELIGIBLE,
                 ["DON-SER-HBSAG", "DON-SER-ANTI-HBC"], [], id="HBsAg-and-anti-HBc-positive-both-reported-§2"),
    pytest.param([ser("SYPH_NONTREP", "positive")], ELIGIBLE, [], [],
                 id="syphilis-nontreponemal-reactive-treponemal-negative-not-excluding-§2"),
    pytest.param([ser("SYPH_NONTREP", "positive"), ser("SYPH_TREP", "positive")], INELIGIBLE,
                 ["DON-SER-SYPHILIS"], [], id="syphilis-treponemal-reactive-excludes-§2"),
    pytest.param([ser("SYPH_TREP", "positive")], INELIGIBLE, ["DON-SER-SYPHILIS"], [],
                 id="syphilis-treponemal-reactive-alone-excludes-§2"),
    pytest.param([ser("SYPH_NONTREP", "positive"), ser("SYPH_TREP", "indeterminate")], INCOMPLETE, [],
                 ["DON-SER-SYPHILIS", "DON-SER-SYPHILIS"], id="syphilis-reactive-screen-confirmation-open-§2"),
    pytest.param([ser("HIV", "indeterminate")], INCOMPLETE, [], ["DON-SER-HIV"], id="HIV-indeterminate-§2"),
    pytest.param([ser("HCV", "indeterminate", 1), replace(ser("HCV", "negative", 1), test_date=HARVEST + 5 * D)],
                 ELIGIBLE, [], [], id="HCV-indeterminate-repeated-negative-§2"),
    pytest.param([ser("HIV", "negative", 0)], ELIGIBLE, [], [], id="sample-day-0-counts-§2"),
    pytest.param([ser("HIV", "negative", 7)], ELIGIBLE, [], [], id="sample-day+7-counts-§2"),
    pytest.param([ser("HIV", "negative", -1)], INCOMPLETE, [], ["DON-SER-HIV"], id="sample-day-1-outside-§2"),
    pytest.param([ser("HIV", "negative", 8)], INCOMPLETE, [], ["DON-SER-HIV"], id="sample-day+8-outside-§2"),
    pytest.param([ser("HIV", "positive", 8)], INCOMPLETE, [], ["DON-SER-HIV"],
                 id="positive-outside-window-does-not-count-§2"),
]
# fmt: on


@pytest.mark.parametrize(("results", "outcome", "reasons", "missing"), SEROLOGY_CASES)
def test_serology(results, outcome, reasons, missing):
    det = evaluate_donor(with_serology(eligible_facts(), *results), CS)
    assert (det.outcome, rule_ids(det), missing_ids(det)) == (outcome, reasons, missing)


def test_anti_hbc_cleared_by_documented_risk_assessment_when_hbsag_negative():
    facts = replace(
        with_serology(eligible_facts(), ser("ANTI_HBC", "positive")), risk_assessment_documented=True
    )
    assert evaluate_donor(facts, CS).outcome == ELIGIBLE
    facts = with_serology(facts, ser("HBSAG", "positive"))
    assert rule_ids(evaluate_donor(facts, CS)) == ["DON-SER-HBSAG", "DON-SER-ANTI-HBC"]


def test_anti_hbc_evidence_names_missing_risk_assessment():
    det = evaluate_donor(with_serology(eligible_facts(), ser("ANTI_HBC", "positive")), CS)
    assert det.reasons[0].evidence == (
        "anti-HBc positive (sample 2026-10-01, tested 2026-10-02, CLIA, kit lot LOT-1) "
        "with HBsAg negative and no documented risk assessment"
    )


# fmt: off
MISSING_WHY_CASES = [
    pytest.param([ser("HIV", "negative", -1)], "HIV-1/2", "sample outside window", id="day-1-why-§2"),
    pytest.param([ser("HIV", "negative", 8)], "HIV-1/2", "accepted 2026-10-01 to 2026-10-08", id="day+8-why-§2"),
    pytest.param([ser("HIV", "indeterminate")], "HIV-1/2", "indeterminate, repeat test", id="indeterminate-§2"),
    pytest.param([ser("SYPH_NONTREP", "positive"), ser("SYPH_TREP", "indeterminate")],
                 "syphilis treponemal test", "confirmation needed", id="syphilis-confirmation-§2"),
]
# fmt: on


@pytest.mark.parametrize(("results", "item", "why"), MISSING_WHY_CASES)
def test_serology_missing_says_why(results, item, why):
    det = evaluate_donor(with_serology(eligible_facts(), *results), CS)
    assert any(m.message == item and why in m.evidence for m in det.missing), det.missing


def test_absent_required_marker_missing_but_optional_igg_not():
    det = evaluate_donor(with_serology(eligible_facts(), drop=("HEV", "TOXO_IGG")), CS)
    assert [(m.message, m.rule_id, m.evidence) for m in det.missing] == [("HEV", "DON-SER-HEV", "no result")]


def test_no_harvest_date_is_incomplete_and_no_sample_counts():
    det = evaluate_donor(replace(eligible_facts(), harvest_date=None), CS)
    assert det.outcome == INCOMPLETE
    assert missing_ids(det)[0] == HARVEST_RULE_ID
    assert len(det.missing) == 1 + len(CS.required_markers)


def test_sample_window_is_data_not_code():
    d = criteria_set_to_dict(CS)
    d["sample_window"]["days_after"] = 10
    facts = with_serology(eligible_facts(), ser("HIV", "negative", 8))
    assert evaluate_donor(facts, criteria_set_from_dict(d)).outcome == ELIGIBLE
    assert evaluate_donor(facts, CS).outcome == INCOMPLETE


# --- questionnaire: clinical, history, exam, status (DOMAIN.md §2) -------------------------------

YES_EXCLUDES = [
    ("Q-INFECTION", "DON-CLIN-INFECTION"), ("Q-DURA", "DON-HX-DURA"), ("Q-CNS-SURGERY", "DON-HX-CNS-SURGERY"),
    ("Q-DEMENTIA", "DON-HX-DEMENTIA"), ("Q-CJD-FAMILY", "DON-HX-CJD-FAMILY"),
    ("Q-HAEM-MALIGNANCY", "DON-HX-HAEM-MALIGNANCY"), ("Q-CANCER", "DON-HX-CANCER"),
    ("Q-CHEMO-RT", "DON-HX-CHEMO-RT"), ("Q-AUTOIMMUNE", "DON-HX-AUTOIMMUNE"),
    ("Q-EXAM-ADENOPATHY", "DON-EXAM-ADENOPATHY"), ("Q-EXAM-SPLENOMEGALY", "DON-EXAM-SPLENOMEGALY"),
    ("Q-EXAM-HEPATOMEGALY", "DON-EXAM-HEPATOMEGALY"), ("Q-EXAM-ICTERUS", "DON-EXAM-ICTERUS"),
    ("Q-HAEMOPHILIA", "DON-HX-HAEMOPHILIA"), ("Q-IDDM", "DON-HX-IDDM"), ("Q-PITUITARY", "DON-HX-PITUITARY"),
    ("Q-LITHIUM", "DON-MED-LITHIUM"), ("Q-PREGNANCY", "DON-STATUS-PREGNANCY"),
    ("Q-DEPRIVED", "DON-STATUS-DEPRIVED"),
]  # fmt: skip


YES_CASES = [pytest.param(q, r, id=f"{r}-yes-excludes-§2") for q, r in YES_EXCLUDES]
UNANSWERED_CASES = [pytest.param(q.question_id, id=f"{q.question_id}-unanswered-§2") for q in CS.questions]


@pytest.mark.parametrize(("qid", "rule_id"), YES_CASES)
def test_yes_answer_excludes(qid, rule_id):
    det = evaluate_donor(with_answers(eligible_facts(), **{qid: Answer(True, detail="declared")}), CS)
    assert (det.outcome, rule_ids(det)) == (INELIGIBLE, [rule_id])
    assert "declared" in det.reasons[0].evidence


@pytest.mark.parametrize("qid", UNANSWERED_CASES)
def test_unanswered_question_is_missing(qid):
    answers = {k: v for k, v in eligible_facts().answers.items() if k != qid}
    det = evaluate_donor(replace(eligible_facts(), answers=answers), CS)
    assert det.outcome == INCOMPLETE
    assert [(m.message, m.rule_id, m.evidence) for m in det.missing] == [
        (CS.question(qid).text, CS.criterion_for_question(qid).rule_id, "not answered")
    ]


def test_empty_questionnaire_lists_every_question():
    det = evaluate_donor(replace(eligible_facts(), answers={}), CS)
    assert sorted(missing_ids(det)) == sorted(c.rule_id for c in CS.criteria if c.question_id)


# fmt: off
HYPERTENSION_CASES = [
    pytest.param(Answer(True, HARVEST - 365 * D), INELIGIBLE, ["DON-HX-HYPERTENSION"], [],
                 id="hypertension-365-days-before-excludes-§2"),
    pytest.param(Answer(True, HARVEST - 366 * D), ELIGIBLE, [], [], id="hypertension-366-days-before-eligible-§2"),
    pytest.param(Answer(True, HARVEST + 2 * D), INELIGIBLE, ["DON-HX-HYPERTENSION"], [],
                 id="hypertension-after-harvest-excludes-§2"),
    pytest.param(Answer(True), INCOMPLETE, [], ["DON-HX-HYPERTENSION"], id="hypertension-yes-no-date-§2"),
    pytest.param(Answer(False), ELIGIBLE, [], [], id="hypertension-no-§2"),
]
# fmt: on


@pytest.mark.parametrize(("answer", "outcome", "reasons", "missing"), HYPERTENSION_CASES)
def test_hypertension_12_month_lookback(answer, outcome, reasons, missing):
    det = evaluate_donor(with_answers(eligible_facts(), **{"Q-HYPERTENSION": answer}), CS)
    assert (det.outcome, rule_ids(det), missing_ids(det)) == (outcome, reasons, missing)


# --- medications: steroid > 5 days in the 90 days before harvest, lithium (DOMAIN.md §2) ---------
# Window 2026-07-03 .. 2026-10-01 (harvest − 90 days .. harvest), start and stop days both counted.

FIRST = HARVEST - 90 * D
FIVE = steroid(date(2026, 8, 1), date(2026, 8, 5))

# fmt: off
STEROID_CASES = [
    pytest.param([FIVE], ELIGIBLE, id="steroid-exactly-5-days-eligible-§2"),
    pytest.param([steroid(date(2026, 8, 1), date(2026, 8, 6))], INELIGIBLE, id="steroid-6-days-excluded-§2"),
    pytest.param([FIVE, steroid(date(2026, 6, 1), FIRST)], INELIGIBLE,
                 id="steroid-course-ending-first-day-of-window-counts-§2"),
    pytest.param([FIVE, steroid(date(2026, 6, 1), FIRST - D)], ELIGIBLE,
                 id="steroid-course-ending-day-before-window-ignored-§2"),
    pytest.param([steroid(date(2026, 6, 1), FIRST + 5 * D)], INELIGIBLE, id="steroid-6-days-overlap-window-§2"),
    pytest.param([steroid(HARVEST - 3 * D, None)], ELIGIBLE, id="steroid-ongoing-4-days-to-harvest-§2"),
    pytest.param([steroid(HARVEST - 5 * D, None)], INELIGIBLE, id="steroid-ongoing-6-days-to-harvest-§2"),
    pytest.param([FIVE, replace(FIVE, name="hydrocortisone")], ELIGIBLE,
                 id="steroid-concurrent-courses-count-days-once-§2"),
    pytest.param([steroid(date(2026, 8, 1), date(2026, 8, 3)), steroid(date(2026, 9, 1), date(2026, 9, 3))],
                 INELIGIBLE, id="steroid-two-3-day-courses-add-up-§2"),
    pytest.param([steroid(HARVEST + D, HARVEST + 8 * D)], ELIGIBLE, id="steroid-after-harvest-ignored-§2"),
]
# fmt: on


@pytest.mark.parametrize(("courses", "outcome"), STEROID_CASES)
def test_steroid_lookback(courses, outcome):
    facts = replace(with_answers(eligible_facts(), **{"Q-STEROID": Answer(True)}), medications=tuple(courses))
    det = evaluate_donor(facts, CS)
    assert (det.outcome, rule_ids(det)) == (outcome, ["DON-MED-STEROID"] if outcome == INELIGIBLE else [])


def test_steroid_evidence_is_plain_language():
    facts = replace(eligible_facts(), medications=(steroid(date(2026, 8, 1), date(2026, 8, 7)),))
    (reason,) = evaluate_donor(facts, CS).reasons  # answered "no" but the recorded course decides
    assert reason.evidence == (
        "prednisolone 2026-08-01 to 2026-08-07: 7 days within the 90 days before harvest 2026-10-01 "
        "(more than 5 days)"
    )


def test_steroid_yes_without_courses_is_missing():
    det = evaluate_donor(with_answers(eligible_facts(), **{"Q-STEROID": Answer(True)}), CS)
    assert (det.outcome, missing_ids(det)) == (INCOMPLETE, ["DON-MED-STEROID"])


def test_steroid_thresholds_are_data_not_code():
    d = criteria_set_to_dict(CS)
    next(c for c in d["criteria"] if c["rule_id"] == "DON-MED-STEROID")["params"]["max_days"] = 4
    facts = replace(eligible_facts(), medications=(FIVE,))
    assert evaluate_donor(facts, criteria_set_from_dict(d)).outcome == INELIGIBLE


@pytest.mark.parametrize(
    ("stop", "outcome"),
    [
        pytest.param(None, INELIGIBLE, id="lithium-ongoing-excludes-§2"),
        pytest.param(HARVEST, INELIGIBLE, id="lithium-until-harvest-day-excludes-§2"),
        pytest.param(HARVEST - D, ELIGIBLE, id="lithium-stopped-before-harvest-eligible-§2"),
    ],
)
def test_lithium_current(stop, outcome):
    facts = replace(
        eligible_facts(), medications=(Medication("lithium", "lithium carbonate", date(2025, 1, 1), stop),)
    )
    assert evaluate_donor(facts, CS).outcome == outcome


# --- all reasons at once ------------------------------------------------------------------------


def test_several_exclusions_are_all_reported_with_missing_items():
    facts = with_serology(eligible_facts(), ser("HIV", "positive"), ser("CMV_IGM", "positive"), drop=("HEV",))
    facts = with_answers(facts, **{"Q-PREGNANCY": Answer(True), "Q-CANCER": Answer(None)})
    facts = replace(facts, weight_kg=45.0, medications=(steroid(date(2026, 9, 1), date(2026, 9, 10)),))
    det = evaluate_donor(facts, CS)
    assert det.outcome == INELIGIBLE  # a reason beats a missing item
    expected = ["DON-WEIGHT", "DON-SER-HIV", "DON-SER-CMV", "DON-MED-STEROID", "DON-STATUS-PREGNANCY"]
    assert rule_ids(det) == expected
    assert missing_ids(det) == ["DON-SER-HEV", "DON-HX-CANCER"]


# --- serialisation of the criteria set ----------------------------------------------------------


def test_criteria_set_round_trips_through_json():
    d = criteria_set_to_dict(CS)
    assert criteria_set_from_dict(json.loads(json.dumps(d))) == CS
    assert CS.label == "SSc adipose donor v1"


# fmt: off
INCONSISTENT_SET_CASES = [
    pytest.param(lambda d: d.update(format=99), "format", id="unknown-format"),
    pytest.param(lambda d: d["criteria"].append(dict(d["criteria"][0])), "duplicate rule id", id="duplicate-rule"),
    pytest.param(lambda d: d["required_markers"].append("ZIKA"), "ZIKA", id="unknown-required-marker"),
    pytest.param(lambda d: d["criteria"][-1].update(question_id="Q-NOPE"), "Q-NOPE", id="unknown-question"),
    pytest.param(lambda d: d["criteria"][-1].update(evidence="vibes"), "vibes", id="unknown-evidence-kind"),
    pytest.param(lambda d: d["criteria"][0]["params"].clear(), "min_weight_kg", id="missing-parameter"),
    pytest.param(lambda d: d.pop("markers"), "malformed", id="malformed"),
]
# fmt: on


@pytest.mark.parametrize(("mutate", "message"), INCONSISTENT_SET_CASES)
def test_inconsistent_criteria_set_is_refused(mutate, message):
    d = criteria_set_to_dict(CS)
    mutate(d)
    with pytest.raises(ValueError, match=message):
        criteria_set_from_dict(d)


# --- validation of impossible input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "has_error"),
    [
        (None, False),
        (50.0, False),
        (400.0, False),
        (0.0, True),
        (-1.0, True),
        (400.1, True),
        (math.nan, True),
    ],
    ids=["none", "50", "400", "zero", "negative", "above-400", "nan"],
)
def test_weight_errors(weight, has_error):
    assert ("weight_kg" in weight_errors(weight)) is has_error


# fmt: off
MEDICATION_ERROR_CASES = [
    pytest.param(steroid(date(2026, 8, 5), date(2026, 8, 1)), "stop", id="stop-before-start"),
    pytest.param(steroid(EVALUATION + D, None), "start", id="future-start"),
    pytest.param(steroid(date(2026, 8, 1), EVALUATION + D), "stop", id="future-stop"),
    pytest.param(Medication("antacid", "x", date(2026, 8, 1)), "kind", id="unknown-kind"),
    pytest.param(Medication("corticosteroid", " ", date(2026, 8, 1)), "name", id="blank-name"),
]
# fmt: on


@pytest.mark.parametrize(("med", "field"), MEDICATION_ERROR_CASES)
def test_medication_errors(med, field):
    assert list(medication_errors(med, EVALUATION, CS)) == [field]


def test_possible_medication_has_no_errors():
    assert medication_errors(steroid(date(2026, 8, 1), EVALUATION), EVALUATION, CS) == {}


# fmt: off
SEROLOGY_ERROR_CASES = [
    pytest.param(ser("ZIKA"), "marker", id="unknown-marker"),
    pytest.param(ser("HIV", "reactive"), "result", id="unknown-result"),
    pytest.param(replace(ser("HIV"), sample_date=EVALUATION + D, test_date=EVALUATION + D), "sample_date",
                 id="future-sample"),
    pytest.param(replace(ser("HIV"), test_date=HARVEST - D), "test_date", id="test-before-sample"),
]
# fmt: on


@pytest.mark.parametrize(("result", "field"), SEROLOGY_ERROR_CASES)
def test_serology_errors_and_validate_serology(result, field):
    assert field in serology_errors(result, EVALUATION, CS)
    with pytest.raises(ValueError, match=field):
        validate_serology(result, EVALUATION, CS)


def test_validate_serology_accepts_possible_result():
    assert validate_serology(ser("HIV", "negative", 7), EVALUATION, CS) is None


def test_evaluate_refuses_impossible_facts():
    facts = replace(
        with_serology(
            eligible_facts(), replace(ser("HIV"), sample_date=EVALUATION + D, test_date=EVALUATION + D)
        ),
        weight_kg=0.0,
        answers={"Q-UNKNOWN": Answer(True), "Q-HYPERTENSION": Answer(True, EVALUATION + D)},
    )
    errors = facts_errors(facts, CS)
    assert {"weight_kg", "answers.Q-UNKNOWN", "answers.Q-HYPERTENSION.event_date"} <= set(errors)
    assert any(k.startswith("serology[") and k.endswith("].sample_date") for k in errors)
    with pytest.raises(ValueError, match="impossible donor facts"):
        evaluate_donor(facts, CS)


# --- autologous donors and look-back ------------------------------------------------------------


def test_autologous_summary_lists_positive_markers_without_igg():
    results = (ser("HIV", "positive", 20), ser("CMV_IGG", "positive"), ser("HCV", "negative"))
    (finding,) = autologous_serology_summary(results, CS)  # 21 CFR 1271.90: recorded, not excluding
    assert (finding.marker, finding.rule_id) == ("HIV", "DON-SER-HIV")
    assert "HIV-1/2 positive" in finding.evidence


@pytest.mark.parametrize(
    ("previous", "new", "expected"),
    [
        pytest.param(ELIGIBLE, INELIGIBLE, True, id="eligible-then-ineligible-look-back-§2"),
        pytest.param(ELIGIBLE, INCOMPLETE, False, id="eligible-then-incomplete-no-look-back"),
        pytest.param(INCOMPLETE, INELIGIBLE, False, id="never-eligible-no-look-back"),
        pytest.param(INELIGIBLE, INELIGIBLE, False, id="already-ineligible-no-look-back"),
    ],
)
def test_requires_lookback(previous, new, expected):
    assert requires_lookback(previous, Determination(new)) is expected


def test_a_determinations_stored_reasons_read_back_as_problems_old_rows_included():
    det = evaluate_donor(replace(eligible_facts(), weight_kg=49.5, harvest_date=None), CS)
    # The layout of the first records (and of the signed content): kept, so old and new rows read alike.
    old_row = [
        {
            "rule_id": "DON-WEIGHT",
            "criterion": CS.criterion("DON-WEIGHT").text,
            "evidence": "weight 49.5 kg < 50 kg",
        }
    ]
    assert stored_reasons(det.reasons) == old_row
    assert reasons_from_stored(json.loads(json.dumps(old_row))) == list(det.reasons)
    assert missing_from_stored(stored_missing(det.missing)) == list(det.missing)
    assert stored_missing(det.missing)[0] == {
        "item": "harvest date",
        "rule_id": HARVEST_RULE_ID,
        "why": det.missing[0].evidence,
    }


@pytest.mark.parametrize(
    ("kw", "rule_ids"),
    [
        (dict(outcome=ELIGIBLE, decision=ELIGIBLE), []),
        (dict(outcome=INCOMPLETE, decision=ELIGIBLE), ["DON-DET-NOT-ELIGIBLE"]),
        (dict(outcome=INELIGIBLE, decision=INCOMPLETE), ["DON-DET-NOT-INCOMPLETE"]),
        (dict(outcome=ELIGIBLE, decision=INELIGIBLE), ["DON-DET-INELIGIBLE-REASON"]),
        (dict(outcome=ELIGIBLE, decision=INELIGIBLE, comment="sponsor's request"), []),
        (dict(outcome=ELIGIBLE, decision=ELIGIBLE, under_lookback=True), ["DON-DET-LOOKBACK"]),
        (dict(outcome=ELIGIBLE, decision="pending"), ["DON-DET-DECISION"]),
        (dict(outcome=INELIGIBLE, decision=INELIGIBLE, is_autologous=True), ["DON-DET-AUTOLOGOUS"]),
    ],
)
def test_decision_problems_name_every_reason_a_determination_cannot_be_signed(kw, rule_ids):
    args = dict(is_autologous=False, under_lookback=False, comment="") | kw
    assert [p.rule_id for p in decision_problems(**args)] == rule_ids
