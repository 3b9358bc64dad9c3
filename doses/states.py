"""Status workflows of protocol versions, patients (enrolment) and allocations (a dose's containers),
enforced by bank.status.change_status; each states the signature meaning of its signed steps. Pure
tables: no database, no Flask."""

from __future__ import annotations

from bank.i18n import N_
from bank.workflow import (
    BLOCKED,
    DONE,
    ENDED,
    FAILED,
    IN_PROGRESS,
    Transition,
    Workflow,
    hold_steps,
    version_workflow,
)

ATTESTED_MEANING = N_("Eligibility checklist attested")
HOLD_LIFTED_MEANING = N_("Allocation hold lifted")
# Not a status change: the investigator signs the request to read one subject's sequence (doses.services).
UNBLINDING_MEANING = N_("Emergency unblinding")

# A new version of a protocol retires the active one; patients keep the version they were enrolled under.
PROTOCOL_VERSION_WORKFLOW = version_workflow("Protocol version", "protocol.manage")
PROTOCOL_VERSION_STATES = PROTOCOL_VERSION_WORKFLOW.states

PATIENT_STATES = ("screening", "enrolled", "not_eligible")
PATIENT_WORKFLOW = Workflow(
    name="Patient",
    states=PATIENT_STATES,
    initial="screening",
    transitions=(
        Transition(
            "screening", "enrolled", "patient.enroll", signature_meaning=ATTESTED_MEANING, label=N_("Enrol")
        ),
        Transition(
            "screening",
            "not_eligible",
            "patient.enroll",
            signature_meaning=ATTESTED_MEANING,
            label=N_("Not eligible"),
        ),
        # A screen failure may be screened again (new visit, new signed checklist).
        Transition(
            "not_eligible",
            "enrolled",
            "patient.enroll",
            signature_meaning=ATTESTED_MEANING,
            label=N_("Enrol"),
        ),
        Transition(
            "not_eligible",
            "not_eligible",
            "patient.enroll",
            signature_meaning=ATTESTED_MEANING,
            label=N_("Not eligible"),
        ),
    ),
    labels={"screening": N_("screening"), "enrolled": N_("enrolled"), "not_eligible": N_("not eligible")},
    kinds={"screening": IN_PROGRESS, "enrolled": DONE, "not_eligible": FAILED},
)

# allocated: containers set aside for the dose (still in storage); issued: out of storage towards the
# patient (chain of custody, issue 7); administered: given; on_hold: a look-back or late result stopped
# it; deallocated: containers freed, with a reason. Only allocated and on_hold doses can be deallocated;
# an issued dose comes back through custody (returned) first.
ALLOCATION_STATES = ("allocated", "issued", "administered", "on_hold", "deallocated")
ACTIVE_STATES = ("allocated", "issued", "on_hold")  # hold their containers
# The same as SQL: the condition of the partial index of doses on their way (migration 0009).
ON_THEIR_WAY_SQL = "status IN (" + ", ".join(f"'{s}'" for s in ACTIVE_STATES) + ")"
HOLDABLE = ("allocated", "issued")

ALLOCATION_WORKFLOW = Workflow(
    name="Allocation",
    states=ALLOCATION_STATES,
    initial="allocated",
    transitions=(
        Transition("allocated", "issued", "custody.record", label=N_("Issue")),
        *(
            Transition(s, "administered", "custody.record", label=N_("Record administration"))
            for s in HOLDABLE
        ),
        *hold_steps(HOLDABLE, "dose.allocate", "lot.hold", HOLD_LIFTED_MEANING),
        Transition("allocated", "deallocated", "dose.allocate", reason_required=True, label=N_("Deallocate")),
        Transition("on_hold", "deallocated", "dose.allocate", reason_required=True, label=N_("Deallocate")),
    ),
    labels={
        "allocated": N_("allocated"),
        "issued": N_("issued"),
        "administered": N_("administered"),
        "on_hold": N_("on hold"),
        "deallocated": N_("deallocated"),
    },
    kinds={
        "allocated": IN_PROGRESS,
        "issued": IN_PROGRESS,
        "administered": DONE,
        "on_hold": BLOCKED,
        "deallocated": ENDED,
    },
)
