"""The one map of status colours: every state of every workflow has its words and its kind, a status word
means the same kind in every workflow, and every kind has its colour in the style sheet (issue 24)."""

from pathlib import Path

import pytest

import bank.verification.states
import donors.states
import doses.custody.states
import doses.states
import lots.states
import release.states
from bank.workflow import (
    STATUS_KINDS,
    Transition,
    Workflow,
    declared_workflows,
    status_kind,
    status_label,
)

MODULES = (
    donors.states,
    lots.states,
    release.states,
    doses.states,
    doses.custody.states,
    bank.verification.states,
)
DOMAIN_WORKFLOWS = [
    value for module in MODULES for value in vars(module).values() if isinstance(value, Workflow)
]


@pytest.mark.parametrize("workflow", DOMAIN_WORKFLOWS, ids=lambda w: w.name)
def test_every_state_has_words_and_a_kind(workflow):
    assert set(workflow.labels) == set(workflow.states)
    assert set(workflow.kinds) == set(workflow.states)
    assert workflow in declared_workflows()


def test_a_status_word_has_one_kind_in_every_workflow():
    kinds: dict[str, set[str]] = {}
    for workflow in DOMAIN_WORKFLOWS:
        for state, kind in workflow.kinds.items():
            kinds.setdefault(state, set()).add(kind)
    assert {state: k for state, k in kinds.items() if len(k) > 1} == {}


def test_every_kind_has_its_colour_in_the_style_sheet():
    css = (Path(__file__).resolve().parents[2] / "bank" / "static" / "app.css").read_text()
    for kind in STATUS_KINDS:
        assert f".status-{kind} {{" in css


def test_states_read_as_the_lab_says_them():
    assert status_kind("awaiting_qc") == "waiting"
    assert status_kind("in_process") == "in_progress"
    assert status_kind("released") == "done"
    assert status_kind("on_hold") == "blocked"
    assert status_kind("rejected") == "failed"
    assert status_label("awaiting_qc") == "awaiting QC"
    # "pending" is "pending determination" for a donor only: without its workflow, the word itself.
    assert status_label("pending") == "pending"


def test_kinds_must_name_every_state():
    with pytest.raises(ValueError, match="every state"):
        Workflow("x", ("a", "b"), "a", (Transition("a", "b", "p"),), kinds={"a": "waiting"})
    with pytest.raises(ValueError, match="unknown status kinds"):
        Workflow("x", ("a",), "a", (), kinds={"a": "green"})
