"""Status sets and workflow tables of the lots domain: lots, deviations, containers, material lots and
product-type versions (each status column's CHECK constraint is built from its workflow's states; every
change goes through bank.status.change_status, 21 CFR 11.10(f)).

Release and rejection (awaiting_qc → released | rejected) are defined here because they are states of
a lot, but only the release module takes them, with its own checks (specifications, deviations).
"""

from __future__ import annotations

from bank.i18n import N_
from bank.workflow import (
    BLOCKED,
    DONE,
    ENDED,
    FAILED,
    IN_PROGRESS,
    WAITING,
    Transition,
    Workflow,
    hold_steps,
    version_workflow,
)

# Signature meanings are stored in English and signed as such; N_ marks them for the catalogue (shown with |tr).
RELEASE_MEANING = N_("Released for clinical use")
REJECT_MEANING = N_("Rejected")
HOLD_LIFTED_MEANING = N_("Hold lifted")
DEVIATION_CLOSED_MEANING = N_("Deviation closed")

# States a hold can be put on from; a held lot returns to the state it was held from (Lot.held_from).
# A released lot can still be held: a donor look-back must stop every container of that donor.
HOLDABLE = ("in_process", "awaiting_qc", "released")


LOT_WORKFLOW = Workflow(
    name=N_("Lot"),
    states=("in_process", "awaiting_qc", "released", "rejected", "on_hold"),
    initial="in_process",
    transitions=(
        Transition("in_process", "awaiting_qc", "lot.edit", label=N_("Submit for QC")),
        Transition(
            "awaiting_qc", "in_process", "lot.edit", reason_required=True, label=N_("Back to processing")
        ),
        Transition(
            "awaiting_qc", "released", "lot.release", signature_meaning=RELEASE_MEANING, label=N_("Release")
        ),
        Transition(
            "awaiting_qc",
            "rejected",
            "lot.release",
            signature_meaning=REJECT_MEANING,
            reason_required=True,
            label=N_("Reject"),
        ),
        *hold_steps(HOLDABLE, "lot.hold", "lot.hold", HOLD_LIFTED_MEANING),
    ),
    labels={
        "in_process": N_("in process"),
        "awaiting_qc": N_("awaiting QC"),
        "released": N_("released"),
        "rejected": N_("rejected"),
        "on_hold": N_("on hold"),
    },
    kinds={
        "in_process": IN_PROGRESS,
        "awaiting_qc": WAITING,
        "released": DONE,
        "rejected": FAILED,
        "on_hold": BLOCKED,
    },
)
LOT_STATUSES = LOT_WORKFLOW.states
# Bench entries (isolation, passages, formulation) are open only while the lot is in process; a
# finished lot's entries can no longer be verified.
BENCH_OPEN = "in_process"
FINISHED = ("released", "rejected")
# Nothing is derived from a lot in these states.
NOT_DERIVABLE = ("rejected", "on_hold")

DEVIATION_WORKFLOW = Workflow(
    name=N_("Deviation"),
    states=("open", "closed"),
    initial="open",
    transitions=(
        Transition(
            "open", "closed", "deviation.close", signature_meaning=DEVIATION_CLOSED_MEANING, label=N_("Close")
        ),
    ),
    labels={"open": N_("open"), "closed": N_("closed")},
    kinds={"open": WAITING, "closed": DONE},  # an open deviation waits for QA to close it
)
DEVIATION_STATUSES = DEVIATION_WORKFLOW.states

# formulated: filled, not yet in a position; stored: in a position; removed: out of storage.
# The later states (allocated, shipped, administered, destroyed) are taken by the doses module (allocation,
# deallocation, chain of custody); their steps are listed here because the container's status column, and
# its CHECK constraint, belong to lots. Each (source, target) pair carries one permission: where another
# act needs the same step, its service takes it on that act's behalf (bank.uow.acting_with) and says why.
CONTAINER_STATES = ("formulated", "stored", "removed", "allocated", "shipped", "administered", "destroyed")
CONTAINER_WORKFLOW = Workflow(
    name=N_("Container"),
    states=CONTAINER_STATES,
    initial="formulated",
    transitions=(
        Transition("formulated", "stored", "storage.manage", label=N_("Store")),
        Transition("removed", "stored", "storage.manage", label=N_("Store again")),
        Transition(
            "stored", "removed", "storage.manage", reason_required=True, label=N_("Remove from storage")
        ),
        # Set aside for a dose (only a stored container of a released lot is chosen), and back on the shelf
        # when the dose is deallocated (with the deallocation's reason).
        Transition("stored", "allocated", "dose.allocate", label=N_("Allocate")),
        Transition("allocated", "stored", "dose.allocate", reason_required=True, label=N_("Deallocate")),
        # An allocated container leaves its position as a step of its dose's chain of custody (issue from
        # storage, administration): that custody step is what authorises it.
        Transition(
            "allocated", "removed", "custody.record", reason_required=True, label=N_("Remove from storage")
        ),
        # The chain of custody (doses.custody) moves an issued container on: shipped, returned to the
        # facility (out of storage still), given to the patient or destroyed.
        Transition("removed", "shipped", "custody.record", reason_required=True, label=N_("Ship")),
        Transition("shipped", "removed", "custody.record", reason_required=True, label=N_("Return")),
        *(
            Transition(s, "administered", "custody.record", reason_required=True, label=N_("Administer"))
            for s in ("removed", "shipped")
        ),
        *(
            Transition(s, "destroyed", "custody.record", reason_required=True, label=N_("Destroy"))
            for s in ("removed", "shipped")
        ),
    ),
    labels={
        "formulated": N_("formulated"),
        "stored": N_("stored"),
        "removed": N_("removed"),
        "allocated": N_("allocated"),
        "shipped": N_("shipped"),
        "administered": N_("administered"),
        "destroyed": N_("destroyed"),
    },
    kinds={
        "formulated": WAITING,  # to be put in a position
        "stored": DONE,
        "removed": IN_PROGRESS,
        "allocated": IN_PROGRESS,
        "shipped": IN_PROGRESS,
        "administered": DONE,
        "destroyed": ENDED,
    },
)
CONTAINER_STATUSES = CONTAINER_WORKFLOW.states
STORABLE = ("formulated", "removed", "stored")  # a stored container may be moved to another position

MATERIAL_STEP_LABELS = {
    "approved": N_("Approved"),
    "quarantined": N_("Quarantined"),
    "rejected": N_("Rejected"),
}
MATERIAL_LOT_WORKFLOW = Workflow(
    name=N_("Material lot"),
    states=("approved", "quarantined", "rejected"),
    initial="quarantined",
    transitions=tuple(
        Transition(source, target, "material.manage", label=MATERIAL_STEP_LABELS[target])
        for source in ("approved", "quarantined", "rejected")
        for target in ("approved", "quarantined", "rejected")
        if source != target
    ),
    labels={"approved": N_("approved"), "quarantined": N_("quarantined"), "rejected": N_("rejected")},
    kinds={"approved": DONE, "quarantined": BLOCKED, "rejected": FAILED},
)
MATERIAL_STATUSES = MATERIAL_LOT_WORKFLOW.states
MATERIAL_USABLE = "approved"

# A new version of a product type retires the version before it (lots keep the version they were made
# under). Product types are reference data kept by QA, like specifications.
PRODUCT_TYPE_WORKFLOW = version_workflow(N_("Product type"), "spec.manage")
PRODUCT_TYPE_STATUSES = PRODUCT_TYPE_WORKFLOW.states

# A correction or void of a bench entry (isolation, passage): applied at once by its author before the
# entry is verified, and after verification only once a second person confirms it. Technicians (who
# enter and correct) and QA (who confirm) both hold lot.verify; the endpoints check lot.edit for asking.
CORRECTION_WORKFLOW = Workflow(
    name=N_("Entry correction"),
    states=("pending", "applied"),
    initial="pending",
    transitions=(Transition("pending", "applied", "lot.verify", label=N_("Apply")),),
    labels={"pending": N_("pending"), "applied": N_("applied")},
    kinds={"pending": WAITING, "applied": DONE},
)
CORRECTION_STATES = CORRECTION_WORKFLOW.states
