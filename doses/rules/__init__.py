"""Dose rules: pure decisions on plain values (no Flask, no SQLAlchemy), each returning every Problem it
finds. `protocol`: what a protocol version is (its invariants and JSON form); `allocation`: requests,
containers, dose range, endotoxin, FEFO, blinding, holds; `patients`: schedule, checklist, subject ids,
input validators; `labels`: what may be labelled and printed."""

from doses.rules.allocation import *  # noqa: F403
from doses.rules.blinding import *  # noqa: F403
from doses.rules.labels import *  # noqa: F403
from doses.rules.patients import *  # noqa: F403
from doses.rules.protocol import *  # noqa: F403
