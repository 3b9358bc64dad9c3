"""Cross-domain events as blinker signals: a lower domain announces what happened, a higher one reacts
in the same transaction. Receivers are connected only by `bank.app.wire_domains` (called by the app
factory, the CLI and the tests), never as a side effect of importing a module."""

from __future__ import annotations

from blinker import Namespace

_events = Namespace()

# sender: the session; donor=Donor. Receivers hold everything derived from the donor (lots, doses).
donor_lookback_started = _events.signal("donor-lookback-started")

# sender: the session; lot=Lot. Receivers hold what the lot supplied and return the affected patients,
# one readable line each (blinker collects the return values).
late_result_found = _events.signal("late-result-found")

# sender: the session; lot=Lot, volume_ml=float, container_type=str. Asked before containers are filled;
# receivers return a list of bank.refusals.Problem (a placebo that would not match the active product of
# a blinded protocol), and the formulation is refused with every one of them.
formulation_requested = _events.signal("formulation-requested")

# sender: the session; event=biovigilance.models.AdverseEvent. A serious reaction judged possibly related
# or more was recorded: its lot's remaining products are already held; receivers alert QA.
serious_reaction_reported = _events.signal("serious-reaction-reported")

# sender: the session; allocation=Allocation, event=CustodyEvent. A temperature excursion was recorded on a
# dose's chain of custody (the dose went on hold). Receivers tell the people concerned.
custody_excursion = _events.signal("custody-excursion")

# sender: the session; user=User. Repeated wrong passwords have just locked the account (bank.users).
account_locked = _events.signal("account-locked")
