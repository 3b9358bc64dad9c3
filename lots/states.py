"""Status workflows of lots and deviations (enforced by bank.status.change_status).

Release and rejection (awaiting_qc → released | rejected) are defined here because they are states of
a lot, but only the release module takes them, with its own checks (specifications, deviations).
"""

from __future__ import annotations

from bank.workflow import Transition, Workflow

RELEASE_MEANING = "Released for clinical use"
REJECT_MEANING = "Rejected"
HOLD_LIFTED_MEANING = "Hold lifted"
DEVIATION_CLOSED_MEANING = "Deviation closed"

# States a hold can be put on from; a held lot returns to the state it was held from (Lot.held_from).
# A released lot can still be held: a donor look-back must stop every container of that donor.
HOLDABLE = ("in_process", "awaiting_qc", "released")

LOT_WORKFLOW = Workflow(
    name="Lot",
    states=("in_process", "awaiting_qc", "released", "rejected", "on_hold"),
    initial="in_process",
    transitions=(
        Transition("in_process", "awaiting_qc", "lot.edit", label="Submit for QC"),
        Transition("awaiting_qc", "in_process", "lot.edit", reason_required=True, label="Back to processing"),
        Transition("awaiting_qc", "released", "lot.release", signature_meaning=RELEASE_MEANING,
                   label="Release"),
        Transition("awaiting_qc", "rejected", "lot.release", signature_meaning=REJECT_MEANING,
                   reason_required=True, label="Reject"),
        *(Transition(s, "on_hold", "lot.hold", reason_required=True, label="Put on hold") for s in HOLDABLE),
        *(Transition("on_hold", s, "lot.hold", signature_meaning=HOLD_LIFTED_MEANING, reason_required=True,
                     label="Lift hold") for s in HOLDABLE),
    ),
    labels={"in_process": "in process", "awaiting_qc": "awaiting QC", "on_hold": "on hold"},
)

DEVIATION_WORKFLOW = Workflow(
    name="Deviation",
    states=("open", "closed"),
    initial="open",
    transitions=(Transition("open", "closed", "deviation.close", signature_meaning=DEVIATION_CLOSED_MEANING,
                            label="Close"),),
)
