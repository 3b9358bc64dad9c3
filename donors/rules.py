"""Donor eligibility determination against a versioned criteria set (21 CFR 1271.45/.50; DOMAIN.md §2).

Pure functions on frozen dataclasses: every reason and every missing item is returned, never the first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from donors.criteria import MEASUREMENT, MEDICATION, SEROLOGY, CriteriaSet, Criterion, SerologyMarker

ELIGIBLE, INELIGIBLE, INCOMPLETE = "eligible", "ineligible", "incomplete"
POSITIVE, NEGATIVE, INDETERMINATE = "positive", "negative", "indeterminate"
RESULTS = (NEGATIVE, POSITIVE, INDETERMINATE)
# Pseudo rule id for the harvest date itself: look-backs and the sample window are counted from it.
HARVEST_RULE_ID = "DON-HARVEST-DATE"
# Input sanity limits (impossible values), not eligibility thresholds: those live in the criteria set.
MAX_PLAUSIBLE_WEIGHT_KG = 400.0


@dataclass(frozen=True)
class Answer:
    """A questionnaire answer: `value` True = yes, False = no, None = not answered."""

    value: bool | None
    event_date: date | None = None  # date of the (most recent) event, when the question asks it
    detail: str = ""


@dataclass(frozen=True)
class Medication:
    """A course of treatment; `stop` None means ongoing. `kind` is one of criteria.medication_kinds."""

    kind: str
    name: str
    start: date
    stop: date | None = None


@dataclass(frozen=True)
class SerologyResult:
    """One infectious-marker result; `marker` is a catalogue id of the criteria set (e.g. "CMV_IGM")."""

    marker: str
    result: str  # "negative" | "positive" | "indeterminate"
    sample_date: date
    test_date: date
    method: str = ""
    kit_lot: str = ""


@dataclass(frozen=True)
class DonorFacts:
    """Everything known about a donor at `evaluation_date`.

    `harvest_date` None (screening before harvest) makes the determination incomplete; look-backs are
    then counted provisionally from `evaluation_date`. `answers` maps question_id -> Answer.
    """

    evaluation_date: date
    harvest_date: date | None = None
    weight_kg: float | None = None
    answers: Mapping[str, Answer] = field(default_factory=dict)
    medications: tuple[Medication, ...] = ()
    serology: tuple[SerologyResult, ...] = ()
    risk_assessment_documented: bool = False  # anti-HBc positive / HBsAg negative risk assessment


@dataclass(frozen=True)
class Reason:
    """Why a donor is ineligible: the rule, its plain-language criterion, and the evidence."""

    rule_id: str
    criterion: str
    evidence: str


@dataclass(frozen=True)
class Missing:
    """An item needed before the donor can be determined eligible, and why."""

    item: str
    rule_id: str
    why: str


@dataclass(frozen=True)
class Determination:
    """Outcome is ineligible if any reason, else incomplete if anything missing, else eligible."""

    outcome: str
    reasons: tuple[Reason, ...] = ()
    missing: tuple[Missing, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A positive marker of an autologous donor: recorded and shown, not excluding (21 CFR 1271.90)."""

    marker: str
    name: str
    rule_id: str
    evidence: str


# --- validation of impossible input (field -> message, for forms and services) ------------------


def weight_errors(weight_kg: float | None) -> dict[str, str]:
    """{"weight_kg": message} when the weight is impossible (not finite, <= 0 or > 400 kg); None is fine."""
    if weight_kg is None:
        return {}
    if not math.isfinite(weight_kg) or weight_kg <= 0:
        return {"weight_kg": "weight must be a number above 0 kg"}
    if weight_kg > MAX_PLAUSIBLE_WEIGHT_KG:
        return {"weight_kg": f"weight above {MAX_PLAUSIBLE_WEIGHT_KG:g} kg is not plausible"}
    return {}


def medication_errors(
    med: Medication, evaluation_date: date, criteria: CriteriaSet | None = None
) -> dict[str, str]:
    """Field -> message for an impossible course: blank name, unknown kind, future dates, stop < start."""
    errors: dict[str, str] = {}
    if not med.name.strip():
        errors["name"] = "medication name is required"
    if criteria is not None and med.kind not in criteria.medication_kinds:
        errors["kind"] = f"unknown medication kind {med.kind!r}"
    if med.start > evaluation_date:
        errors["start"] = f"start {med.start} is after the evaluation date {evaluation_date}"
    if med.stop is not None:
        if med.stop < med.start:
            errors["stop"] = f"stop {med.stop} is before start {med.start}"
        elif med.stop > evaluation_date:
            errors["stop"] = f"stop {med.stop} is in the future; leave it empty for an ongoing course"
    return errors


def serology_errors(result: SerologyResult, evaluation_date: date, criteria: CriteriaSet) -> dict[str, str]:
    """Field -> message for an impossible result: unknown marker or result, future dates, test < sample."""
    errors: dict[str, str] = {}
    if result.marker not in {m.marker for m in criteria.markers}:
        errors["marker"] = f"unknown marker {result.marker!r} in {criteria.label}"
    if result.result not in RESULTS:
        errors["result"] = f"result must be one of {', '.join(RESULTS)}"
    if result.sample_date > evaluation_date:
        errors["sample_date"] = f"sample date {result.sample_date} is in the future"
    if result.test_date > evaluation_date:
        errors["test_date"] = f"test date {result.test_date} is in the future"
    elif result.test_date < result.sample_date:
        errors["test_date"] = f"test date {result.test_date} is before sample date {result.sample_date}"
    return errors


def validate_serology(result: SerologyResult, evaluation_date: date, criteria: CriteriaSet) -> None:
    """Raise ValueError naming every problem of `serology_errors`; return None for a possible result."""
    errors = serology_errors(result, evaluation_date, criteria)
    if errors:
        raise ValueError("; ".join(f"{k}: {v}" for k, v in errors.items()))


def facts_errors(facts: DonorFacts, criteria: CriteriaSet) -> dict[str, str]:
    """All impossible input in `facts`, keyed "weight_kg", "answers.Q-X.event_date",
    "medications[0].stop", "serology[2].sample_date" ... Empty dict when the facts can be evaluated."""
    errors = dict(weight_errors(facts.weight_kg))
    known = {q.question_id for q in criteria.questions}
    for qid, answer in facts.answers.items():
        if qid not in known:
            errors[f"answers.{qid}"] = f"unknown question {qid} in {criteria.label}"
        elif answer.event_date is not None and answer.event_date > facts.evaluation_date:
            errors[f"answers.{qid}.event_date"] = f"date {answer.event_date} is in the future"
    for i, med in enumerate(facts.medications):
        for k, v in medication_errors(med, facts.evaluation_date, criteria).items():
            errors[f"medications[{i}].{k}"] = v
    for i, res in enumerate(facts.serology):
        for k, v in serology_errors(res, facts.evaluation_date, criteria).items():
            errors[f"serology[{i}].{k}"] = v
    return errors


# --- determination ------------------------------------------------------------------------------


def sample_window(harvest_date: date, criteria: CriteriaSet) -> tuple[date, date]:
    """First and last accepted sample dates, both included (0..+7 days by default, DOMAIN.md §2)."""
    return (
        harvest_date - timedelta(days=criteria.sample_days_before),
        harvest_date + timedelta(days=criteria.sample_days_after),
    )


def evaluate_donor(facts: DonorFacts, criteria: CriteriaSet) -> Determination:
    """Determine eligibility of an allogeneic donor under `criteria`.

    Raises ValueError when `facts_errors` finds impossible input. Reasons and missing items follow
    the order of the criteria in the set.
    """
    errors = facts_errors(facts, criteria)
    if errors:
        raise ValueError("impossible donor facts: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    reasons: list[Reason] = []
    missing: list[Missing] = []
    if facts.harvest_date is None:
        why = "look-backs and the serology sample window are counted from the harvest"
        missing.append(Missing("harvest date", HARVEST_RULE_ID, why))
    for c in criteria.criteria:
        if c.evidence == MEASUREMENT:
            _weight(c, facts, reasons, missing)
        elif c.evidence == SEROLOGY:
            _serology(c, facts, criteria, reasons, missing)
        else:
            _questionnaire(c, facts, criteria, reasons, missing)
    outcome = INELIGIBLE if reasons else INCOMPLETE if missing else ELIGIBLE
    return Determination(outcome, tuple(reasons), tuple(missing))


def _ref(facts: DonorFacts) -> tuple[date, str]:
    if facts.harvest_date is not None:
        return facts.harvest_date, f"harvest {facts.harvest_date}"
    return facts.evaluation_date, f"evaluation {facts.evaluation_date} (no harvest date yet)"


def _weight(c: Criterion, facts: DonorFacts, reasons: list[Reason], missing: list[Missing]) -> None:
    # Exactly the minimum is eligible: the seed list excludes "weight < 50 kg" (DOMAIN.md §2).
    minimum = c.param("min_weight_kg")
    if facts.weight_kg is None:
        missing.append(Missing("weight", c.rule_id, "weight at donation not recorded"))
    elif facts.weight_kg < minimum:
        reasons.append(Reason(c.rule_id, c.text, f"weight {facts.weight_kg:g} kg < {minimum:g} kg"))


def _questionnaire(
    c: Criterion, facts: DonorFacts, cs: CriteriaSet, reasons: list[Reason], missing: list[Missing]
) -> None:
    question = cs.question(c.question_id)
    answer = facts.answers.get(c.question_id)
    if answer is None or answer.value is None:
        missing.append(Missing(question.text, c.rule_id, "not answered"))
    if c.evidence == MEDICATION:
        _medication(c, facts, answer, reasons, missing)
        return
    if answer is None or not answer.value:
        return
    detail = f" ({answer.detail})" if answer.detail else ""
    if c.look_back != "days":
        dated = f", date {answer.event_date}" if answer.event_date else ""
        reasons.append(Reason(c.rule_id, c.text, f'answered yes to "{question.text}"{detail}{dated}'))
        return
    lookback = c.param("lookback_days")
    if answer.event_date is None:
        why = f"answered yes; the date is needed to apply the {lookback}-day look-back"
        missing.append(Missing(f"date for: {question.text}", c.rule_id, why))
        return
    ref, ref_text = _ref(facts)
    # Inclusive look-back: an event `lookback` days before the reference still excludes, one day more
    # does not (365 excludes, 366 does not). Events after the reference are within it too.
    days = (ref - answer.event_date).days
    if days <= lookback:
        when = f"{days} days before" if days >= 0 else f"{-days} days after"
        evidence = f"answered yes{detail}; last episode {answer.event_date}, {when} {ref_text}"
        reasons.append(Reason(c.rule_id, c.text, f"{evidence} (look-back {lookback} days)"))


def _medication(
    c: Criterion, facts: DonorFacts, answer: Answer | None, reasons: list[Reason], missing: list[Missing]
) -> None:
    kind = c.param("medication_kind")
    courses = [m for m in facts.medications if m.kind == kind]
    ref, ref_text = _ref(facts)
    if c.look_back == "days":
        if answer is not None and answer.value and not courses:
            why = "answered yes; each course's dates are needed to count the days"
            missing.append(Missing(f"{kind} courses with start and stop dates", c.rule_id, why))
        lookback, max_days = c.param("lookback_days"), c.param("max_days")
        total, parts = _course_days(courses, ref - timedelta(days=lookback), ref, facts.evaluation_date)
        if total > max_days:
            summary = "; ".join(parts) + f" within the {lookback} days before {ref_text}"
            if len(parts) > 1:
                summary += f", {total} distinct days in all"
            reasons.append(Reason(c.rule_id, c.text, f"{summary} (more than {max_days} days)"))
        return
    if c.look_back != "current":
        raise ValueError(f"{c.rule_id}: unsupported medication look-back {c.look_back!r}")
    detail = f" ({answer.detail})" if answer and answer.detail else ""
    found = [f"answered yes{detail}"] if answer and answer.value else []
    found += [
        f"{m.name} since {m.start}, {'ongoing' if m.stop is None else f'to {m.stop}'} at {ref_text}"
        for m in courses
        if m.start <= ref and (m.stop is None or m.stop >= ref)
    ]
    if found:
        reasons.append(Reason(c.rule_id, c.text, "; ".join(found)))


def _course_days(
    courses: Iterable[Medication], first: date, last: date, evaluation_date: date
) -> tuple[int, list[str]]:
    """Distinct calendar days of therapy inside [first, last], both included, and one text per course.

    Start and stop days both count (a course from the 1st to the 7th is 7 days). An ongoing course
    counts until the evaluation date. Concurrent courses count each calendar day once.
    """
    days: set[date] = set()
    parts: list[str] = []
    for m in sorted(courses, key=lambda m: m.start):
        stop = m.stop if m.stop is not None else evaluation_date
        lo, hi = max(m.start, first), min(stop, last)
        n = (hi - lo).days + 1
        if n <= 0:
            continue  # course entirely outside the look-back window
        days.update(lo + timedelta(days=i) for i in range(n))
        parts.append(f"{m.name} {m.start} to {m.stop or 'ongoing'}: {n} days")
    return len(days), parts


def _describe(r: SerologyResult) -> str:
    extra = "".join(f", {x}" for x in (r.method, f"kit lot {r.kit_lot}" if r.kit_lot else "") if x)
    return f"sample {r.sample_date}, tested {r.test_date}{extra}"


def _status(marker: str, facts: DonorFacts, cs: CriteriaSet) -> tuple[str | None, SerologyResult | None]:
    """Status of `marker` from in-window results: any positive wins; otherwise the latest test decides
    (an indeterminate result repeated negative is negative). (None, None) without an in-window result."""
    if facts.harvest_date is None:
        return None, None
    first, last = sample_window(facts.harvest_date, cs)
    valid = [r for r in facts.serology if r.marker == marker and first <= r.sample_date <= last]
    if not valid:
        return None, None
    positives = [r for r in valid if r.result == POSITIVE]
    decisive = positives[0] if positives else max(valid, key=lambda r: (r.test_date, r.sample_date))
    return decisive.result, decisive


def _absent_why(m: SerologyMarker, facts: DonorFacts, cs: CriteriaSet) -> str:
    if facts.harvest_date is None:
        return "no harvest date, so the sample window cannot be placed"
    outside = [r for r in facts.serology if r.marker == m.marker]
    if not outside:
        return "no result"
    first, last = sample_window(facts.harvest_date, cs)
    drawn = ", ".join(f"{r.result} drawn {r.sample_date}" for r in outside)
    return f"sample outside window ({drawn}; accepted {first} to {last}), does not count"


def _serology(
    c: Criterion, facts: DonorFacts, cs: CriteriaSet, reasons: list[Reason], missing: list[Missing]
) -> None:
    for marker_id in c.param("markers"):
        m = cs.marker(marker_id)
        status, result = _status(marker_id, facts, cs)
        if status is None:
            if marker_id in cs.required_markers:
                missing.append(Missing(m.name, c.rule_id, _absent_why(m, facts, cs)))
        elif m.confirmed_by and status in (POSITIVE, INDETERMINATE):
            # Reactive screen: cleared by a negative confirmation; a positive confirmation is
            # reported under the confirming marker itself, so only an open confirmation is added here.
            confirm = cs.marker(m.confirmed_by)
            if _status(confirm.marker, facts, cs)[0] in (None, INDETERMINATE):
                why = f"{m.name} {status} ({_describe(result)}); confirmation needed"
                missing.append(Missing(confirm.name, c.rule_id, why))
        elif status == INDETERMINATE and m.excludes_if_positive:
            missing.append(Missing(m.name, c.rule_id, f"indeterminate, repeat test ({_describe(result)})"))
        elif status == POSITIVE and m.excludes_if_positive:
            evidence = f"{m.name} positive ({_describe(result)})"
            if m.cleared_if_negative:
                other = cs.marker(m.cleared_if_negative)
                other_status = _status(other.marker, facts, cs)[0]
                if other_status == NEGATIVE and facts.risk_assessment_documented:
                    continue  # e.g. anti-HBc+ / HBsAg- with a documented risk assessment
                if other_status == NEGATIVE:
                    evidence += f" with {other.name} negative and no documented risk assessment"
                elif other_status == POSITIVE:
                    evidence += f" with {other.name} positive"
                else:
                    evidence += f"; no negative {other.name} in the window, no risk assessment can clear it"
            reasons.append(Reason(c.rule_id, c.text, evidence))


def autologous_serology_summary(
    serology: Iterable[SerologyResult], criteria: CriteriaSet
) -> tuple[Finding, ...]:
    """Positive results of excluding markers for an autologous donor, in catalogue order, whatever the
    sample date: shown and labelled, never excluding (21 CFR 1271.90). IgG-type markers are left out."""
    results = tuple(serology)
    findings: list[Finding] = []
    for m in criteria.markers:
        if not (m.excludes_if_positive or m.confirmed_by):
            continue
        findings += [
            Finding(m.marker, m.name, m.rule_id, f"{m.name} positive ({_describe(r)})")
            for r in results
            if r.marker == m.marker and r.result == POSITIVE
        ]
    return tuple(findings)


def requires_lookback(previous_outcome: str, new: Determination) -> bool:
    """True when a donor signed eligible is now ineligible: every lot and dose from the donor must be
    flagged and held (DOMAIN.md §2 look-back). Incomplete after eligible does not trigger it."""
    return previous_outcome == ELIGIBLE and new.outcome == INELIGIBLE
