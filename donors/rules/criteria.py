"""Donor screening criteria as versioned data (DOMAIN.md §2): the shape of a criteria set, its
consistency checks and its JSON form. Pure.

Every threshold (50 kg, 5 days, 90 and 365 days, the 0..+7 day serology window of 2006/17/EC
Annex II 2.5 / 21 CFR 1271.80(b)) is a parameter of a set (the seed is in `donors.reference`), never
a constant of the eligibility rules; sets round-trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bank.i18n import N_, t

# Evidence kinds: what a criterion is judged on (DOMAIN.md §2, column "evidence").
MEASUREMENT = "measurement"  # a number measured at donation (weight)
SEROLOGY = "serology"  # infectious-marker results in the sample window
CLINICAL_CURRENT = "clinical_current"  # a clinical state now (questionnaire)
HISTORY = "history"  # a past event, lifetime or within look-back days (questionnaire, optional date)
MEDICATION = "medication"  # courses with start/stop dates (plus a questionnaire item)
EXAM_FINDING = "exam_finding"  # physical examination finding
STATUS = "status"  # pregnancy, legal status
EVIDENCE_KINDS = frozenset(
    {MEASUREMENT, SEROLOGY, CLINICAL_CURRENT, HISTORY, MEDICATION, EXAM_FINDING, STATUS}
)

# Look-back: over which period the evidence counts.
LOOK_BACKS = frozenset(
    {"at_donation", "sample_window", "current", "days", "lifetime", "at_examination", "at_consent"}
)

# How the stored kinds, look-backs and parameter names read on a page (the keys stay in the JSON).
EVIDENCE_NAMES = {
    MEASUREMENT: N_("measurement"),
    SEROLOGY: N_("serology"),
    CLINICAL_CURRENT: N_("current clinical state"),
    HISTORY: N_("history"),
    MEDICATION: N_("medication"),
    EXAM_FINDING: N_("examination finding"),
    STATUS: N_("status"),
}
LOOK_BACK_NAMES = {
    "at_donation": N_("at donation"),
    "sample_window": N_("sample window"),
    "current": N_("current"),
    "days": N_("days before the harvest"),
    "lifetime": N_("lifetime"),
    "at_examination": N_("at examination"),
    "at_consent": N_("at consent"),
}
PARAM_NAMES = {
    "min_weight_kg": N_("minimum weight (kg)"),
    "lookback_days": N_("look-back (days)"),
    "max_days": N_("maximum days of treatment"),
    "markers": N_("markers"),
    "medication_kind": N_("medication kind"),
}

ParamValue = int | float | str | tuple[str, ...]


@dataclass(frozen=True)
class Criterion:
    """One exclusion: stable `rule_id`, plain-language `text`, regulatory `anchor`, `evidence` kind.

    `question_id` names the questionnaire item that answers it (None for weight and serology).
    `params` holds every number or name the rule needs, as (name, value) pairs, e.g.
    ("min_weight_kg", 50), ("lookback_days", 90), ("max_days", 5), ("markers", ("HIV",)).
    """

    rule_id: str
    text: str
    anchor: str
    evidence: str
    look_back: str
    question_id: str | None = None
    params: tuple[tuple[str, ParamValue], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        """Value of parameter `name`, or `default` when the criterion does not define it."""
        return dict(self.params).get(name, default)


@dataclass(frozen=True)
class Question:
    """A screening question in display order; `asks_date` means the form asks the date of the event.

    Questions of MEDICATION criteria are completed by Medication courses (kind, name, start, stop).
    """

    question_id: str
    text: str
    asks_date: bool = False


@dataclass(frozen=True)
class SerologyMarker:
    """An infectious marker the lab can report, judged under criterion `rule_id`.

    `excludes_if_positive` is False for markers that are recorded only (IgG).
    `confirmed_by`: a positive (or indeterminate) result of this marker is cleared by a negative
    result of that marker (reactive non-treponemal syphilis screen vs treponemal confirmation).
    `cleared_if_negative`: a positive result is cleared when that marker is negative AND a risk
    assessment is documented (anti-HBc positive with HBsAg negative).
    """

    marker: str
    name: str
    rule_id: str
    excludes_if_positive: bool = True
    confirmed_by: str | None = None
    cleared_if_negative: str | None = None


@dataclass(frozen=True)
class CriteriaSet:
    """A versioned criteria set: criteria, questionnaire, marker catalogue and serology window.

    The serology sample counts when drawn from harvest − `sample_days_before` to harvest +
    `sample_days_after`, both days included. Construction checks internal consistency
    (unique ids, references resolve, required parameters present) and raises ValueError.
    """

    name: str
    version: int
    criteria: tuple[Criterion, ...]
    questions: tuple[Question, ...]
    markers: tuple[SerologyMarker, ...]
    required_markers: tuple[str, ...]
    sample_days_before: int = 0
    sample_days_after: int = 7

    def __post_init__(self) -> None:
        problems = _consistency_problems(self)
        if problems:
            raise ValueError(f"criteria set {self.name!r} v{self.version}: " + "; ".join(problems))

    @property
    def label(self) -> str:
        """Display name with version, e.g. "SSc adipose donor v1"."""
        return f"{self.name} v{self.version}"

    def criterion(self, rule_id: str) -> Criterion:
        """The criterion with `rule_id`; KeyError if absent."""
        return {c.rule_id: c for c in self.criteria}[rule_id]

    def marker(self, marker: str) -> SerologyMarker:
        """The marker with id `marker`; KeyError if absent."""
        return {m.marker: m for m in self.markers}[marker]

    def question(self, question_id: str) -> Question:
        """The question with `question_id`; KeyError if absent."""
        return {q.question_id: q for q in self.questions}[question_id]

    def criterion_for_question(self, question_id: str) -> Criterion:
        """The criterion answered by question `question_id`; KeyError if none."""
        return {c.question_id: c for c in self.criteria if c.question_id}[question_id]

    @property
    def medication_kinds(self) -> tuple[str, ...]:
        """Medication kinds the set judges (e.g. "corticosteroid", "lithium"), plus "other"."""
        kinds = [c.param("medication_kind") for c in self.criteria if c.evidence == MEDICATION]
        return (*kinds, N_("other"))


def _consistency_problems(cs: CriteriaSet) -> list[str]:
    problems: list[str] = []
    rule_ids = [c.rule_id for c in cs.criteria]
    question_ids = [q.question_id for q in cs.questions]
    marker_ids = [m.marker for m in cs.markers]
    for label, ids in (("rule id", rule_ids), ("question id", question_ids), ("marker", marker_ids)):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            problems.append(f"duplicate {label} {', '.join(duplicates)}")
    if cs.sample_days_before < 0 or cs.sample_days_after < 0:
        problems.append("sample window days must be >= 0")
    asked = [c.question_id for c in cs.criteria if c.question_id]
    for qid in set(question_ids) - set(asked):
        problems.append(f"question {qid} answers no criterion")
    for c in cs.criteria:
        problems += _criterion_problems(cs, c, question_ids, asked)
    for m in cs.markers:
        problems += _marker_problems(cs, m, rule_ids)
    for m in cs.required_markers:
        if m not in marker_ids:
            problems.append(f"required marker {m} not in the catalogue")
    return problems


def _criterion_problems(
    cs: CriteriaSet, c: Criterion, question_ids: list[str], asked: list[str]
) -> list[str]:
    """One criterion's own shape (evidence kind, look-back, parameters), then its links to the set."""
    problems: list[str] = []
    if c.evidence not in EVIDENCE_KINDS:
        problems.append(f"{c.rule_id}: unknown evidence kind {c.evidence!r}")
    if c.look_back not in LOOK_BACKS:
        problems.append(f"{c.rule_id}: unknown look-back {c.look_back!r}")
    if c.look_back == "days" and not isinstance(c.param("lookback_days"), int):
        problems.append(f"{c.rule_id}: look-back in days needs an integer lookback_days")
    if c.question_id and c.question_id not in question_ids:
        problems.append(f"{c.rule_id}: unknown question {c.question_id}")
    if asked.count(c.question_id) > 1:
        problems.append(f"{c.rule_id}: question {c.question_id} answers several criteria")
    return problems + _criterion_evidence_problems(cs, c)


def _criterion_evidence_problems(cs: CriteriaSet, c: Criterion) -> list[str]:
    """What a criterion's kind of evidence needs: its parameters, a question, its markers catalogued."""
    needs = {
        MEASUREMENT: ("min_weight_kg",),
        SEROLOGY: ("markers",),
        MEDICATION: ("medication_kind",),
    }.get(c.evidence, ())
    problems = [f"{c.rule_id}: missing parameter {p}" for p in needs if c.param(p) is None]
    if c.evidence in (CLINICAL_CURRENT, HISTORY, EXAM_FINDING, STATUS, MEDICATION) and not c.question_id:
        problems.append(f"{c.rule_id}: {c.evidence} criterion needs a question")
    if c.evidence == MEDICATION and c.look_back == "days" and c.param("max_days") is None:
        problems.append(f"{c.rule_id}: missing parameter max_days")
    marker_ids = [m.marker for m in cs.markers]
    for m in c.param("markers", ()) if c.evidence == SEROLOGY else ():
        if m not in marker_ids or cs.marker(m).rule_id != c.rule_id:
            problems.append(f"{c.rule_id}: marker {m} not in the catalogue under this rule")
    return problems


def _marker_problems(cs: CriteriaSet, m: SerologyMarker, rule_ids: list[str]) -> list[str]:
    """A catalogue marker names a rule that lists it, and markers that exist."""
    problems: list[str] = []
    if m.rule_id not in rule_ids:
        problems.append(f"marker {m.marker}: unknown rule {m.rule_id}")
    elif m.marker not in cs.criterion(m.rule_id).param("markers", ()):
        problems.append(f"marker {m.marker}: not listed in the markers of {m.rule_id}")
    marker_ids = [x.marker for x in cs.markers]
    for ref in (m.confirmed_by, m.cleared_if_negative):
        if ref is not None and ref not in marker_ids:
            problems.append(f"marker {m.marker}: unknown marker {ref}")
    return problems


# --- serialisation -----------------------------------------------------------------------------

FORMAT = 1  # version of the dict layout below, not of the criteria


def criteria_set_to_dict(cs: CriteriaSet) -> dict[str, Any]:
    """JSON-compatible dict (only str, int, float, bool, None, list, dict) describing `cs` fully."""
    return {
        "format": FORMAT,
        "name": cs.name,
        "version": cs.version,
        "sample_window": {"days_before": cs.sample_days_before, "days_after": cs.sample_days_after},
        "required_markers": list(cs.required_markers),
        "markers": [
            {
                "marker": m.marker,
                "name": m.name,
                "rule_id": m.rule_id,
                "excludes_if_positive": m.excludes_if_positive,
                "confirmed_by": m.confirmed_by,
                "cleared_if_negative": m.cleared_if_negative,
            }
            for m in cs.markers
        ],
        "questions": [
            {"question_id": q.question_id, "text": q.text, "asks_date": q.asks_date} for q in cs.questions
        ],
        "criteria": [
            {
                "rule_id": c.rule_id,
                "text": c.text,
                "anchor": c.anchor,
                "evidence": c.evidence,
                "look_back": c.look_back,
                "question_id": c.question_id,
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in c.params},
            }
            for c in cs.criteria
        ],
    }


def criteria_set_from_dict(d: dict[str, Any]) -> CriteriaSet:
    """Inverse of `criteria_set_to_dict`; ValueError on an unknown format or an inconsistent set."""
    if d.get("format") != FORMAT:
        raise ValueError(f"unsupported criteria set format {d.get('format')!r}")
    try:
        return CriteriaSet(
            name=d["name"],
            version=int(d["version"]),
            sample_days_before=int(d["sample_window"]["days_before"]),
            sample_days_after=int(d["sample_window"]["days_after"]),
            required_markers=tuple(d["required_markers"]),
            markers=tuple(SerologyMarker(**m) for m in d["markers"]),
            questions=tuple(Question(**q) for q in d["questions"]),
            criteria=tuple(
                Criterion(
                    **{k: v for k, v in c.items() if k != "params"},
                    params=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in c["params"].items()),
                )
                for c in d["criteria"]
            ),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed criteria set: {exc}") from exc


# --- a new version's thresholds -----------------------------------------------------------------

# Numbers QA may change when drafting a new version, with their plausible range (impossible values
# are refused; anything in range is a QA decision recorded with the version).
EDITABLE_PARAMS = {"min_weight_kg": (1, 200), "lookback_days": (1, 36500), "max_days": (0, 3650)}
MAX_WINDOW_DAYS = 30


def editable_thresholds(cs: CriteriaSet) -> list[tuple[str, Criterion, str, float]]:
    """(key "RULE-ID.param", criterion, parameter, value) for every threshold QA may change."""
    return [(f"{c.rule_id}.{k}", c, k, v) for c in cs.criteria for k, v in c.params if k in EDITABLE_PARAMS]


def threshold_errors(
    cs: CriteriaSet,
    thresholds: dict[str, float | None],
    before: int | None,
    after: int | None,
    note: str | None,
) -> dict[str, str]:
    """Input errors of a new version drafted from `cs`: keys "RULE-ID.param", window_before,
    window_after, note."""
    errors = {}
    known = {key for key, *_ in editable_thresholds(cs)}
    for key, value in thresholds.items():
        low, high = EDITABLE_PARAMS.get(key.rsplit(".", 1)[-1], (0, 0))
        if key not in known:
            errors[key] = t("not a threshold of this criteria set")
        elif value is None or not (low <= value <= high):
            errors[key] = t("must be between %(low)s and %(high)s", low=low, high=high)
    for name, days in (("window_before", before), ("window_after", after)):
        if days is None or not (0 <= days <= MAX_WINDOW_DAYS):
            errors[name] = t("must be between 0 and %(max)s days", max=MAX_WINDOW_DAYS)
    if not (note or "").strip():
        errors["note"] = t("say what changes in this version and why")
    elif len(note) > 500:
        errors["note"] = t("at most %(max)s characters", max=500)
    return errors


def with_thresholds(
    cs: CriteriaSet, number: int, thresholds: dict[str, float], before: int, after: int
) -> CriteriaSet:
    """Version `number` of `cs` with the new thresholds and window; ValueError if inconsistent."""
    return replace(
        cs,
        version=number,
        criteria=tuple(_with_params(c, thresholds) for c in cs.criteria),
        sample_days_before=before,
        sample_days_after=after,
    )


def _with_params(c: Criterion, thresholds: dict[str, float]) -> Criterion:
    params = []
    for k, v in c.params:
        key = f"{c.rule_id}.{k}"
        if k in EDITABLE_PARAMS and key in thresholds:
            v = thresholds[key]
            # Day counts stay whole numbers (the rules compare whole days); 50.0 kg is stored as 50.
            v = int(v) if k != "min_weight_kg" or float(v).is_integer() else float(v)
        params.append((k, v))
    return replace(c, params=tuple(params))
