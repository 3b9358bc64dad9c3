"""Donor eligibility and criteria-set workflows (21 CFR 1271.50: a responsible person signs the
determination; until then the donor's products stay in quarantine, 1271.60)."""

from __future__ import annotations

from bank.i18n import N_
from bank.workflow import BLOCKED, DONE, ENDED, FAILED, WAITING, Transition, Workflow

# Signature meanings and transition labels are stored and signed in English; N_ lists them for the
# catalogue and pages show them in the reader's language (|tr).
DETERMINATION_MEANING = N_("Donor eligibility determination")
CRITERIA_REVIEW_MEANING = N_("Donor criteria set reviewed")
CRITERIA_APPROVAL_MEANING = N_("Donor criteria set approved for use")

PENDING, INCOMPLETE, ELIGIBLE, INELIGIBLE = "pending", "incomplete", "eligible", "ineligible"
# What the rules find, and what QA may sign (a determination's outcome and decision).
DECISIONS = (ELIGIBLE, INELIGIBLE, INCOMPLETE)

_SIGN = dict(permission="donor.determine", signature_meaning=DETERMINATION_MEANING)

DONOR_WORKFLOW = Workflow(
    name="Donor eligibility",
    states=(PENDING, INCOMPLETE, ELIGIBLE, INELIGIBLE),
    initial=PENDING,
    transitions=(
        Transition(PENDING, ELIGIBLE, **_SIGN, label=N_("Sign eligible")),
        Transition(PENDING, INELIGIBLE, **_SIGN, label=N_("Sign ineligible")),
        Transition(PENDING, INCOMPLETE, **_SIGN, label=N_("Sign incomplete")),
        Transition(INCOMPLETE, ELIGIBLE, **_SIGN, label=N_("Sign eligible")),
        Transition(INCOMPLETE, INELIGIBLE, **_SIGN, label=N_("Sign ineligible")),
        # Taken by QA with a signature, or by the system inside the technician's entry of a late
        # positive result (look-back): so it needs only the permission to enter donor data, and a reason.
        Transition(ELIGIBLE, INELIGIBLE, "donor.edit", reason_required=True, label=N_("Make ineligible")),
        # Reversing an ineligible determination (an entry voided as made in error) is a new signed
        # determination with a reason.
        Transition(INELIGIBLE, ELIGIBLE, **_SIGN, reason_required=True, label=N_("Sign eligible again")),
        Transition(INELIGIBLE, INCOMPLETE, **_SIGN, reason_required=True, label=N_("Sign incomplete")),
    ),
    labels={
        PENDING: N_("pending determination"),
        INCOMPLETE: N_("incomplete (quarantine)"),
        ELIGIBLE: N_("eligible"),
        INELIGIBLE: N_("ineligible"),
    },
    kinds={PENDING: WAITING, INCOMPLETE: BLOCKED, ELIGIBLE: DONE, INELIGIBLE: FAILED},
)

DONOR_STATUSES = DONOR_WORKFLOW.states

DRAFT, REVIEWED, ACTIVE, RETIRED = "draft", "reviewed", "active", "retired"
# Held by no role: only the seeding of the protocol's own reviewed list (`flask init`,
# `donor-criteria-seed`, the demo) takes it, through bank.uow.acting_with.
SEED_PERMISSION = "criteria.seed"

CRITERIA_WORKFLOW = Workflow(
    name="Donor criteria set",
    states=(DRAFT, REVIEWED, ACTIVE, RETIRED),
    initial=DRAFT,
    transitions=(
        Transition(DRAFT, REVIEWED, "criteria.manage", CRITERIA_REVIEW_MEANING, label=N_("Review")),
        Transition(REVIEWED, DRAFT, "criteria.manage", reason_required=True, label=N_("Return to draft")),
        Transition(REVIEWED, ACTIVE, "criteria.manage", CRITERIA_APPROVAL_MEANING, label=N_("Activate")),
        Transition(ACTIVE, RETIRED, "criteria.manage", reason_required=True, label=N_("Retire")),
        Transition(DRAFT, RETIRED, "criteria.manage", reason_required=True, label=N_("Abandon draft")),
        # The seed list is the protocol's own reviewed exclusion list: active from the start.
        Transition(
            DRAFT, ACTIVE, SEED_PERMISSION, reason_required=True, label=N_("Activate the protocol's seed")
        ),
    ),
    labels={DRAFT: N_("draft"), REVIEWED: N_("reviewed"), ACTIVE: N_("active"), RETIRED: N_("retired")},
    kinds={DRAFT: WAITING, REVIEWED: WAITING, ACTIVE: DONE, RETIRED: ENDED},
)

CRITERIA_STATUSES = CRITERIA_WORKFLOW.states
