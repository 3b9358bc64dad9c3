"""Status workflow of an adverse event (bank.status.change_status enforces it; the model's CHECK is built
from its states): reported → under investigation → closed, QA closing it with a signature that the
conclusion and corrective actions are final (2006/86/EC Annex IV: confirmation)."""

from __future__ import annotations

from bank.i18n import N_
from bank.workflow import DONE, IN_PROGRESS, WAITING, Transition, Workflow

EVENT_WORKFLOW = Workflow(
    name="Adverse event",
    states=("reported", "under_investigation", "closed"),
    initial="reported",
    transitions=(
        Transition(
            "reported", "under_investigation", "event.investigate", label=N_("Open the investigation")
        ),
        Transition(
            "under_investigation",
            "closed",
            "event.investigate",
            signature_meaning=N_("Investigation closed"),
            label=N_("Close the investigation"),
        ),
        # A non-serious event judged unrelated: QA reviews it and closes it without a full investigation.
        Transition(
            "reported",
            "closed",
            "event.investigate",
            signature_meaning=N_("Investigation closed"),
            label=N_("Close after review"),
        ),
    ),
    labels={
        "reported": N_("reported"),
        "under_investigation": N_("under investigation"),
        "closed": N_("investigation closed"),
    },
    kinds={"reported": WAITING, "under_investigation": IN_PROGRESS, "closed": DONE},
)

# The meaning of QA's one signed act that holds every suspect product the look-forward found.
LOOK_FORWARD_HOLD_MEANING = N_("Look-forward hold")
