"""Impossible donor input, field by field (a refusal shows each message next to its field). Pure.

Eligibility thresholds are not checked here: a 45 kg donor is possible (and ineligible), 0 kg is not.
"""

from __future__ import annotations

import math
from datetime import date

from bank.i18n import N_, Text, t
from donors.rules.criteria import CriteriaSet
from donors.rules.facts import DonorFacts, Medication, SerologyResult

SEXES = ("F", "M")
# Stored as these English words; N_ puts them in the catalogue so a page shows them in the reader's language.
POSITIVE, NEGATIVE, INDETERMINATE = N_("positive"), N_("negative"), N_("indeterminate")
RESULTS = (NEGATIVE, POSITIVE, INDETERMINATE)
MAX_AGE_YEARS = 120
HEIGHT_RANGE_CM = (30, 250)
# Input sanity limits (impossible values), not eligibility thresholds: those live in the criteria set.
MAX_PLAUSIBLE_WEIGHT_KG = 400.0


def text_error(value: str | None, label: Text, max_len: int, required: bool = True) -> Text | None:
    """The error of a typed text: missing (when required) or too long. `label` is a `t(...)` naming the
    field, so the whole message is shown in the reader's language."""
    value = (value or "").strip()
    if required and not value:
        return t("%(label)s is required", label=label)
    if len(value) > max_len:
        return t("%(label)s: at most %(max)s characters", label=label, max=max_len)
    return None


def donor_errors(
    today: date,
    sex: str | None,
    birth_date: date | None,
    weight_kg: float | None,
    height_cm: float | None,
    consent_version: str | None,
    consent_date: date | None,
    full_name: str | None = None,
    hbc_risk_assessment: str | None = None,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if sex not in SEXES:
        errors["sex"] = t("choose F or M")
    if birth_date is None:
        errors["birth_date"] = t("date of birth is required")
    elif birth_date > today:
        errors["birth_date"] = t("date of birth %(date)s is in the future", date=birth_date)
    elif today.year - birth_date.year > MAX_AGE_YEARS:
        errors["birth_date"] = t("more than %(years)s years ago: check the date", years=MAX_AGE_YEARS)
    errors.update(weight_errors(weight_kg))
    low, high = HEIGHT_RANGE_CM
    if height_cm is not None and not (low <= height_cm <= high):
        errors["height_cm"] = t("height must be between %(low)s and %(high)s cm", low=low, high=high)
    if message := text_error(consent_version, t("consent version"), 40):
        errors["consent_version"] = message
    if consent_date is None:
        errors["consent_date"] = t("consent date is required")
    elif consent_date > today:
        errors["consent_date"] = t("consent date %(date)s is in the future", date=consent_date)
    elif birth_date is not None and consent_date < birth_date:
        errors["consent_date"] = t("consent date is before the date of birth")
    if message := text_error(full_name, t("name"), 160, required=False):
        errors["full_name"] = message
    if message := text_error(hbc_risk_assessment, t("risk assessment"), 2000, required=False):
        errors["hbc_risk_assessment"] = message
    return errors


# --- validation of impossible input (field -> message, for forms and services) ------------------


def weight_errors(weight_kg: float | None) -> dict[str, str]:
    """{"weight_kg": message} when the weight is impossible (not finite, <= 0 or > 400 kg); None is fine."""
    if weight_kg is None:
        return {}
    if not math.isfinite(weight_kg) or weight_kg <= 0:
        return {"weight_kg": t("weight must be a number above 0 kg")}
    if weight_kg > MAX_PLAUSIBLE_WEIGHT_KG:
        return {"weight_kg": t("weight above %(max)s kg is not plausible", max=MAX_PLAUSIBLE_WEIGHT_KG)}
    return {}


def medication_errors(
    med: Medication, evaluation_date: date, criteria: CriteriaSet | None = None
) -> dict[str, str]:
    """Field -> message for an impossible course: blank name, unknown kind, future dates, stop < start."""
    errors: dict[str, str] = {}
    if not med.name.strip():
        errors["name"] = t("medication name is required")
    if criteria is not None and med.kind not in criteria.medication_kinds:
        errors["kind"] = t("unknown medication kind %(kind)s", kind=repr(med.kind))
    if med.start > evaluation_date:
        errors["start"] = t(
            "start %(start)s is after the evaluation date %(date)s", start=med.start, date=evaluation_date
        )
    if med.stop is not None:
        if med.stop < med.start:
            errors["stop"] = t("stop %(stop)s is before start %(start)s", stop=med.stop, start=med.start)
        elif med.stop > evaluation_date:
            errors["stop"] = t(
                "stop %(stop)s is in the future; leave it empty for an ongoing course", stop=med.stop
            )
    return errors


def serology_errors(result: SerologyResult, evaluation_date: date, criteria: CriteriaSet) -> dict[str, str]:
    """Field -> message for an impossible result: unknown marker or result, future dates, test < sample."""
    errors: dict[str, str] = {}
    if not (result.marker or "").strip():
        errors["marker"] = t("choose a marker")
    elif result.marker not in {m.marker for m in criteria.markers}:
        errors["marker"] = t(
            "unknown marker %(marker)s in %(criteria)s", marker=repr(result.marker), criteria=criteria.label
        )
    if result.result not in RESULTS:
        errors["result"] = t("result must be one of %(results)s", results=[t(r) for r in RESULTS])
    if result.sample_date > evaluation_date:
        errors["sample_date"] = t("sample date %(date)s is in the future", date=result.sample_date)
    if result.test_date > evaluation_date:
        errors["test_date"] = t("test date %(date)s is in the future", date=result.test_date)
    elif result.test_date < result.sample_date:
        errors["test_date"] = t(
            "test date %(test)s is before sample date %(sample)s",
            test=result.test_date,
            sample=result.sample_date,
        )
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
            errors[f"answers.{qid}"] = t(
                "unknown question %(question)s in %(criteria)s", question=qid, criteria=criteria.label
            )
        elif answer.event_date is not None and answer.event_date > facts.evaluation_date:
            errors[f"answers.{qid}.event_date"] = t("date %(date)s is in the future", date=answer.event_date)
    for i, med in enumerate(facts.medications):
        for k, v in medication_errors(med, facts.evaluation_date, criteria).items():
            errors[f"medications[{i}].{k}"] = v
    for i, res in enumerate(facts.serology):
        for k, v in serology_errors(res, facts.evaluation_date, criteria).items():
            errors[f"serology[{i}].{k}"] = v
    return errors
