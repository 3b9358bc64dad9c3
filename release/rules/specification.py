"""Release rules: specification tests as data, result verdicts, lot verdict and QA release blockers.

DOMAIN.md §4: release refused while a required test is missing, out of specification or unverified,
a deviation is open, or the signer entered/verified a result (four eyes, 21 CFR Part 11, Annex 11 §15).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

VerdictStatus = Literal["pass", "fail", "invalid"]
LotVerdict = Literal["pass", "fail", "incomplete"]
PERCENT = "%"


@dataclass(frozen=True)
class Problem:
    """One reason a rule refuses: a stable rule id, a sentence for people, and the facts behind it."""

    rule_id: str
    message: str
    evidence: str


@dataclass(frozen=True)
class Verdict:
    """Result of judging one value against one test. `conditional` marks an interim pass
    (e.g. sterility 'no growth to date') that only supports a conditional release."""

    status: VerdictStatus
    message: str
    conditional: bool = False


# --- specification tests as data ------------------------------------------------------------


@dataclass(frozen=True)
class NumericTest:
    """A measured value with a unit, accepted within [min, max] (either bound optional)."""

    code: str
    name: str
    unit: str
    min: float | None = None
    max: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    required: bool = True
    note: str = ""
    kind: ClassVar[str] = "numeric"


@dataclass(frozen=True)
class QualitativeTest:
    """A text result: passes when it equals `expected` or one of `accepted` (case and spacing ignored);
    a value in `conditional` is an interim pass usable only for a conditional release."""

    code: str
    name: str
    expected: str
    accepted: tuple[str, ...] = ()
    conditional: tuple[str, ...] = ()
    required: bool = True
    note: str = ""
    kind: ClassVar[str] = "qualitative"


@dataclass(frozen=True)
class MarkerRule:
    """Markers in `markers` are alternatives (either/or): one measured value satisfying
    `op threshold_pct` is enough."""

    markers: tuple[str, ...]
    op: Literal[">=", "<="]
    threshold_pct: float

    def __post_init__(self) -> None:
        if self.op not in (">=", "<=") or not self.markers:
            raise ValueError(f"invalid marker rule {self!r}")


@dataclass(frozen=True)
class MarkerPanelTest:
    """A flow-cytometry panel (percent positive cells per marker); every rule must be satisfied."""

    code: str
    name: str
    rules: tuple[MarkerRule, ...]
    required: bool = True
    note: str = ""
    kind: ClassVar[str] = "panel"


SpecTest = NumericTest | QualitativeTest | MarkerPanelTest


@dataclass(frozen=True)
class Specification:
    """A versioned release specification of one product type."""

    product_key: str
    version: str
    tests: tuple[SpecTest, ...]
    note: str = ""

    def get_test(self, code: str) -> SpecTest | None:
        """The test with this code, or None."""
        return next((t for t in self.tests if t.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (tuples become lists) for database storage."""
        return {
            "product_key": self.product_key,
            "version": self.version,
            "note": self.note,
            "tests": [spec_test_to_dict(t) for t in self.tests],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Specification:
        """Inverse of to_dict; raises KeyError/ValueError on a malformed record."""
        return cls(
            product_key=data["product_key"],
            version=str(data["version"]),
            tests=tuple(spec_test_from_dict(t) for t in data["tests"]),
            note=data.get("note", ""),
        )


def spec_test_to_dict(test: SpecTest) -> dict[str, Any]:
    """JSON-compatible dict of a test; the 'kind' key ('numeric' | 'qualitative' | 'panel') tells the type."""
    data = {"kind": test.kind, **vars(test)}
    if isinstance(test, QualitativeTest):
        data["accepted"], data["conditional"] = list(test.accepted), list(test.conditional)
    elif isinstance(test, MarkerPanelTest):
        data["rules"] = [
            {"markers": list(r.markers), "op": r.op, "threshold_pct": r.threshold_pct} for r in test.rules
        ]
    return data


def spec_test_from_dict(data: Mapping[str, Any]) -> SpecTest:
    """Inverse of spec_test_to_dict; raises ValueError on an unknown kind."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind == "numeric":
        return NumericTest(**fields)
    if kind == "qualitative":
        fields["accepted"] = tuple(fields.get("accepted", ()))
        fields["conditional"] = tuple(fields.get("conditional", ()))
        return QualitativeTest(**fields)
    if kind == "panel":
        fields["rules"] = tuple(
            MarkerRule(tuple(r["markers"]), r["op"], r["threshold_pct"]) for r in fields["rules"]
        )
        return MarkerPanelTest(**fields)
    raise ValueError(f"unknown test kind {kind!r}")


# --- verdicts -------------------------------------------------------------------------------


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


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def verdict_qualitative(test: QualitativeTest, value: str | None) -> Verdict:
    """Judge a text result: 'pass' if it is the expected or an accepted value, a conditional 'pass' if
    it is one of the test's conditional values, 'invalid' if empty, otherwise 'fail'."""
    if value is None or not value.strip():
        return Verdict("invalid", f"{test.name}: no result.")
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


# --- lot verdict and release blockers -------------------------------------------------------


@dataclass(frozen=True)
class ResultFacts:
    """One recorded result of the lot, as the release decision sees it. `verdict` is the stored
    Verdict.status; `is_conditional` its conditional flag; a superseded result was replaced by a
    retest (kept and shown, not judged). `result_ref` is only quoted in evidence."""

    test_code: str
    verdict: str
    verified: bool
    entered_by: int
    verified_by: int | None
    is_conditional: bool = False
    superseded: bool = False
    performed_by: int | None = None
    result_ref: str = ""


@dataclass(frozen=True)
class DonorReleaseFacts:
    """Donor side of a release: eligibility signed by the responsible person, look-back hold, autologous."""

    eligible_signed: bool
    under_lookback: bool
    is_autologous: bool


def current_results(results: Sequence[ResultFacts]) -> list[ResultFacts]:
    """Results that count for the verdict: all but the superseded ones (those are shown, not judged)."""
    return [r for r in results if not r.superseded]


def _ref(result: ResultFacts) -> str:
    return f"{result.test_code}{' #' + result.result_ref if result.result_ref else ''}"


def _result_problems(test: SpecTest, r: ResultFacts, allow_conditional: bool) -> list[Problem]:
    ref, name, problems = _ref(r), test.name, []
    add = problems.append
    if r.verdict == "fail":
        add(Problem("release.out_of_specification", f"{name} is out of specification.", f"{ref}: fail"))
    elif r.verdict != "pass":
        add(Problem("release.result_invalid", f"{name} result is invalid.", f"{ref}: {r.verdict!r}"))
    if not r.verified or r.verified_by is None:
        add(Problem("release.unverified", f"{name} result is not verified.", f"{ref}: not verified"))
    elif r.verified_by == r.entered_by:
        msg = f"{name} result was verified by the person who entered it."
        add(Problem("release.self_verified", msg, f"{ref}: entered_by=verified_by={r.entered_by}"))
    if r.is_conditional and r.verdict == "pass":
        if not allow_conditional:
            msg = f"{name} has only an interim result and conditional release was not chosen."
            add(Problem("release.conditional_not_allowed", msg, f"{ref}: conditional"))
        elif not (isinstance(test, QualitativeTest) and test.conditional):
            msg = f"The specification does not allow conditional release on {name}."
            add(Problem("release.conditional_not_in_spec", msg, f"{ref}: conditional"))
    return problems


def _test_problems(spec: Specification, results: Sequence[ResultFacts], allow: bool) -> list[Problem]:
    current, problems = current_results(results), []
    for test in spec.tests:
        mine = [r for r in current if r.test_code == test.code]
        if not mine and test.required:
            evidence = f"{test.code}; specification {spec.product_key} v{spec.version}"
            problems.append(Problem("release.test_missing", f"{test.name} has no result.", evidence))
        for result in mine:
            problems.extend(_result_problems(test, result, allow))
    return problems


def lot_verdict(
    spec: Specification, results: Sequence[ResultFacts], allow_conditional: bool = False
) -> LotVerdict:
    """'fail' if any current result of a specification test fails (an out-of-specification result
    stands until a retest supersedes it); 'pass' if every test is met by verified passing results
    (interim results only when `allow_conditional`); otherwise 'incomplete'. Results of tests not in
    the specification are ignored."""
    problems = _test_problems(spec, results, allow_conditional)
    if any(p.rule_id == "release.out_of_specification" for p in problems):
        return "fail"
    return "incomplete" if problems else "pass"


def release_blockers(
    spec: Specification,
    results: Sequence[ResultFacts],
    open_deviations: Sequence[str],
    donor: DonorReleaseFacts,
    signer_id: int,
    allow_conditional: bool,
) -> list[Problem]:
    """Every reason the lot may not be released by `signer_id`; empty list = release permitted.

    Reasons: required test missing; result out of specification, invalid, unverified or self-verified;
    interim (conditional) result without conditional release chosen or allowed by the test; each open
    deviation (named by its reference); donor not signed eligible (allogeneic) or under look-back;
    signer entered, performed or verified any result of the lot, superseded ones included (four eyes).
    """
    problems = _test_problems(spec, results, allow_conditional)
    add = problems.append
    for ref in open_deviations:
        add(Problem("release.deviation_open", f"Deviation {ref} is open.", f"deviation={ref}"))
    if donor.under_lookback:
        add(Problem("release.donor_lookback", "Donor is under look-back: the lot is held.", "look-back"))
    if not donor.is_autologous and not donor.eligible_signed:
        msg = "Donor eligibility has not been determined and signed as eligible."
        add(Problem("release.donor_not_eligible", msg, "allogeneic; eligible_signed=False"))
    # Four eyes: one line naming every result the signer took part in, grouped by what they did, so a
    # QA person who verified ten results reads one clear reason instead of ten.
    involved: dict[str, list[str]] = {}
    for r in results:
        acts = {"entered": r.entered_by, "performed": r.performed_by, "verified": r.verified_by}
        for role, who in acts.items():
            if who == signer_id:
                involved.setdefault(role, []).append(r.test_code)
    if involved:
        parts = [f"{role} {', '.join(dict.fromkeys(involved[role]))}"
                 for role in ("entered", "performed", "verified") if role in involved]
        msg = (f"You {' and '.join(parts)}: a result's analyst or verifier cannot release the lot "
               "(four eyes); another QA person must sign.")
        add(Problem("release.four_eyes", msg, "; ".join(parts)))
    return problems


# --- late sterility -------------------------------------------------------------------------


@dataclass(frozen=True)
class LateResultAlert:
    """An alert to send: who must be told (QA always, the clinician when patients are affected)."""

    rule_id: str
    message: str
    notify: tuple[str, ...]
    patients: tuple[str, ...]


def late_sterility_alert(
    final: Verdict, released_conditionally: bool, patients: Sequence[str] = (), lot_ref: str = ""
) -> LateResultAlert | None:
    """Alert needed when a lot released on an interim sterility result gets a final result that is not
    a pass (positive, or invalid so sterility is unconfirmed). None when no alert is needed: lot not
    conditionally released, or the result passes (an interim "no growth to date" is a conditional pass)."""
    if not released_conditionally or final.status == "pass":
        return None
    what = "positive" if final.status == "fail" else "invalid"
    lot = f" of lot {lot_ref}" if lot_ref else ""
    return LateResultAlert(
        rule_id=f"release.late_sterility_{what}",
        message=f"Final sterility{lot} is {what} after conditional release: {final.message}",
        notify=("QA", "clinician") if patients else ("QA",),
        patients=tuple(patients),
    )
