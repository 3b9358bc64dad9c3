"""The workflow engine's pure checks (DESIGN.md: status changes follow permitted sequences only)."""

import pytest

from bank.workflow import Transition, Workflow, check_transition

pytestmark = pytest.mark.requirement("ER-SEQUENCE", "ER-ESIGNATURE")

WF = Workflow(
    name="lot",
    states=("in_process", "awaiting_qc", "released", "rejected", "on_hold"),
    initial="in_process",
    transitions=(
        Transition("in_process", "awaiting_qc", "lot.edit"),
        Transition("awaiting_qc", "released", "lot.release", signature_meaning="Released for clinical use"),
        Transition(
            "awaiting_qc", "rejected", "lot.release", signature_meaning="Rejected", reason_required=True
        ),
    ),
)


@pytest.mark.parametrize(
    "source,target,perms,signed,reason,expected",
    [
        ("in_process", "awaiting_qc", {"lot.edit"}, False, None, []),
        ("in_process", "released", {"lot.release"}, True, None, ["cannot go from"]),
        ("awaiting_qc", "released", {"lot.edit"}, True, None, ["permission 'lot.release'"]),
        ("awaiting_qc", "released", {"lot.release"}, False, None, ["electronic signature"]),
        ("awaiting_qc", "rejected", {"lot.release"}, True, "  ", ["reason is required"]),
        (
            "awaiting_qc",
            "rejected",
            set(),
            False,
            None,
            ["permission 'lot.release'", "electronic signature", "reason is required"],
        ),
    ],
    ids=["allowed", "skip-a-step", "wrong-permission", "unsigned", "blank-reason", "every-problem-at-once"],
)
def test_check_transition_names_every_problem(source, target, perms, signed, reason, expected):
    check = check_transition(WF, source, target, frozenset(perms), signed, reason)
    assert len(check.problems) == len(expected)
    for fragment, problem in zip(expected, check.problems, strict=True):
        assert fragment in problem.message
    assert check.allowed is (not expected)


def test_workflow_refuses_unknown_states_at_definition():
    with pytest.raises(ValueError, match="unknown state"):
        Workflow("x", ("a",), "a", (Transition("a", "b", "p"),))
