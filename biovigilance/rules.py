"""Adverse event decisions, pure (DOMAIN.md §8; Directive 2006/86/EC Annexes II-IV; FACT-JACIE).

The scales are the usual ones: seriousness criteria of 2006/86/EC and ICH E2A, severity graded as in
CTCAE (1 mild to 5 death), outcome, and imputability of a reaction to the cells from "not assessable"
to "definite". Every function returns every problem it finds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bank.i18n import N_, t
from bank.refusals import Problem

# Stored values (stable) with the words people read (translated where shown).
SERIOUSNESS = {
    "death": N_("death"),
    "life_threatening": N_("life-threatening"),
    "hospitalisation": N_("hospitalisation or its prolongation"),
    "disability": N_("disability or incapacity"),
    "transmission": N_("transmission of a communicable disease"),
    "medically_important": N_("other medically important condition"),
}
GRADES = {
    1: N_("grade 1 (mild)"),
    2: N_("grade 2 (moderate)"),
    3: N_("grade 3 (severe)"),
    4: N_("grade 4 (life-threatening)"),
    5: N_("grade 5 (death)"),
}
OUTCOMES = {
    "recovering": N_("recovering"),
    "recovered": N_("recovered"),
    "recovered_with_sequelae": N_("recovered with sequelae"),
    "not_recovered": N_("not recovered"),
    "fatal": N_("fatal"),
    "unknown": N_("unknown"),
}
# In order: the higher, the surer the cells caused it.
IMPUTABILITY = {
    "not_assessable": N_("not assessable"),
    "excluded": N_("excluded"),
    "unlikely": N_("unlikely"),
    "possible": N_("possible"),
    "likely": N_("likely (probable)"),
    "definite": N_("definite (certain)"),
}
RELATED = ("possible", "likely", "definite")  # imputability that makes the other products suspect


@dataclass(frozen=True)
class EventEntry:
    """What a clinician types about an event (the form and the API give the same)."""

    onset_at: datetime | None
    description: str
    seriousness: tuple[str, ...]
    grade: int | None
    outcome: str
    imputability: str


@dataclass(frozen=True)
class EventFacts(EventEntry):
    """What was typed and the linked dose, as plain values: the rules never read the database."""

    infusion_at: datetime | None  # the linked dose's administration; None: no dose linked
    dose_linked: bool = False
    dose_administered: bool = True


def is_related(imputability: str) -> bool:
    return imputability in RELATED


def is_serious(seriousness: Iterable[str], grade: int | None) -> bool:
    """Serious when any seriousness criterion is met; a grade 4 or 5 is serious whatever was ticked."""
    return bool(tuple(seriousness)) or (grade or 0) >= 4


def holds_at_once(seriousness: Iterable[str], grade: int | None, imputability: str) -> bool:
    """A serious reaction judged possibly related or more holds the lot's remaining containers at once."""
    return is_serious(seriousness, grade) and is_related(imputability)


def event_problems(facts: EventFacts) -> list[Problem]:
    """Every reason the event cannot be recorded as typed, each next to its field."""
    problems = []
    if facts.grade is not None and facts.grade not in GRADES:
        problems.append(
            Problem("event.grade", t("The grade must be 1 to 5 (CTCAE)."), str(facts.grade), field="grade")
        )
    if facts.imputability not in IMPUTABILITY:
        problems.append(
            Problem(
                "event.imputability",
                t(
                    "Choose the imputability on the scale: not assessable, excluded, unlikely, possible, likely, definite."
                ),
                facts.imputability,
                field="imputability",
            )
        )
    if facts.outcome not in OUTCOMES:
        problems.append(
            Problem("event.outcome", t("Choose an outcome from the list."), facts.outcome, field="outcome")
        )
    unknown = [s for s in facts.seriousness if s not in SERIOUSNESS]
    if unknown:
        problems.append(
            Problem(
                "event.seriousness",
                t("Unknown seriousness criterion."),
                ", ".join(unknown),
                field="seriousness",
            )
        )
    if facts.dose_linked and not facts.dose_administered:
        problems.append(
            Problem(
                "event.dose_not_administered",
                t("This dose has not been administered: link the event to a dose the patient received."),
                field="dose_id",
            )
        )
    if facts.onset_at is not None and facts.infusion_at is not None and facts.onset_at < facts.infusion_at:
        problems.append(
            Problem(
                "event.onset_before_infusion",
                t("The onset cannot be before the infusion it is linked to."),
                f"{facts.onset_at.isoformat()} < {facts.infusion_at.isoformat()}",
                field="onset_at",
            )
        )
    if ("death" in facts.seriousness or facts.grade == 5) and facts.outcome not in ("fatal", "unknown"):
        problems.append(
            Problem(
                "event.fatal_outcome",
                t("A death (seriousness or grade 5) has the outcome 'fatal'."),
                field="outcome",
            )
        )
    return problems


def time_since_infusion(onset_at: datetime | None, infusion_at: datetime | None) -> timedelta | None:
    if onset_at is None or infusion_at is None:
        return None
    return onset_at - infusion_at


def investigation_problems(conclusion: str, corrective_actions: str) -> list[Problem]:
    """An investigation is closed only with its conclusion and the corrective actions (or 'none')."""
    problems = []
    if not conclusion.strip():
        problems.append(
            Problem("event.conclusion", t("Write the investigation's conclusion."), field="conclusion")
        )
    if not corrective_actions.strip():
        problems.append(
            Problem(
                "event.corrective_actions",
                t("Write the corrective actions, or 'none' with why."),
                field="corrective_actions",
            )
        )
    return problems


@dataclass(frozen=True)
class FollowUpDue:
    """One follow-up visit of a patient: when it is due and whether it was recorded."""

    label: str
    due_on: date
    window_days: int
    recorded_on: date | None

    @property
    def done(self) -> bool:
        return self.recorded_on is not None

    def state(self, today: date) -> str:
        if self.done:
            return "recorded"
        if today > self.due_on + timedelta(days=self.window_days):
            return "overdue"
        if today >= self.due_on - timedelta(days=self.window_days):
            return "due"
        return "planned"


def follow_up_schedule(
    first_dose_on: date | None,
    visits: Iterable[tuple[str, int, int]],
    recorded: dict[str, date],
) -> list[FollowUpDue]:
    """The protocol's follow-up visits (label, weeks after the first dose, window in days) for a patient
    whose first dose was given on `first_dose_on`; nothing is due before the first dose."""
    if first_dose_on is None:
        return []
    return [
        FollowUpDue(label, first_dose_on + timedelta(weeks=weeks), window, recorded.get(label))
        for label, weeks, window in visits
    ]


@dataclass(frozen=True)
class SummaryRow:
    """One line of the annual summary of a protocol (2006/86/EC Art. 7: annual report)."""

    imputability: str
    serious: int
    non_serious: int


def annual_summary(events: Iterable[tuple[bool, str]]) -> list[SummaryRow]:
    """Counts of events per imputability, serious and not, from (serious, imputability) pairs."""
    counts = {key: [0, 0] for key in IMPUTABILITY}
    for serious, imputability in events:
        counts.setdefault(imputability, [0, 0])[0 if serious else 1] += 1
    return [SummaryRow(key, s, n) for key, (s, n) in counts.items()]
