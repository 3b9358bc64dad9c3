"""Status workflows as pure tables: which transitions exist, who may take them, what they require.

Domain `states.py` modules declare a `Workflow`; `bank.status.change_status` enforces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    problems: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.problems


def check_transition(workflow: Workflow, source: str, target: str, permissions: frozenset[str],
                     has_signature: bool, reason: str | None) -> TransitionCheck:
    """Every reason the transition source → target cannot be taken now (empty when it can)."""
    t = workflow.find(source, target)
    if t is None:
        allowed = ", ".join(x.target for x in workflow.targets_from(source)) or "none"
        return TransitionCheck(None, (
            f"{workflow.name}: cannot go from '{workflow.label(source)}' to '{workflow.label(target)}' "
            f"(allowed from here: {allowed})",))
    problems = []
    if t.permission not in permissions:
        problems.append(f"you do not hold the permission '{t.permission}' needed for this step")
    if t.signature_meaning and not has_signature:
        problems.append(f"an electronic signature ('{t.signature_meaning}') is required")
    if t.reason_required and not (reason or "").strip():
        problems.append("a reason is required")
    return TransitionCheck(t, tuple(problems))
