"""Status workflows as pure tables: which transitions exist, who may take them, what they require.

Domain `states.py` modules declare a `Workflow` (its states stated once: models build their CHECK
constraint from `workflow.states`); `bank.status.change_status` is the one function that enforces it.
Beside its table, each workflow names every state in words (`labels`, marked for translation) and says
what kind of state it is (`kinds`): the one map the screens and printouts colour status badges from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bank.i18n import N_
from bank.refusals import Problem

# What a state means to the person reading the badge; each kind has one colour (bank/static/app.css) and
# the state's words are always written beside it, so colour is never the only sign.
WAITING, IN_PROGRESS, DONE, BLOCKED, FAILED, ENDED = (
    "waiting",
    "in_progress",
    "done",
    "blocked",
    "failed",
    "ended",
)
STATUS_KINDS = {
    WAITING: N_("waiting"),  # someone has to act next (awaiting QC, awaiting verification, draft)
    IN_PROGRESS: N_("in progress"),  # work is under way (in process, issued, shipped)
    DONE: N_("done"),  # a good outcome (released, eligible, administered, approved)
    BLOCKED: N_("blocked"),  # stopped until someone lifts it (on hold, quarantined, incomplete)
    FAILED: N_("failed"),  # a bad outcome (rejected, ineligible, not eligible)
    ENDED: N_("ended"),  # out of use, neither good nor bad (retired, superseded, deallocated, destroyed)
}
# The workflows that named the kinds of their states, in the order they were declared: what the screens
# look a stored status word up in when they are not told its workflow.
_DECLARED: list[Workflow] = []


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
    kinds: dict[str, str] = field(default_factory=dict)  # state -> one of STATUS_KINDS

    def __post_init__(self):
        for t in self.transitions:
            if t.source not in self.states or t.target not in self.states:
                raise ValueError(f"{self.name}: transition {t.source}->{t.target} uses an unknown state")
        if self.initial not in self.states:
            raise ValueError(f"{self.name}: unknown initial state {self.initial}")
        if self.kinds:
            # A state without a kind would show without its colour: every state is named once.
            if set(self.kinds) != set(self.states):
                raise ValueError(f"{self.name}: the kinds must name every state, and only them")
            unknown = set(self.kinds.values()) - set(STATUS_KINDS)
            if unknown:
                raise ValueError(f"{self.name}: unknown status kinds {sorted(unknown)}")
            _DECLARED.append(self)

    def find(self, source: str, target: str) -> Transition | None:
        for t in self.transitions:
            if t.source == source and t.target == target:
                return t
        return None

    def targets_from(self, source: str) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if t.source == source)

    def label(self, state: str) -> str:
        return self.labels.get(state, state.replace("_", " "))

    def kind(self, state: str) -> str:
        return self.kinds.get(state, IN_PROGRESS)


def declared_workflows() -> tuple[Workflow, ...]:
    return tuple(_DECLARED)


def status_kind(state: str) -> str:
    """The kind of a stored status word, from the workflows that have it (a word has one kind in every
    workflow: tests/unit/test_status_kinds.py); a word no workflow knows reads as in progress."""
    for workflow in _DECLARED:
        if state in workflow.kinds:
            return workflow.kinds[state]
    return IN_PROGRESS


def status_label(state: str) -> str:
    """The words of a stored status when its workflow is not known: the workflows' label when they all
    agree on it ("pending" is "pending determination" only for a donor), else the word itself."""
    labels = {w.label(state) for w in _DECLARED if state in w.states}
    return labels.pop() if len(labels) == 1 else state.replace("_", " ")


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
