"""Status workflows of the release domain's records (bank.status.change_status enforces them; models build
their CHECK constraints from the states): specification versions draft → approved (QA e-signature) →
effective → superseded, and late-result alerts open → acknowledged. Lot release and rejection are
transitions of lots.states.LOT_WORKFLOW, which states their signature meanings."""

from __future__ import annotations

from bank.i18n import N_
from bank.workflow import DONE, ENDED, WAITING, Transition, Workflow

# Held by no role: the system takes it on behalf of whoever first needs a specification (bank.uow.acting_with)
# to store the seed versions effective from the start, without a signed approval (they are marked seeded).
SEED_PERMISSION = "spec.seed"

SPEC_WORKFLOW = Workflow(
    name="Specification",
    states=("draft", "approved", "effective", "superseded"),
    initial="draft",
    transitions=(
        Transition(
            "draft",
            "approved",
            "spec.manage",
            signature_meaning=N_("Specification approved"),
            label=N_("Approve"),
        ),
        Transition("approved", "effective", "spec.manage", label=N_("Make effective")),
        # Taken by the service for the version an approved one replaces.
        Transition("effective", "superseded", "spec.manage", label=N_("Superseded")),
        Transition("draft", "effective", SEED_PERMISSION, reason_required=True, label=N_("Seed")),
    ),
    labels={
        "draft": N_("draft"),
        "approved": N_("approved"),
        "effective": N_("effective"),
        "superseded": N_("superseded"),
    },
    kinds={"draft": WAITING, "approved": DONE, "effective": DONE, "superseded": ENDED},
)

ALERT_WORKFLOW = Workflow(
    name="Late-result alert",
    states=("open", "acknowledged"),
    initial="open",
    transitions=(
        # The reason is what QA did: clinician informed, doses held, investigation opened.
        Transition("open", "acknowledged", "lot.release", reason_required=True, label=N_("Acknowledge")),
    ),
    labels={"open": N_("open"), "acknowledged": N_("acknowledged")},
    kinds={"open": WAITING, "acknowledged": DONE},
)

# QA's decision on a lot's release record: the lot workflow's signed steps out of awaiting QC.
DECISIONS = ("released", "rejected")
