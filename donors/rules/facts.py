"""What the eligibility rules are given about a donor: answers, medication courses, serology results,
gathered as one `DonorFacts` at an evaluation date. Pure, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


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
