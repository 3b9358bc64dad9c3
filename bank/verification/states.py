"""The verification of an entry as a workflow table: awaiting verification → verified, taken by a person
holding the kind's verify permission, signed with the meaning stated here (pure)."""

from __future__ import annotations

from bank.i18n import N_
from bank.permissions import VERIFY_PERMISSIONS
from bank.workflow import DONE, WAITING, Transition, Workflow

VERIFIED_MEANING = N_("Verified")  # stored with each signature: translated only where shown

ENTRY_VERIFICATION = Workflow(
    name="Entry verification",
    states=("awaiting_verification", "verified"),
    initial="awaiting_verification",
    transitions=tuple(
        Transition(
            "awaiting_verification",
            "verified",
            permission,
            signature_meaning=VERIFIED_MEANING,
            label=N_("Verify"),
        )
        for permission in sorted(VERIFY_PERMISSIONS)
    ),
    labels={"awaiting_verification": N_("awaiting verification"), "verified": N_("verified")},
    kinds={"awaiting_verification": WAITING, "verified": DONE},
)


def verification_step(permission: str) -> Transition | None:
    """The step a person holding `permission` takes to verify an entry (None: that permission verifies
    nothing)."""
    return next((t for t in ENTRY_VERIFICATION.transitions if t.permission == permission), None)
