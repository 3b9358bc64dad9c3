"""Release specifications as data (DOMAIN.md §4): the tests of a product's specification, their storage
as JSON, how an acceptance criterion reads, and the editing of a draft's limits (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from bank.i18n import Text, localize, t
from release.rules.texts import either, figure, joined, known_text, limit

PERCENT = "%"


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
class ResultTerm:
    """One allowed result of a qualitative test (a controlled term): whether it conforms to the
    specification, whether it is an interim reading (sterility "no growth to date"), and the synonyms
    the site accepts for it ("negative" = "no growth"). What it means is said in `meaning`."""

    term: str
    conforming: bool
    synonyms: tuple[str, ...] = ()
    interim: bool = False
    meaning: str = ""


@dataclass(frozen=True)
class QualitativeTest:
    """A text result. With `terms` (controlled results), only a term or one of its synonyms is a result:
    the term says whether it conforms; anything else is refused at entry, never judged a failure. Without
    terms (a specification stored before terms existed, not a seed), it passes when it equals `expected`
    or one of `accepted` (case and spacing ignored). A value in `conditional` is an interim pass usable
    only for a conditional release."""

    code: str
    name: str
    expected: str
    accepted: tuple[str, ...] = ()
    conditional: tuple[str, ...] = ()
    required: bool = True
    note: str = ""
    terms: tuple[ResultTerm, ...] = ()
    kind: ClassVar[str] = "qualitative"

    def term_of(self, value: str | None) -> ResultTerm | None:
        """The controlled term `value` names (the term itself or a synonym, case and spacing ignored; in
        English or in the reader's language)."""
        typed = normalise(value or "")
        return next((t for t in self.terms if typed in _forms(t)), None)

    def english_of(self, value: str) -> str:
        """What the person typed, in the stored (English) vocabulary: a term or synonym typed in the
        reader's language becomes the English word it translates; anything else stays as typed."""
        typed = normalise(value)
        words = [word for term in self.terms for word in (term.term, *term.synonyms)]
        english = next((word for word in words if normalise(word) == typed), None)
        return english or next((word for word in words if normalise(localize(word)) == typed), value)

    def allowed_text(self) -> Text:
        """The allowed terms as a person reads them: each with its synonyms and what it means."""
        parts = []
        for term in self.terms:
            what = term_kind(term)
            if term.synonyms:
                also = joined([known_text(s) for s in term.synonyms], ", ")
                parts.append(
                    t(
                        "'%(term)s' (also: %(also)s) — %(what)s",
                        term=known_text(term.term),
                        also=also,
                        what=what,
                    )
                )
            else:
                parts.append(t("'%(term)s' — %(what)s", term=known_text(term.term), what=what))
        return joined(parts, "; ")


def _forms(term: ResultTerm) -> set[str]:
    """Every way a term may be typed: itself and its synonyms, in English and in the reader's language."""
    words = (term.term, *term.synonyms)
    return {normalise(x) for x in words} | {normalise(localize(x)) for x in words}


def term_kind(term: ResultTerm) -> Text:
    """What a controlled result term counts as, in words."""
    if term.interim:
        return t("interim, conforming")
    return t("conforming") if term.conforming else t("out of specification")


def normalise(text: str) -> str:
    """Case and spacing ignored: how a typed qualitative value is compared."""
    return " ".join(text.split()).casefold()


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
        data["terms"] = [{**vars(t), "synonyms": list(t.synonyms)} for t in test.terms]
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
        # A version stored before controlled terms has none (release.reference.with_seed_terms).
        fields["terms"] = tuple(
            ResultTerm(**{**t, "synonyms": tuple(t.get("synonyms", ()))}) for t in fields.get("terms", ())
        )
        return QualitativeTest(**fields)
    if kind == "panel":
        fields["rules"] = tuple(
            MarkerRule(tuple(r["markers"]), r["op"], r["threshold_pct"]) for r in fields["rules"]
        )
        return MarkerPanelTest(**fields)
    raise ValueError(f"unknown test kind {kind!r}")


# --- how a test's acceptance criterion reads on screens and on the certificate --------------------


def acceptance_text(test: SpecTest) -> Text:
    """The acceptance criterion as the certificate states it ('≥ 70 %', 'no growth'); the English is part
    of the certificate's content, so it never changes with the reader's language."""
    if isinstance(test, NumericTest):
        low = limit("≥" if test.min_inclusive else ">", test.min) if test.min is not None else None
        high = limit("≤" if test.max_inclusive else "<", test.max) if test.max is not None else None
        if low is not None and high is not None:
            return t("%(low)s and %(high)s %(unit)s", low=low, high=high, unit=test.unit)
        return Text("%(bound)s %(unit)s", {"bound": low or high or "", "unit": test.unit})
    if isinstance(test, QualitativeTest):
        final = [known_text(term.term) for term in test.terms if term.conforming and not term.interim]
        text = either(final or [known_text(x) for x in (test.expected, *test.accepted)])
        if test.conditional:
            return t(
                "%(terms)s (conditional release on: %(interim)s)",
                terms=text,
                interim=joined([known_text(x) for x in test.conditional], ", "),
            )
        return Text("%(terms)s", {"terms": text})
    return joined([marker_limit(r) for r in test.rules], "; ")


def marker_limit(rule: MarkerRule) -> Text:
    """'CD14 or CD11b ≤ 2 %'."""
    return Text(
        "%(markers)s %(limit)s %%",
        {
            "markers": either(rule.markers),
            "limit": limit("≥" if rule.op == ">=" else "≤", rule.threshold_pct),
        },
    )


def name_of(test: SpecTest) -> Text:
    """A test's name in the reader's language where the catalogue knows it (the seed names are marked N_ in
    release.reference); a site's own name as written."""
    return known_text(test.name)


# --- editing a draft's limits ---------------------------------------------------------------------


def editable_fields(spec: Specification) -> list[tuple[SpecTest, list[tuple[str, str, str]]]]:
    """Per test, the (field name, label, current text) a draft form shows: numeric min and max, each
    panel rule's threshold, the interim values a qualitative test accepts for conditional release."""
    out = []
    for test in spec.tests:
        if isinstance(test, NumericTest):
            fields = [
                (f"{test.code}__min", t("Minimum (%(unit)s)", unit=test.unit), _num(test.min)),
                (f"{test.code}__max", t("Maximum (%(unit)s)", unit=test.unit), _num(test.max)),
            ]
        elif isinstance(test, MarkerPanelTest):
            fields = [
                (
                    f"{test.code}__r{i}",
                    Text("%(markers)s %(op)s (%%)", {"markers": either(r.markers), "op": r.op}),
                    _num(r.threshold_pct),
                )
                for i, r in enumerate(test.rules)
            ]
        else:
            fields = [
                (
                    f"{test.code}__conditional",
                    t("Interim results accepted for conditional release (comma-separated; empty: none)"),
                    ", ".join(test.conditional),
                )
            ]
        out.append((test, fields))
    return out


def edited_specification(
    spec: Specification, edits: Mapping[str, str]
) -> tuple[Specification, dict[str, str]]:
    """`spec` with the limits typed in `edits` (names as editable_fields gives them), and the input errors
    by field name (empty: every limit is possible)."""
    errors: dict[str, str] = {}
    tests = tuple(_edited_test(test, edits, errors) for test in spec.tests)
    return replace(spec, tests=tests), errors


def _num(value: float | None) -> str:
    # A Figure: the limit reads "0,5" in a French form; what comes back is read by release.blueprint.typed_number.
    return "" if value is None else figure(value)


def _parse(raw: str | None, field: str, errors: dict[str, str], percent: bool) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[field] = t("'%(value)s' is not a number.", value=text)
        return None
    if not number.is_finite() or (percent and not 0 <= number <= 100):
        errors[field] = (
            t("%(value)s is not a possible percentage (0–100).", value=figure(text))
            if percent
            else t("Not a number.")
        )
        return None
    return float(number)


def _edited_test(test: SpecTest, edits: Mapping[str, str], errors: dict[str, str]) -> SpecTest:
    if isinstance(test, NumericTest):
        low = _parse(edits.get(f"{test.code}__min"), f"{test.code}__min", errors, test.unit == PERCENT)
        high = _parse(edits.get(f"{test.code}__max"), f"{test.code}__max", errors, test.unit == PERCENT)
        if low is not None and high is not None and low > high:
            errors[f"{test.code}__max"] = t("The maximum is below the minimum.")
        if (
            low is None
            and high is None
            and f"{test.code}__min" not in errors
            and f"{test.code}__max" not in errors
        ):
            errors[f"{test.code}__min"] = t("Give a minimum, a maximum or both.")
        return replace(test, min=low, max=high)
    if isinstance(test, MarkerPanelTest):
        rules = []
        for i, rule in enumerate(test.rules):
            name = f"{test.code}__r{i}"
            value = _parse(edits.get(name), name, errors, True)
            if value is None and name not in errors:
                errors[name] = t("A threshold is required.")
            rules.append(replace(rule, threshold_pct=rule.threshold_pct if value is None else value))
        return replace(test, rules=tuple(rules))
    assert isinstance(test, QualitativeTest)
    raw = edits.get(f"{test.code}__conditional", "")
    values = tuple(v.strip() for v in (raw or "").split(",") if v.strip())
    if any(v.casefold() == test.expected.casefold() for v in values):
        errors[f"{test.code}__conditional"] = t(
            "'%(value)s' is the final result, not an interim one.", value=test.expected
        )
    elif test.terms:
        interim = [x.term for x in test.terms if x.interim]
        wrong = [v for v in values if (term := test.term_of(v)) is None or not term.interim]
        if wrong:
            errors[f"{test.code}__conditional"] = t(
                "Not an interim result of %(test)s: %(values)s. Interim terms: %(terms)s.",
                test=name_of(test),
                values=", ".join(wrong),
                terms=", ".join(interim) or t("none"),
            )
        else:
            values = tuple(test.term_of(v).term for v in values)
    return replace(test, conditional=values)
