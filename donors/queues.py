"""The donor domain's work queues (bank.queues): determinations awaiting QA's signature, look-backs in
progress, criteria set versions awaiting review or approval."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.i18n import N_, t
from bank.queues import Context, Item, Listing, Queue, listing, register
from donors.models import CriteriaSetVersion, Donor
from donors.states import DRAFT, PENDING, REVIEWED


def determinations_to_sign(session: Session, ctx: Context) -> Listing:
    """Donors still pending a determination (the state DONOR_WORKFLOW signs from), oldest first. Not the
    donors donors.rules.decision_problems refuses any signature for: an autologous donor (no determination
    is required, 21 CFR 1271.90) and a donor under look-back (listed with the look-backs)."""
    stmt = (
        select(Donor)
        .where(Donor.status == PENDING, Donor.under_lookback.is_(False), Donor.is_autologous.is_(False))
        .order_by(Donor.created_at, Donor.id)
    )
    return listing(
        session,
        stmt,
        lambda d: Item(
            t("Donor %(code)s awaits its eligibility determination", code=d.code),
            "donors.sign",
            {"donor_id": d.id},
            since=d.created_at.date(),
            since_label=N_("registered"),
        ),
        ctx.limit,
    )


def lookbacks(session: Session, ctx: Context) -> Listing:
    stmt = select(Donor).where(Donor.under_lookback.is_(True)).order_by(Donor.id)
    return listing(
        session,
        stmt,
        lambda d: Item(
            t("Look-back of donor %(code)s: %(reason)s", code=d.code, reason=d.lookback_reason or ""),
            "donors.show",
            {"donor_id": d.id},
        ),
        ctx.limit,
    )


def criteria_awaiting(session: Session, ctx: Context) -> Listing:
    stmt = (
        select(CriteriaSetVersion)
        .where(CriteriaSetVersion.status.in_((DRAFT, REVIEWED)))
        .order_by(CriteriaSetVersion.created_at, CriteriaSetVersion.id)
    )
    return listing(
        session,
        stmt,
        lambda v: Item(
            t(
                "Criteria set %(name)s version %(number)s awaits its %(step)s",
                name=v.name,
                number=v.number,
                step=t("review") if v.status == DRAFT else t("approval"),
            ),
            "donors.criteria_show",
            {"version_id": v.id},
            since=v.created_at.date(),
            since_label=N_("drafted"),
        ),
        ctx.limit,
    )


def register_queues(app) -> None:
    register(
        app,
        Queue(
            "donors.to_sign",
            N_("Donor determinations to sign"),
            frozenset({"donor.determine"}),
            determinations_to_sign,
            "donors.index",
            20,
        ),
    )
    register(
        app,
        Queue(
            "donors.lookbacks",
            N_("Donor look-backs in progress"),
            frozenset({"donor.determine"}),
            lookbacks,
            None,
            15,
        ),
    )
    register(
        app,
        Queue(
            "donors.criteria",
            N_("Donor criteria versions awaiting approval"),
            frozenset({"criteria.manage"}),
            criteria_awaiting,
            "donors.criteria_index",
            70,
        ),
    )
