"""Donor eligibility determination against a versioned criteria set (21 CFR 1271.45/.50; DOMAIN.md §2).

Pure functions on frozen dataclasses: every reason and every missing item is returned, never the first,
each as a `bank.refusals.Problem` (rule id, plain-language text, evidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from bank.i18n import N_, Text, t
from bank.refusals import Problem
from donors.rules.criteria import MEASUREMENT, MEDICATION, SEROLOGY, CriteriaSet, Criterion, SerologyMarker
from donors.rules.entries import INDETERMINATE, NEGATIVE, POSITIVE, facts_errors
from donors.rules.facts import Answer, DonorFacts, Medication, SerologyResult
from donors.states import ELIGIBLE, INCOMPLETE, INELIGIBLE

# Pseudo rule id for the harvest date itself: look-backs and the sample window are counted from it.
HARVEST_RULE_ID = "DON-HARVEST-DATE"

# What the rules find, as the words appear inside messages ("the rules find the donor ineligible"):
# the stored outcome is the English key; the catalogue shows it in the reader's language.
OUTCOME_WORDS = (N_("pending"), N_("eligible"), N_("ineligible"), N_("incomplete"))

# Messages are `t(...)`: stored and signed in English (a Text is the English str), shown in the reader's
# language. Texts of the criteria set (criterion, question, marker, medication kind) are versioned data in
# English, marked for the catalogue where they are seeded (donors.reference); `t(text)` shows them
# translated where the catalogue has them, as they are where it does not (a text QA wrote).


def _joined(parts: list[Text]) -> Text:
    """Several findings as one text, separated by semicolons (in the reader's language)."""
    joined = parts[0]
    for part in parts[1:]:
        joined = t("%(first)s; %(next)s", first=joined, next=part)
    return joined


def reason(rule_id: str, criterion: str, evidence: str) -> Problem:
    """Why a donor is ineligible: the rule, its plain-language criterion (the message), the evidence."""
    return Problem(rule_id, criterion, evidence)


def missing_item(item: str, rule_id: str, why: str) -> Problem:
    """An item needed before the donor can be determined eligible (the message), and why (the evidence)."""
    return Problem(rule_id, item, why)


@dataclass(frozen=True)
class Determination:
    """Outcome is ineligible if any reason, else incomplete if anything missing, else eligible."""

    outcome: str
    reasons: tuple[Problem, ...] = ()
    missing: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class Finding:
    """A positive marker of an autologous donor: recorded and shown, not excluding (21 CFR 1271.90)."""

    marker: str
    name: str
    rule_id: str
    evidence: str


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
    reasons: list[Problem] = []
    missing: list[Problem] = []
    if facts.harvest_date is None:
        why = t("look-backs and the serology sample window are counted from the harvest")
        missing.append(missing_item(t("harvest date"), HARVEST_RULE_ID, why))
    for c in criteria.criteria:
        if c.evidence == MEASUREMENT:
            _weight(c, facts, reasons, missing)
        elif c.evidence == SEROLOGY:
            _serology(c, facts, criteria, reasons, missing)
        else:
            _questionnaire(c, facts, criteria, reasons, missing)
    outcome = INELIGIBLE if reasons else INCOMPLETE if missing else ELIGIBLE
    return Determination(outcome, tuple(reasons), tuple(missing))


def _ref(facts: DonorFacts) -> tuple[date, Text]:
    if facts.harvest_date is not None:
        return facts.harvest_date, t("harvest %(date)s", date=facts.harvest_date)
    return facts.evaluation_date, t("evaluation %(date)s (no harvest date yet)", date=facts.evaluation_date)


def _weight(c: Criterion, facts: DonorFacts, reasons: list[Problem], missing: list[Problem]) -> None:
    # Exactly the minimum is eligible: the seed list excludes "weight < 50 kg" (DOMAIN.md §2).
    minimum = c.param("min_weight_kg")
    if facts.weight_kg is None:
        missing.append(missing_item(t("weight"), c.rule_id, t("weight at donation not recorded")))
    elif facts.weight_kg < minimum:
        evidence = t("weight %(weight)s kg < %(minimum)s kg", weight=facts.weight_kg, minimum=minimum)
        reasons.append(reason(c.rule_id, t(c.text), evidence))


def _questionnaire(
    c: Criterion, facts: DonorFacts, cs: CriteriaSet, reasons: list[Problem], missing: list[Problem]
) -> None:
    question = cs.question(c.question_id)
    answer = facts.answers.get(c.question_id)
    if answer is None or answer.value is None:
        missing.append(missing_item(t(question.text), c.rule_id, t("not answered")))
    if c.evidence == MEDICATION:
        _medication(c, facts, answer, reasons, missing)
        return
    if answer is None or not answer.value:
        return
    detail = f" ({answer.detail})" if answer.detail else ""  # the donor's own words, as typed
    if c.look_back != "days":
        if answer.event_date:
            evidence = t(
                'answered yes to "%(question)s"%(detail)s, date %(date)s',
                question=t(question.text),
                detail=detail,
                date=answer.event_date,
            )
        else:
            evidence = t('answered yes to "%(question)s"%(detail)s', question=t(question.text), detail=detail)
        reasons.append(reason(c.rule_id, t(c.text), evidence))
        return
    lookback = c.param("lookback_days")
    if answer.event_date is None:
        why = t("answered yes; the date is needed to apply the %(days)s-day look-back", days=lookback)
        missing.append(missing_item(t("date for: %(question)s", question=t(question.text)), c.rule_id, why))
        return
    ref, ref_text = _ref(facts)
    # Inclusive look-back: an event `lookback` days before the reference still excludes, one day more
    # does not (365 excludes, 366 does not). Events after the reference are within it too.
    days = (ref - answer.event_date).days
    if days <= lookback:
        values = dict(detail=detail, date=answer.event_date, reference=ref_text, lookback=lookback)
        if days >= 0:
            evidence = t(
                "answered yes%(detail)s; last episode %(date)s, %(days)s days before %(reference)s "
                "(look-back %(lookback)s days)",
                days=days,
                **values,
            )
        else:
            evidence = t(
                "answered yes%(detail)s; last episode %(date)s, %(days)s days after %(reference)s "
                "(look-back %(lookback)s days)",
                days=-days,
                **values,
            )
        reasons.append(reason(c.rule_id, t(c.text), evidence))


def _medication(
    c: Criterion, facts: DonorFacts, answer: Answer | None, reasons: list[Problem], missing: list[Problem]
) -> None:
    kind = c.param("medication_kind")
    courses = [m for m in facts.medications if m.kind == kind]
    ref, ref_text = _ref(facts)
    if c.look_back == "days":
        if answer is not None and answer.value and not courses:
            why = t("answered yes; each course's dates are needed to count the days")
            item = t("%(kind)s courses with start and stop dates", kind=t(kind))
            missing.append(missing_item(item, c.rule_id, why))
        lookback, max_days = c.param("lookback_days"), c.param("max_days")
        total, parts = _course_days(courses, ref - timedelta(days=lookback), ref, facts.evaluation_date)
        if total > max_days:
            values = dict(courses=_joined(parts), lookback=lookback, reference=ref_text, max=max_days)
            if len(parts) > 1:
                evidence = t(
                    "%(courses)s within the %(lookback)s days before %(reference)s, %(total)s distinct days "
                    "in all (more than %(max)s days)",
                    total=total,
                    **values,
                )
            else:
                evidence = t(
                    "%(courses)s within the %(lookback)s days before %(reference)s (more than %(max)s days)",
                    **values,
                )
            reasons.append(reason(c.rule_id, t(c.text), evidence))
        return
    if c.look_back != "current":
        raise ValueError(f"{c.rule_id}: unsupported medication look-back {c.look_back!r}")
    detail = f" ({answer.detail})" if answer and answer.detail else ""
    found = [t("answered yes%(detail)s", detail=detail)] if answer and answer.value else []
    found += [
        t(
            "%(name)s since %(start)s, ongoing at %(reference)s",
            name=m.name,
            start=m.start,
            reference=ref_text,
        )
        if m.stop is None
        else t(
            "%(name)s since %(start)s, to %(stop)s at %(reference)s",
            name=m.name,
            start=m.start,
            stop=m.stop,
            reference=ref_text,
        )
        for m in courses
        if m.start <= ref and (m.stop is None or m.stop >= ref)
    ]
    if found:
        reasons.append(reason(c.rule_id, t(c.text), _joined(found)))


def _course_days(
    courses: Iterable[Medication], first: date, last: date, evaluation_date: date
) -> tuple[int, list[Text]]:
    """Distinct calendar days of therapy inside [first, last], both included, and one text per course.

    Start and stop days both count (a course from the 1st to the 7th is 7 days). An ongoing course
    counts until the evaluation date. Concurrent courses count each calendar day once.
    """
    days: set[date] = set()
    parts: list[Text] = []
    for m in sorted(courses, key=lambda m: m.start):
        stop = m.stop if m.stop is not None else evaluation_date
        lo, hi = max(m.start, first), min(stop, last)
        n = (hi - lo).days + 1
        if n <= 0:
            continue  # course entirely outside the look-back window
        days.update(lo + timedelta(days=i) for i in range(n))
        stop_text = m.stop or t("ongoing")
        parts.append(
            t(
                "%(name)s %(start)s to %(stop)s: %(days)s days",
                name=m.name,
                start=m.start,
                stop=stop_text,
                days=n,
            )
        )
    return len(days), parts


def _describe(r: SerologyResult) -> Text:
    dates = dict(sample=r.sample_date, tested=r.test_date)
    if r.method and r.kit_lot:
        return t(
            "sample %(sample)s, tested %(tested)s, %(method)s, kit lot %(lot)s",
            method=r.method,
            lot=r.kit_lot,
            **dates,
        )
    if r.method:
        return t("sample %(sample)s, tested %(tested)s, %(method)s", method=r.method, **dates)
    if r.kit_lot:
        return t("sample %(sample)s, tested %(tested)s, kit lot %(lot)s", lot=r.kit_lot, **dates)
    return t("sample %(sample)s, tested %(tested)s", **dates)


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


def _absent_why(m: SerologyMarker, facts: DonorFacts, cs: CriteriaSet) -> Text:
    if facts.harvest_date is None:
        return t("no harvest date, so the sample window cannot be placed")
    outside = [r for r in facts.serology if r.marker == m.marker]
    if not outside:
        return t("no result")
    first, last = sample_window(facts.harvest_date, cs)
    drawn = [t("%(result)s drawn %(date)s", result=t(r.result), date=r.sample_date) for r in outside]
    return t(
        "sample outside window (%(drawn)s; accepted %(first)s to %(last)s), does not count",
        drawn=drawn,
        first=first,
        last=last,
    )


def _serology(
    c: Criterion, facts: DonorFacts, cs: CriteriaSet, reasons: list[Problem], missing: list[Problem]
) -> None:
    for marker_id in c.param("markers"):
        m = cs.marker(marker_id)
        status, result = _status(marker_id, facts, cs)
        if status is None:
            if marker_id in cs.required_markers:
                missing.append(missing_item(t(m.name), c.rule_id, _absent_why(m, facts, cs)))
        elif m.confirmed_by and status in (POSITIVE, INDETERMINATE):
            # Reactive screen: cleared by a negative confirmation; a positive confirmation is
            # reported under the confirming marker itself, so only an open confirmation is added here.
            confirm = cs.marker(m.confirmed_by)
            if _status(confirm.marker, facts, cs)[0] in (None, INDETERMINATE):
                why = t(
                    "%(marker)s %(result)s (%(described)s); confirmation needed",
                    marker=t(m.name),
                    result=t(status),
                    described=_describe(result),
                )
                missing.append(missing_item(t(confirm.name), c.rule_id, why))
        elif status == INDETERMINATE and m.excludes_if_positive:
            why = t("indeterminate, repeat test (%(described)s)", described=_describe(result))
            missing.append(missing_item(t(m.name), c.rule_id, why))
        elif status == POSITIVE and m.excludes_if_positive:
            values = dict(marker=t(m.name), described=_describe(result))
            evidence = t("%(marker)s positive (%(described)s)", **values)
            if m.cleared_if_negative:
                other = cs.marker(m.cleared_if_negative)
                other_status = _status(other.marker, facts, cs)[0]
                if other_status == NEGATIVE and facts.risk_assessment_documented:
                    continue  # e.g. anti-HBc+ / HBsAg- with a documented risk assessment
                values["other"] = t(other.name)
                if other_status == NEGATIVE:
                    evidence = t(
                        "%(marker)s positive (%(described)s) with %(other)s negative and no documented risk "
                        "assessment",
                        **values,
                    )
                elif other_status == POSITIVE:
                    evidence = t("%(marker)s positive (%(described)s) with %(other)s positive", **values)
                else:
                    evidence = t(
                        "%(marker)s positive (%(described)s); no negative %(other)s in the window, no risk "
                        "assessment can clear it",
                        **values,
                    )
            reasons.append(reason(c.rule_id, t(c.text), evidence))


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
            Finding(
                m.marker,
                m.name,
                m.rule_id,
                t("%(marker)s positive (%(described)s)", marker=t(m.name), described=_describe(r)),
            )
            for r in results
            if r.marker == m.marker and r.result == POSITIVE
        ]
    return tuple(findings)


def requires_lookback(previous_outcome: str, new: Determination) -> bool:
    """True when a donor signed eligible is now ineligible: every lot and dose from the donor must be
    flagged and held (DOMAIN.md §2 look-back). Incomplete after eligible does not trigger it."""
    return previous_outcome == ELIGIBLE and new.outcome == INELIGIBLE


# --- the signed determination -------------------------------------------------------------------


# The decisions QA may sign only when the rules find the same outcome: the rule refusing each otherwise, and why.
# (An ineligible decision the rules do not support needs a written reason instead.)
_NEEDS_THE_OUTCOME = {
    ELIGIBLE: (
        "DON-DET-NOT-ELIGIBLE",
        N_("the rules find the donor %(outcome)s: it cannot be signed eligible"),
    ),
    INCOMPLETE: ("DON-DET-NOT-INCOMPLETE", N_("the rules find the donor %(outcome)s, not incomplete")),
}


def decision_problems(
    *, is_autologous: bool, under_lookback: bool, outcome: str, decision: str, comment: str
) -> list[Problem]:
    """Every reason QA cannot sign `decision` for a donor the rules find `outcome` (21 CFR 1271.50)."""
    problems = []
    if is_autologous:
        problems.append(
            Problem(
                "DON-DET-AUTOLOGOUS",
                t("autologous donor: no eligibility determination is required (21 CFR 1271.90)"),
            )
        )
    if decision not in (ELIGIBLE, INELIGIBLE, INCOMPLETE):
        problems.append(
            Problem("DON-DET-DECISION", t("unknown decision %(decision)s", decision=repr(decision)), decision)
        )
    elif decision in _NEEDS_THE_OUTCOME and outcome != decision:
        rule_id, message = _NEEDS_THE_OUTCOME[decision]
        problems.append(Problem(rule_id, t(message, outcome=t(outcome)), outcome))
    elif decision == INELIGIBLE and outcome != INELIGIBLE and not comment:
        problems.append(
            Problem(
                "DON-DET-INELIGIBLE-REASON",
                t("no rule excludes this donor: write the reason for an ineligible decision"),
                outcome,
                "comment",
            )
        )
    if decision == ELIGIBLE and under_lookback:
        problems.append(
            Problem("DON-DET-LOOKBACK", t("the donor is under look-back and cannot be signed eligible"))
        )
    return problems


# The JSON a determination record stores and its signature covers: the layout of the first records
# ({rule_id, criterion, evidence} and {item, rule_id, why}) is kept, so every record reads back alike.


def stored_reasons(reasons: Iterable[Problem]) -> list[dict]:
    return [{"rule_id": r.rule_id, "criterion": r.message, "evidence": r.evidence} for r in reasons]


def stored_missing(missing: Iterable[Problem]) -> list[dict]:
    return [{"item": m.message, "rule_id": m.rule_id, "why": m.evidence} for m in missing]


def reasons_from_stored(rows: Iterable[Mapping]) -> list[Problem]:
    """The reasons of a stored determination as Problems."""
    return [
        reason(r["rule_id"], r.get("criterion", r.get("message", "")), r.get("evidence", "")) for r in rows
    ]


def missing_from_stored(rows: Iterable[Mapping]) -> list[Problem]:
    """The missing items of a stored determination as Problems."""
    return [
        missing_item(m.get("item", m.get("message", "")), m["rule_id"], m.get("why", m.get("evidence", "")))
        for m in rows
    ]
