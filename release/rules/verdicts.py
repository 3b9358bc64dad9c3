"""Verdicts of one result against one specification test, and the judging of a result as typed: impossible
input (not a number, a unit other than the specification's, a percentage outside 0–100) is an input error
by field, never a stored verdict."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from bank.i18n import Text, t
from release.rules.specification import (
    PERCENT,
    MarkerPanelTest,
    NumericTest,
    QualitativeTest,
    SpecTest,
    name_of,
    normalise,
)
from release.rules.texts import either, figure, joined, known_text, limit

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


def _possible_percent(value: Decimal) -> bool:
    return 0 <= value <= 100


def verdict_numeric(test: NumericTest, value: float | Decimal | str | None, unit: str | None) -> Verdict:
    """Judge a numeric result: 'invalid' when missing, not a number, in another unit than the
    specification's, or a percentage outside 0–100; otherwise 'pass' within the bounds, else 'fail'."""
    number, name = _decimal(value), name_of(test)
    if number is None:
        return Verdict("invalid", t("%(test)s: no numeric result (%(value)s).", test=name, value=repr(value)))
    if (unit or "").strip() != test.unit:
        return Verdict(
            "invalid",
            t(
                "%(test)s: unit '%(unit)s' does not match specification unit '%(expected)s'.",
                test=name,
                unit=unit,
                expected=test.unit,
            ),
        )
    if test.unit == PERCENT and not _possible_percent(number):
        return Verdict(
            "invalid",
            t("%(test)s: %(value)s %% is not a possible percentage.", test=name, value=figure(number)),
        )
    failures = []
    if test.min is not None:
        low = Decimal(str(test.min))
        if number < low or (number == low and not test.min_inclusive):
            failures.append(t("below %(limit)s", limit=limit("≥" if test.min_inclusive else ">", test.min)))
    if test.max is not None:
        high = Decimal(str(test.max))
        if number > high or (number == high and not test.max_inclusive):
            failures.append(t("above %(limit)s", limit=limit("≤" if test.max_inclusive else "<", test.max)))
    shown = {"test": name, "value": figure(number), "unit": test.unit}
    if failures:
        return Verdict(
            "fail",
            t(
                "%(test)s: %(value)s %(unit)s is out of specification (%(failures)s).",
                failures=joined(failures, ", "),
                **shown,
            ),
        )
    return Verdict("pass", t("%(test)s: %(value)s %(unit)s within specification.", **shown))


_norm = normalise


def _verdict_term(test: QualitativeTest, value: str) -> Verdict:
    term, name = test.term_of(value), name_of(test)
    if term is None:
        return Verdict(
            "invalid",
            t(
                "%(test)s: '%(value)s' is not an allowed result (%(allowed)s).",
                test=name,
                value=value.strip(),
                allowed=test.allowed_text(),
            ),
        )
    typed = test.english_of(value.strip())
    # The stored words (a term, a synonym) shown in the reader's language; the English stays as it was.
    shown = (
        known_text(term.term)
        if _norm(typed) == _norm(term.term)
        else Text("%(typed)s (= %(term)s)", {"typed": known_text(typed), "term": known_text(term.term)})
    )
    if not term.conforming:
        return Verdict(
            "fail",
            t(
                "%(test)s: %(result)s; out of specification (%(acceptance)s).",
                test=name,
                result=shown,
                acceptance=acceptance(test),
            ),
        )
    if term.interim:
        return Verdict(
            "pass", t("%(test)s: %(result)s (interim; final result pending).", test=name, result=shown), True
        )
    return Verdict("pass", t("%(test)s: %(result)s.", test=name, result=shown))


def acceptance(test: QualitativeTest) -> Text:
    return t(
        "expected %(terms)s",
        terms=either([known_text(x.term) for x in test.terms if x.conforming and not x.interim]),
    )


def verdict_qualitative(test: QualitativeTest, value: str | None) -> Verdict:
    """Judge a text result. With controlled terms (DOMAIN.md §4): a conforming term or synonym is a 'pass'
    (an interim one a conditional 'pass'), a non-conforming term a 'fail', anything else 'invalid' (refused
    at entry, never stored). Without terms: 'pass' if it is the expected or an accepted value, a conditional
    'pass' if it is one of the test's conditional values, 'invalid' if empty, otherwise 'fail'."""
    name = name_of(test)
    if value is None or not value.strip():
        return Verdict("invalid", t("%(test)s: no result.", test=name))
    if test.terms:
        return _verdict_term(test, value)
    normalised, shown = _norm(value), value.strip()
    if normalised in {_norm(v) for v in (test.expected, *test.accepted)}:
        return Verdict("pass", t("%(test)s: %(result)s.", test=name, result=shown))
    if normalised in {_norm(v) for v in test.conditional}:
        return Verdict(
            "pass", t("%(test)s: %(result)s (interim; final result pending).", test=name, result=shown), True
        )
    return Verdict(
        "fail",
        t("%(test)s: %(result)s; expected %(expected)s.", test=name, result=shown, expected=test.expected),
    )


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
            missing.append(either(rule.markers))
            continue
        valid = []
        for name, number in found:
            if number is None or not _possible_percent(number):
                impossible.append(f"{name} = {values[name]!r}")
            else:
                valid.append((name, number))
        satisfied = any(n >= threshold if rule.op == ">=" else n <= threshold for _, n in valid)
        if valid and not satisfied:
            measured_values = joined(
                [Text("%(marker)s %(value)s %%", {"marker": n, "value": figure(v)}) for n, v in valid], ", "
            )
            failed.append(
                t(
                    "%(values)s (needs %(op)s %(limit)s %%)",
                    values=measured_values,
                    op=rule.op,
                    limit=figure(rule.threshold_pct),
                )
            )
    labelled = (
        (t("impossible value(s)"), impossible),
        (t("out of specification"), failed),
        (t("missing marker(s)"), missing),
    )
    parts = [
        Text("%(label)s: %(items)s", {"label": label, "items": joined(items, "; ")})
        for label, items in labelled
        if items
    ]
    status = "invalid" if impossible else "fail" if failed else "invalid" if missing else "pass"
    if status == "pass":
        return Verdict("pass", t("%(test)s: all markers within specification.", test=name_of(test)))
    return Verdict(
        status, Text("%(test)s: %(findings)s.", {"test": name_of(test), "findings": joined(parts, ". ")})
    )


def evaluate(test: SpecTest, value: Any, unit: str | None = None) -> Verdict:
    """Dispatch to the verdict of the test's kind (value: number, text, or {marker: percent})."""
    if isinstance(test, NumericTest):
        return verdict_numeric(test, value, unit)
    if isinstance(test, QualitativeTest):
        return verdict_qualitative(test, value)
    if not isinstance(value, Mapping):
        return Verdict("invalid", t("%(test)s: expected marker values.", test=name_of(test)))
    return verdict_panel(test, value)


def _numeric_entry(test: NumericTest, value: str, unit: str) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    number = _decimal(value or "")
    if number is None:
        errors["value"] = (
            t("%(test)s needs a number.", test=name_of(test))
            if not (value or "").strip()
            else t("'%(value)s' is not a number.", value=value.strip())
        )
    elif test.unit == PERCENT and not 0 <= number <= 100:
        errors["value"] = t("%(value)s %% is not a possible percentage (0–100).", value=figure(number))
    if unit != test.unit:
        errors["unit"] = t(
            "%(test)s is reported in %(unit)s; '%(typed)s' does not match.",
            test=name_of(test),
            unit=test.unit,
            typed=unit or t("no unit"),
        )
    return ("" if errors else str(number)), errors


def _qualitative_entry(test: QualitativeTest, value: str, unit: str) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    name = name_of(test)
    if unit:
        errors["unit"] = t("%(test)s has no unit: leave it empty.", test=name)
    if not (value or "").strip():
        errors["value"] = t(
            "Give the result of %(test)s (expected: %(expected)s).",
            test=name,
            expected=known_text(test.expected),
        )
    elif test.terms and test.term_of(value) is None:
        errors["value"] = t(
            "'%(value)s' is not an allowed result of %(test)s. Allowed: %(allowed)s.",
            value=" ".join(value.split()),
            test=name,
            allowed=test.allowed_text(),
        )
    typed = " ".join(value.split())
    return ("" if errors else test.english_of(typed) if test.terms else typed), errors


def _panel_entry(markers: Mapping[str, str] | None, unit: str) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    if unit not in ("", PERCENT):
        errors["unit"] = t(
            "A marker panel is reported in %% positive cells; '%(unit)s' does not match.", unit=unit
        )
    measured = {m: v.strip() for m, v in (markers or {}).items() if (v or "").strip()}
    impossible = [
        f"{m} = {v!r}" for m, v in measured.items() if (n := _decimal(v)) is None or not 0 <= n <= 100
    ]
    if impossible:
        errors["markers"] = t("Not a possible percentage (0–100): %(values)s.", values="; ".join(impossible))
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
