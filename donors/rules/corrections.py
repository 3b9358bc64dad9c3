"""Corrections of screening entries that keep the original, and what they mean for a signed determination
(DOMAIN.md §2: the determination is signed on the evidence; evidence corrected after the signature means
the responsible person must look again). Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bank.i18n import Text, t
from bank.refusals import Problem
from donors.rules.criteria import CriteriaSet
from donors.rules.eligibility import sample_window


@dataclass(frozen=True)
class EntryChange:
    """A screening entry voided or corrected: which (e.g. "serology #12 anti-HIV-1/2"), when it was
    recorded and voided, and why."""

    ref: str
    recorded_at: datetime
    voided_at: datetime
    reason: str


def rereview_problems(signed_at: datetime, changes: Sequence[EntryChange]) -> list[Problem]:
    """A determination signed at `signed_at` on an entry corrected or voided since then is flagged for
    re-review: one problem per such entry (entries recorded after the signature were not signed on)."""
    return [
        Problem(
            "donor.rereview",
            t(
                "Signed on %(entry)s, corrected or voided since: the determination must be reviewed again.",
                entry=c.ref,
            ),
            t(
                "voided %(when)s UTC: %(reason)s",
                when=c.voided_at.strftime("%Y-%m-%d %H:%M"),
                reason=c.reason,
            ),
        )
        for c in changes
        if c.recorded_at <= signed_at < c.voided_at
    ]


def window_error(sample_date: date | None, harvest_date: date | None, criteria: CriteriaSet) -> Text | None:
    """The panel's sample-window check (DOMAIN.md §2: drawn at the harvest or up to 7 days after it by
    default): a message when the sample cannot count, None when it can or no harvest date places it."""
    if sample_date is None or harvest_date is None:
        return None
    first, last = sample_window(harvest_date, criteria)
    if first <= sample_date <= last:
        return None
    return t(
        "sample drawn %(sample)s is outside the window %(first)s to %(last)s (harvest %(harvest)s): "
        "it would not count",
        sample=sample_date,
        first=first,
        last=last,
        harvest=harvest_date,
    )
