"""Status workflows as pure tables: which transitions exist, who may take them, what they require.

Domain `states.py` modules declare a `Workflow` (its states stated once: models build their CHECK
constraint from `workflow.states`); `bank.status.change_status` is the one function that enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
        for t in self.transitions:
            if t.source not in self.states or t.target not in self.states:
                raise ValueError(f"{self.name}: transition {t.source}->{t.target} uses an unknown state")
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")

    def find(self, source: str, target: str) -> Transition | None:
        for t in self.transitions:
            if t.source == source and t.target == target:
                return t
        return None

    def targets_from(self, source: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.source == source)

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
    t = workflow.find(source, target)
    if t is None:
        allowed = ", ".join(workflow.label(x.target) for x in workflow.targets_from(source)) or "none"
        return TransitionCheck(
            None,
            (
                Problem(
                    "workflow.not_allowed",
                    f"A {workflow.name} cannot go from '{workflow.label(source)}' to '{workflow.label(target)}' "
                    f"(possible from here: {allowed}).",
                    f"{source} -> {target}",
                ),
            ),
        )
    problems = []
    if t.permission not in permissions:
        problems.append(
            Problem(
                "workflow.permission",
                f"You do not hold the permission '{t.permission}' needed for this step.",
                t.permission,
            )
        )
    if t.signature_meaning and not has_signature:
        problems.append(
            Problem(
                "workflow.signature",
                f"An electronic signature ('{t.signature_meaning}') is required.",
                t.signature_meaning,
                "signature_password",
            )
        )
    if t.reason_required and not (reason or "").strip():
        problems.append(Problem("workflow.reason", "A reason is required for this step.", "", "reason"))
    return TransitionCheck(t, tuple(problems))
