"""Status workflow of a release specification version: draft → approved (QA e-signature) → effective
→ superseded. Lot release and rejection are transitions of lots.states.LOT_WORKFLOW."""

from __future__ import annotations

from bank.workflow import Transition, Workflow

SPEC_APPROVED_MEANING = "Specification approved"

SPEC_WORKFLOW = Workflow(
    name="Specification",
    states=("draft", "approved", "effective", "superseded"),
    initial="draft",
    transitions=(
        Transition("draft", "approved", "spec.manage", signature_meaning=SPEC_APPROVED_MEANING, label="Approve"),
        Transition("approved", "effective", "spec.manage", label="Make effective"),
        # Taken only by the service, for the version an approved one replaces.
        Transition("effective", "superseded", "spec.manage", label="Superseded"),
    ),
)
