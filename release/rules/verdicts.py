"""Verdicts of one result against one specification test, and the judging of a result as typed: impossible
input (not a number, a unit other than the specification's, a percentage outside 0–100) is an input error
by field, never a stored verdict."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from release.rules.specification import (
    PERCENT,
    MarkerPanelTest,
    NumericTest,
    QualitativeTest,
    SpecTest,
    normalise,
)

VerdictStatus = Literal["pass", "fail", "invalid"]
STORED_VERDICTS = ("pass", "fail")  # an 'invalid' verdict is refused at entry, never stored


@dataclass(frozen=True)
class Verdict:
    """Result of judging one value against one test. `conditional` marks an interim pass
    (e.g. sterility 'no growth to date') that only supports a conditional release."""

    status: VerdictStatus
    message: str
    conditional: bool = False


def _decimal(value: object) -> Decimal | None:
    """Exact decimal of what was typed (95.0 stays 95.0, not 94.99999…); None if not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _percent_problem(value: Decimal) -> str | None:
    return None if 0 <= value <= 100 else f"{value} % is not a possible percentage"


def verdict_numeric(test: NumericTest, value: float | Decimal | str | None, unit: str | None) -> Verdict:
    """Judge a numeric result: 'invalid' when missing, not a number, in another unit than the
    specification's, or a percentage outside 0–100; otherwise 'pass' within the bounds, else 'fail'."""
    number = _decimal(value)
    if number is None:
        return Verdict("invalid", f"{test.name}: no numeric result ({value!r}).")
    if (unit or "").strip() != test.unit:
        return Verdict(
            "invalid", f"{test.name}: unit {unit!r} does not match specification unit {test.unit!r}."
        )
    if test.unit == PERCENT and (problem := _percent_problem(number)):
        return Verdict("invalid", f"{test.name}: {problem}.")
    failures = []
    if test.min is not None:
        low = Decimal(str(test.min))
        if number < low or (number == low and not test.min_inclusive):
            failures.append(f"below {'≥' if test.min_inclusive else '>'} {test.min:g}")
    if test.max is not None:
        high = Decimal(str(test.max))
        if number > high or (number == high and not test.max_inclusive):
            failures.append(f"above {'≤' if test.max_inclusive else '<'} {test.max:g}")
    shown = f"{test.name}: {number} {test.unit}"
    if failures:
        return Verdict("fail", f"{shown} is out of specification ({', '.join(failures)}).")
    return Verdict("pass", f"{shown} within specification.")


_norm = normalise


def _verdict_term(test: QualitativeTest, value: str) -> Verdict:
    term = test.term_of(value)
    if term is None:
        allowed = test.allowed_text()
        return Verdict("invalid", f"{test.name}: {value.strip()!r} is not an allowed result ({allowed}).")
    typed = value.strip()
    shown = term.term if _norm(typed) == _norm(term.term) else f"{typed} (= {term.term})"
    if not term.conforming:
        return Verdict("fail", f"{test.name}: {shown}; out of specification ({acceptance(test)}).")
    if term.interim:
        return Verdict("pass", f"{test.name}: {shown} (interim; final result pending).", True)
    return Verdict("pass", f"{test.name}: {shown}.")


def acceptance(test: QualitativeTest) -> str:
    return "expected " + " or ".join(t.term for t in test.terms if t.conforming and not t.interim)


def verdict_qualitative(test: QualitativeTest, value: str | None) -> Verdict:
    """Judge a text result. With controlled terms (DOMAIN.md §4): a conforming term or synonym is a 'pass'
    (an interim one a conditional 'pass'), a non-conforming term a 'fail', anything else 'invalid' (refused
    at entry, never stored). Without terms: 'pass' if it is the expected or an accepted value, a conditional
    'pass' if it is one of the test's conditional values, 'invalid' if empty, otherwise 'fail'."""
    if value is None or not value.strip():
        return Verdict("invalid", f"{test.name}: no result.")
    if test.terms:
        return _verdict_term(test, value)
    normalised = _norm(value)
    if normalised in {_norm(v) for v in (test.expected, *test.accepted)}:
        return Verdict("pass", f"{test.name}: {value.strip()}.")
    if normalised in {_norm(v) for v in test.conditional}:
        return Verdict("pass", f"{test.name}: {value.strip()} (interim; final result pending).", True)
    return Verdict("fail", f"{test.name}: {value.strip()}; expected {test.expected}.")


def _marker_key(marker: str) -> str:
    # 'CD79α' and 'CD79a', 'hla-dr' and 'HLA-DR' name the same marker.
    return marker.replace("α", "a").replace(" ", "").casefold()


def verdict_panel(test: MarkerPanelTest, values: Mapping[str, float | Decimal | str]) -> Verdict:
    """Judge a marker panel (percent positive per marker).

    For each rule, the measured alternatives are looked at: one satisfying it is enough. 'invalid' if
    any measured value is not a percentage in 0–100; else 'fail' if a rule's measured markers all fail
    (missing markers are listed too); else 'invalid' if a rule has none of its markers measured; else 'pass'.
    """
    measured = {_marker_key(k): (k, _decimal(v)) for k, v in values.items()}
    impossible, failed, missing = [], [], []
    for rule in test.rules:
        threshold = Decimal(str(rule.threshold_pct))
        found = [measured[_marker_key(m)] for m in rule.markers if _marker_key(m) in measured]
        if not found:
            missing.append(" or ".join(rule.markers))
            continue
        valid = []
        for name, number in found:
            if number is None or _percent_problem(number):
                impossible.append(f"{name} = {values[name]!r}")
            else:
                valid.append((name, number))
        satisfied = any(n >= threshold if rule.op == ">=" else n <= threshold for _, n in valid)
        if valid and not satisfied:
            failed.append(
                ", ".join(f"{name} {number} %" for name, number in valid)
                + f" (needs {rule.op} {rule.threshold_pct:g} %)"
            )
    labelled = (
        ("impossible value(s)", impossible),
        ("out of specification", failed),
        ("missing marker(s)", missing),
    )
    parts = [f"{label}: {'; '.join(items)}" for label, items in labelled if items]
    status = "invalid" if impossible else "fail" if failed else "invalid" if missing else "pass"
    if status == "pass":
        return Verdict("pass", f"{test.name}: all markers within specification.")
    return Verdict(status, f"{test.name}: " + ". ".join(parts) + ".")


def evaluate(test: SpecTest, value: Any, unit: str | None = None) -> Verdict:
    """Dispatch to the verdict of the test's kind (value: number, text, or {marker: percent})."""
    if isinstance(test, NumericTest):
        return verdict_numeric(test, value, unit)
    if isinstance(test, QualitativeTest):
        return verdict_qualitative(test, value)
    if not isinstance(value, Mapping):
        return Verdict("invalid", f"{test.name}: expected marker values.")
    return verdict_panel(test, value)


def _numeric_entry(test: NumericTest, value: str, unit: str) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    number = _decimal(value or "")
    if number is None:
        errors["value"] = (
            f"{test.name} needs a number."
            if not (value or "").strip()
            else f"{value.strip()!r} is not a number."
        )
    elif test.unit == PERCENT and not 0 <= number <= 100:
        errors["value"] = f"{number} % is not a possible percentage (0–100)."
    if unit != test.unit:
        errors["unit"] = f"{test.name} is reported in {test.unit}; {unit or 'no unit'!r} does not match."
    return ("" if errors else str(number)), errors


def _qualitative_entry(test: QualitativeTest, value: str, unit: str) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    if unit:
        errors["unit"] = f"{test.name} has no unit: leave it empty."
    if not (value or "").strip():
        errors["value"] = f"Give the result of {test.name} (expected: {test.expected})."
    elif test.terms and test.term_of(value) is None:
        errors["value"] = (
            f"{' '.join(value.split())!r} is not an allowed result of {test.name}. "
            f"Allowed: {test.allowed_text()}."
        )
    return ("" if errors else " ".join(value.split())), errors


def _panel_entry(markers: Mapping[str, str] | None, unit: str) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    if unit not in ("", PERCENT):
        errors["unit"] = f"A marker panel is reported in % positive cells; {unit!r} does not match."
    measured = {m: v.strip() for m, v in (markers or {}).items() if (v or "").strip()}
    impossible = [
        f"{m} = {v!r}" for m, v in measured.items() if (n := _decimal(v)) is None or not 0 <= n <= 100
    ]
    if impossible:
        errors["markers"] = "Not a possible percentage (0–100): " + "; ".join(impossible) + "."
    return ({} if errors else {m: str(_decimal(v)) for m, v in measured.items()}), errors


def judge_entry(
    test: SpecTest, value: str, unit: str, markers: Mapping[str, str] | None
) -> tuple[Verdict | None, str, dict[str, str]]:
    """A result as typed on the form: its verdict and the text to store, or (None, "", the input errors by
    field) when it cannot be a result of `test` (a missing marker of the panel included)."""
    if isinstance(test, NumericTest):
        stored, errors = _numeric_entry(test, value, unit)
        verdict = None if errors else evaluate(test, stored, unit)
    elif isinstance(test, QualitativeTest):
        typed, errors = _qualitative_entry(test, value, unit)
        verdict = None if errors else evaluate(test, typed)
        # A controlled result is stored as its term ("negative" is stored "no growth"; the verdict says both).
        stored = test.term_of(typed).term if test.terms and not errors else typed
    else:
        values, errors = _panel_entry(markers, unit)
        verdict = None if errors else evaluate(test, values)
        stored = json.dumps(values, sort_keys=True)
    if errors:
        return None, "", errors
    if verdict.status == "invalid":  # e.g. a marker of the panel not measured at all
        return None, "", {"markers" if isinstance(test, MarkerPanelTest) else "value": verdict.message}
    return verdict, stored, {}
