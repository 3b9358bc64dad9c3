"""Status workflows as pure tables: which transitions exist, who may take them, what they require.

Domain `states.py` modules declare a `Workflow` (its states stated once: models build their CHECK
constraint from `workflow.states`); `bank.status.change_status` is the one function that enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bank.i18n import Text, joined, t
from bank.refusals import Problem


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    permission: str
    signature_meaning: str | None = None  # e-signature required, with this meaning
    reason_required: bool = False
    label: str = ""


@dataclass(frozen=True)
class Workflow:
    name: str
    states: tuple[str, ...]
    initial: str
    transitions: tuple[Transition, ...]
    labels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        for step in self.transitions:
            if step.source not in self.states or step.target not in self.states:
                raise ValueError(
                    f"{self.name}: transition {step.source}->{step.target} uses an unknown state"
                )
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")

    def find(self, source: str, target: str) -> Transition | None:
        for step in self.transitions:
            if step.source == source and step.target == target:
                return step
        return None

    def targets_from(self, source: str) -> tuple[Transition, ...]:
        return tuple(step for step in self.transitions if step.source == source)

    def label(self, state: str) -> str:
        return self.labels.get(state, state.replace("_", " "))


@dataclass(frozen=True)
class TransitionCheck:
    transition: Transition | None
    problems: tuple[Problem, ...]

    @property
    def allowed(self) -> bool:
        return not self.problems


def check_transition(
    workflow: Workflow,
    source: str,
    target: str,
    permissions: frozenset[str],
    has_signature: bool,
    reason: str | None,
) -> TransitionCheck:
    """Every reason the transition source → target cannot be taken now (empty when it can)."""
    step = workflow.find(source, target)
    if step is None:
        # The record's kind and the status words are stable texts of the tables, translated where shown.
        targets = [Text(workflow.label(x.target)) for x in workflow.targets_from(source)]
        return TransitionCheck(
            None,
            (
                Problem(
                    "workflow.not_allowed",
                    t(
                        "A %(record)s cannot go from '%(source)s' to '%(target)s' (possible from here: %(possible)s).",
                        record=Text(workflow.name),
                        source=Text(workflow.label(source)),
                        target=Text(workflow.label(target)),
                        possible=joined(targets, ", ") if targets else t("none"),
                    ),
                    f"{source} -> {target}",
                ),
            ),
        )
    problems = []
    if step.permission not in permissions:
        problems.append(
            Problem(
                "workflow.permission",
                t(
                    "You do not hold the permission '%(permission)s' needed for this step.",
                    permission=step.permission,
                ),
                step.permission,
            )
        )
    if step.signature_meaning and not has_signature:
        problems.append(
            Problem(
                "workflow.signature",
                t(
                    "An electronic signature ('%(meaning)s') is required.",
                    meaning=Text(step.signature_meaning),
                ),
                step.signature_meaning,
                "signature_password",
            )
        )
    if step.reason_required and not (reason or "").strip():
        problems.append(Problem("workflow.reason", t("A reason is required for this step."), "", "reason"))
    return TransitionCheck(step, tuple(problems))
