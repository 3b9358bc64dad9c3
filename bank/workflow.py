"""Status workflows as pure tables: which transitions exist, who may take them, what they require.

Domain `states.py` modules declare a `Workflow` (its states stated once: models build their CHECK
constraint from `workflow.states`); `bank.status.change_status` is the one function that enforces it.
Beside its table, each workflow names every state in words (`labels`, marked for translation) and says
what kind of state it is (`kinds`): the one map the screens and printouts colour status badges from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bank.i18n import N_, Text, joined, t
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
        for step in self.transitions:
            if step.source not in self.states or step.target not in self.states:
                raise ValueError(
                    f"{self.name}: transition {step.source}->{step.target} uses an unknown state"
                )
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
        for step in self.transitions:
            if step.source == source and step.target == target:
                return step
        return None

    def targets_from(self, source: str) -> tuple[Transition, ...]:
        return tuple(step for step in self.transitions if step.source == source)

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


def hold_steps(
    holdable: tuple[str, ...], hold_permission: str, lift_permission: str, lifted_meaning: str
) -> tuple[Transition, ...]:
    """Putting on hold, from any holdable state, with a reason; lifting the hold back to the state it was put
    on from, with a reason and the signature of `lifted_meaning` by someone with `lift_permission`. Lots and doses hold alike: a
    look-back or a late result stops both."""
    return (
        *(
            Transition(s, "on_hold", hold_permission, reason_required=True, label=N_("Put on hold"))
            for s in holdable
        ),
        *(
            Transition(
                "on_hold",
                s,
                lift_permission,
                signature_meaning=lifted_meaning,
                reason_required=True,
                label=N_("Lift hold"),
            )
            for s in holdable
        ),
    )


def version_workflow(name: str, permission: str) -> Workflow:
    """Versioned reference data (a product type, a trial protocol): the version in use is active until a new
    version retires it; what was made or enrolled under it keeps it."""
    return Workflow(
        name=name,
        states=("active", "retired"),
        initial="active",
        transitions=(Transition("active", "retired", permission, label=N_("Retire")),),
        labels={"active": N_("active"), "retired": N_("retired")},
        kinds={"active": DONE, "retired": ENDED},
    )
