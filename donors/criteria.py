"""Donor screening criteria as versioned data: the seed set "SSc adipose donor v1" (DOMAIN.md §2).

Every threshold (50 kg, 5 days, 90 and 365 days, the 0..+7 day serology window of 2006/17/EC
Annex II 2.5 / 21 CFR 1271.80(b)) lives here, never in `donors.rules`; sets round-trip through JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
        return (*kinds, "other")


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
        needs = {
            MEASUREMENT: ("min_weight_kg",),
            SEROLOGY: ("markers",),
            MEDICATION: ("medication_kind",),
        }.get(c.evidence, ())
        problems += [f"{c.rule_id}: missing parameter {p}" for p in needs if c.param(p) is None]
        if c.evidence in (CLINICAL_CURRENT, HISTORY, EXAM_FINDING, STATUS, MEDICATION) and not c.question_id:
            problems.append(f"{c.rule_id}: {c.evidence} criterion needs a question")
        if c.evidence == MEDICATION and c.look_back == "days" and c.param("max_days") is None:
            problems.append(f"{c.rule_id}: missing parameter max_days")
        for m in c.param("markers", ()) if c.evidence == SEROLOGY else ():
            if m not in marker_ids or cs.marker(m).rule_id != c.rule_id:
                problems.append(f"{c.rule_id}: marker {m} not in the catalogue under this rule")
    for m in cs.markers:
        if m.rule_id not in rule_ids:
            problems.append(f"marker {m.marker}: unknown rule {m.rule_id}")
        elif m.marker not in cs.criterion(m.rule_id).param("markers", ()):
            problems.append(f"marker {m.marker}: not listed in the markers of {m.rule_id}")
        for ref in (m.confirmed_by, m.cleared_if_negative):
            if ref is not None and ref not in marker_ids:
                problems.append(f"marker {m.marker}: unknown marker {ref}")
    for m in cs.required_markers:
        if m not in marker_ids:
            problems.append(f"required marker {m} not in the catalogue")
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


# --- seed set: SSc adipose donor v1 (NCT05947682 bank; DOMAIN.md §2) ----------------------------

_SER = "2006/17/EC Annex II; 21 CFR 1271.85"
_IGM = "2006/17/EC Annex II 1.5"
_TSE = "TSE risk, 2006/17/EC Annex I"


def _q(
    rule_id: str, text: str, anchor: str, evidence: str, look_back: str, qid: str, **params: ParamValue
) -> Criterion:
    return Criterion(rule_id, text, anchor, evidence, look_back, qid, tuple(params.items()))


def _ser(rule_id: str, text: str, anchor: str, *markers: str) -> Criterion:
    return Criterion(rule_id, text, anchor, SEROLOGY, "sample_window", None, (("markers", markers),))


# One entry per line of the DOMAIN.md §2 table; kept unformatted so the set reads as that table.
# fmt: off
_CRITERIA = (
    Criterion("DON-WEIGHT", "Weight below 50 kg at donation", "blood-donor rule, Directive 2004/33/EC",
              MEASUREMENT, "at_donation", None, (("min_weight_kg", 50),)),
    _ser("DON-SER-HIV", "Positive HIV-1/2 test", _SER, "HIV"),
    _ser("DON-SER-HBSAG", "Positive hepatitis B surface antigen (HBsAg)", _SER, "HBSAG"),
    _ser("DON-SER-ANTI-HBC", "Positive anti-HBc (cleared only with HBsAg negative and a documented "
         "risk assessment)", _SER, "ANTI_HBC"),
    _ser("DON-SER-HCV", "Positive hepatitis C test", _SER, "HCV"),
    _ser("DON-SER-SYPHILIS", "Positive syphilis test (a reactive non-treponemal screen with a "
         "non-reactive treponemal confirmation does not exclude)", _SER, "SYPH_TREP", "SYPH_NONTREP"),
    _ser("DON-SER-HTLV", "Positive HTLV-I/II test", _SER, "HTLV"),
    _ser("DON-SER-HEV", "Positive hepatitis E test", "trial-specific (SSc MSC(AT) bank, NCT05947682)", "HEV"),
    _ser("DON-SER-TOXO", "Active toxoplasmosis (IgM positive)", _IGM, "TOXO_IGM", "TOXO_IGG"),
    _ser("DON-SER-EBV", "Active Epstein-Barr virus infection (IgM positive)", _IGM, "EBV_IGM", "EBV_IGG"),
    _ser("DON-SER-CMV", "Active cytomegalovirus infection (IgM positive)", _IGM, "CMV_IGM", "CMV_IGG"),
    _q("DON-CLIN-INFECTION", "Active generalised infection (viral, parasitic, tuberculosis, leprosy)",
       "2006/17/EC Annex I 1.1.5", CLINICAL_CURRENT, "current", "Q-INFECTION"),
    _q("DON-HX-HYPERTENSION", "Uncontrolled hypertension within the past 12 months", "donor safety",
       HISTORY, "days", "Q-HYPERTENSION", lookback_days=365),
    _q("DON-HX-DURA", "Human dura mater transplant", _TSE, HISTORY, "lifetime", "Q-DURA"),
    _q("DON-HX-CNS-SURGERY", "Surgery of the central nervous system", _TSE + " (undocumented neurosurgery)",
       HISTORY, "lifetime", "Q-CNS-SURGERY"),
    _q("DON-HX-DEMENTIA", "Dementia or neurological disease that may evoke a subacute spongiform "
       "encephalopathy", _TSE, HISTORY, "lifetime", "Q-DEMENTIA"),
    _q("DON-HX-CJD-FAMILY", "Family history of subacute spongiform encephalopathy (CJD)", _TSE,
       HISTORY, "lifetime", "Q-CJD-FAMILY"),
    _q("DON-HX-HAEM-MALIGNANCY", "Haematological malignancy", "2006/17/EC Annex I 1.1.3",
       HISTORY, "lifetime", "Q-HAEM-MALIGNANCY"),
    _q("DON-HX-CANCER", "Active or past cancer", "2006/17/EC Annex I 1.1.3", HISTORY, "lifetime", "Q-CANCER"),
    _q("DON-HX-CHEMO-RT", "Chemotherapy or irradiation", "follows the malignancy rule, "
       "2006/17/EC Annex I 1.1.3", HISTORY, "lifetime", "Q-CHEMO-RT"),
    _q("DON-HX-AUTOIMMUNE", "Systemic or autoimmune disease", "2006/17/EC Annex I 1.1.7",
       HISTORY, "lifetime", "Q-AUTOIMMUNE"),
    _q("DON-EXAM-ADENOPATHY", "Multiple adenopathy on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-ADENOPATHY"),
    _q("DON-EXAM-SPLENOMEGALY", "Splenomegaly on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-SPLENOMEGALY"),
    _q("DON-EXAM-HEPATOMEGALY", "Hepatomegaly on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-HEPATOMEGALY"),
    _q("DON-EXAM-ICTERUS", "Icterus on examination", "signs of transmissible disease",
       EXAM_FINDING, "at_examination", "Q-EXAM-ICTERUS"),
    _q("DON-HX-HAEMOPHILIA", "Haemophilia", "coagulopathy; clotting-factor exposure",
       HISTORY, "lifetime", "Q-HAEMOPHILIA"),
    _q("DON-HX-IDDM", "Known insulin-dependent diabetes", "blood-donor deferral [check]",
       HISTORY, "current", "Q-IDDM"),
    _q("DON-HX-PITUITARY", "Treatment with extractive pituitary hormones, growth hormone included", _TSE,
       HISTORY, "lifetime", "Q-PITUITARY"),
    _q("DON-MED-STEROID", "Steroid therapy for more than 5 days in the past 3 months", "trial-specific",
       MEDICATION, "days", "Q-STEROID", medication_kind="corticosteroid", lookback_days=90, max_days=5),
    _q("DON-MED-LITHIUM", "Lithium treatment", "trial-specific", MEDICATION, "current", "Q-LITHIUM",
       medication_kind="lithium"),
    _q("DON-STATUS-PREGNANCY", "Pregnancy", "trial-specific", STATUS, "at_donation", "Q-PREGNANCY"),
    _q("DON-STATUS-DEPRIVED", "Deprived of freedom (under legal protection)", "French research law",
       STATUS, "at_consent", "Q-DEPRIVED"),
)

_QUESTIONS = (
    Question("Q-INFECTION", "Do you currently have an infection such as a viral or parasitic infection, "
             "tuberculosis or leprosy?"),
    Question("Q-HYPERTENSION", "Have you had uncontrolled high blood pressure? If yes, date of the most "
             "recent episode.", asks_date=True),
    Question("Q-DURA", "Have you ever received a dura mater (brain membrane) graft?"),
    Question("Q-CNS-SURGERY", "Have you ever had surgery on the brain or spinal cord?"),
    Question("Q-DEMENTIA", "Have you been diagnosed with dementia or a neurological disease that may "
             "suggest a spongiform encephalopathy?"),
    Question("Q-CJD-FAMILY", "Has anyone in your family had Creutzfeldt-Jakob disease or another "
             "spongiform encephalopathy?"),
    Question("Q-HAEM-MALIGNANCY", "Have you ever had a blood cancer (leukaemia, lymphoma, myeloma)?"),
    Question("Q-CANCER", "Do you have, or have you ever had, cancer?"),
    Question("Q-CHEMO-RT", "Have you ever received chemotherapy or radiotherapy?"),
    Question("Q-AUTOIMMUNE", "Do you have a systemic or autoimmune disease?"),
    Question("Q-HAEMOPHILIA", "Do you have haemophilia?"),
    Question("Q-IDDM", "Do you have diabetes treated with insulin?"),
    Question("Q-PITUITARY", "Have you ever been treated with pituitary-extract hormones, growth hormone "
             "included?"),
    Question("Q-STEROID", "In the past 3 months, have you taken corticosteroid (steroid) tablets or "
             "injections? If yes, record each course with its start and stop dates."),
    Question("Q-LITHIUM", "Are you currently treated with lithium?"),
    Question("Q-PREGNANCY", "Are you pregnant?"),
    Question("Q-DEPRIVED", "Are you deprived of freedom by a judicial or administrative decision, or "
             "under legal protection?"),
    Question("Q-EXAM-ADENOPATHY", "Examination: multiple enlarged lymph nodes?"),
    Question("Q-EXAM-SPLENOMEGALY", "Examination: enlarged spleen?"),
    Question("Q-EXAM-HEPATOMEGALY", "Examination: enlarged liver?"),
    Question("Q-EXAM-ICTERUS", "Examination: jaundice (icterus)?"),
)

_MARKERS = (
    SerologyMarker("HIV", "HIV-1/2", "DON-SER-HIV"),
    SerologyMarker("HBSAG", "HBsAg", "DON-SER-HBSAG"),
    SerologyMarker("ANTI_HBC", "anti-HBc", "DON-SER-ANTI-HBC", cleared_if_negative="HBSAG"),
    SerologyMarker("HCV", "HCV", "DON-SER-HCV"),
    SerologyMarker("SYPH_TREP", "syphilis treponemal test", "DON-SER-SYPHILIS"),
    SerologyMarker("SYPH_NONTREP", "syphilis non-treponemal screen", "DON-SER-SYPHILIS",
                   confirmed_by="SYPH_TREP"),
    SerologyMarker("HTLV", "HTLV-I/II", "DON-SER-HTLV"),
    SerologyMarker("HEV", "HEV", "DON-SER-HEV"),
    SerologyMarker("TOXO_IGM", "toxoplasmosis IgM", "DON-SER-TOXO"),
    SerologyMarker("TOXO_IGG", "toxoplasmosis IgG", "DON-SER-TOXO", excludes_if_positive=False),
    SerologyMarker("EBV_IGM", "EBV IgM", "DON-SER-EBV"),
    SerologyMarker("EBV_IGG", "EBV IgG", "DON-SER-EBV", excludes_if_positive=False),
    SerologyMarker("CMV_IGM", "CMV IgM", "DON-SER-CMV"),
    SerologyMarker("CMV_IGG", "CMV IgG", "DON-SER-CMV", excludes_if_positive=False),
)
# fmt: on

SSC_ADIPOSE_DONOR_V1 = CriteriaSet(
    name="SSc adipose donor",
    version=1,
    criteria=_CRITERIA,
    questions=_QUESTIONS,
    markers=_MARKERS,
    # IgG and the non-treponemal screen are recorded when done but not required.
    required_markers=(
        "HIV",
        "HBSAG",
        "ANTI_HBC",
        "HCV",
        "SYPH_TREP",
        "HTLV",
        "HEV",
        "TOXO_IGM",
        "EBV_IGM",
        "CMV_IGM",
    ),
    sample_days_before=0,
    sample_days_after=7,
)
