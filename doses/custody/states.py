"""The custody workflow of one dose as a pure table: which event may follow which, and the meaning of
the two signatures each event carries (who hands over, who receives). No database, no Flask; the
decisions on an event are doses.custody.rules.

The dose's custody "state" is its last event (IN_STORAGE before the first). Only an event listed as a
next step of that state can be recorded, so the chain cannot skip a hand-off or run backwards."""

from __future__ import annotations

from dataclasses import dataclass

from bank.i18n import N_
from bank.workflow import BLOCKED, DONE, ENDED, IN_PROGRESS, WAITING, Transition, Workflow

IN_STORAGE = "in_storage"  # no custody event yet: the dose is allocated and still in the facility's tank

EVENTS = (
    "issued_from_storage",
    "packed",
    "shipped",
    "received_at_site",
    "stored_at_site",
    "thawed",
    "administered",
    "returned",
    "destroyed",
)
FINAL = ("administered", "destroyed")


@dataclass(frozen=True)
class EventKind:
    label: str
    handover_meaning: str  # signature of the person handing over (the signed-in user)
    receipt_meaning: str  # signature of the person receiving (second person, own password)
    cold_chain: bool  # the dose is still frozen: a temperature excursion matters
    forward: bool  # moves the dose towards the patient (refused while the dose is on hold)


KINDS: dict[str, EventKind] = {
    "issued_from_storage": EventKind(
        N_("Issued from storage"), N_("Issued from storage"), N_("Received from storage"), True, True
    ),
    "packed": EventKind(N_("Packed"), N_("Packed for shipment"), N_("Packing checked"), True, True),
    # The courier is named in 'shipper'; the second signature is the facility's dispatch check.
    "shipped": EventKind(N_("Shipped"), N_("Handed to shipper"), N_("Dispatch witnessed"), True, True),
    "received_at_site": EventKind(
        N_("Received at site"), N_("Handed over at site"), N_("Received at site"), True, True
    ),
    "stored_at_site": EventKind(
        N_("Stored at site"), N_("Placed in site storage"), N_("Site storage checked"), True, True
    ),
    "thawed": EventKind(N_("Thawed"), N_("Thawed"), N_("Thaw witnessed"), False, True),
    "administered": EventKind(
        N_("Administered"), N_("Handed over for administration"), N_("Administered"), False, True
    ),
    "returned": EventKind(N_("Returned"), N_("Returned to the facility"), N_("Return received"), True, False),
    "destroyed": EventKind(N_("Destroyed"), N_("Destroyed"), N_("Destruction witnessed"), False, False),
}

# Where the dose may go from each state. A thawed product cannot be frozen again, so after thawing the
# only ways out are administration or destruction; a returned dose is not re-issued (its cold chain
# left the facility's control), it is destroyed.
_NEXT: dict[str, tuple[str, ...]] = {
    IN_STORAGE: ("issued_from_storage",),
    "issued_from_storage": ("packed", "thawed", "returned", "destroyed"),
    "packed": ("shipped", "returned", "destroyed"),
    "shipped": ("received_at_site", "destroyed"),
    "received_at_site": ("stored_at_site", "thawed", "returned", "destroyed"),
    "stored_at_site": ("thawed", "returned", "destroyed"),
    "thawed": ("administered", "destroyed"),
    "returned": ("destroyed",),
    "administered": (),
    "destroyed": (),
}

CUSTODY_WORKFLOW = Workflow(
    name="Chain of custody",
    states=(IN_STORAGE, *EVENTS),
    initial=IN_STORAGE,
    transitions=tuple(
        Transition(source, target, "custody.record", label=KINDS[target].label)
        for source, targets in _NEXT.items()
        for target in targets
    ),
    labels={
        IN_STORAGE: N_("in storage (no custody event yet)"),
        "issued_from_storage": N_("issued from storage"),
        "packed": N_("packed"),
        "shipped": N_("shipped"),
        "received_at_site": N_("received at site"),
        "stored_at_site": N_("stored at site"),
        "thawed": N_("thawed"),
        "administered": N_("administered"),
        "returned": N_("returned"),
        "destroyed": N_("destroyed"),
    },
    kinds={
        IN_STORAGE: WAITING,
        **{e: IN_PROGRESS for e in EVENTS if e not in (*FINAL, "returned")},
        "returned": BLOCKED,  # back at the facility, to be destroyed: never issued again
        "administered": DONE,
        "destroyed": ENDED,
    },
)


def next_events(last_event: str | None) -> tuple[str, ...]:
    """The events that may be recorded after `last_event` (None: no event yet)."""
    return tuple(t.target for t in CUSTODY_WORKFLOW.targets_from(last_event or IN_STORAGE))
