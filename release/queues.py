"""The release domain's work queues (bank.queues): lots awaiting QC or release with every blocker the
release rules find, conditional releases awaiting their final sterility result, open late-result alerts,
specification versions awaiting approval."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.i18n import N_, t
from bank.queues import Context, Item, Listing, Queue, listing, register
from lots.models import Lot
from lots.queues import open_on_lots
from release.models import LateResultAlert, LotRelease, SpecificationVersion, TestResult
from release.services import release_problems

# A sterility test (Ph. Eur. 2.6.1) incubates at least 14 days: the final reading of a lot released on
# "no growth to date" is due 14 days after the interim reading was performed.
STERILITY_INCUBATION_DAYS = 14


def awaiting_release(session: Session, ctx: Context) -> Listing:
    """Lots awaiting QC, oldest first, each with the reasons the release rules give why the reader may
    not release it now (release.services.release_problems: the very check the release applies)."""
    stmt = select(Lot).where(Lot.status == "awaiting_qc").order_by(Lot.created_at, Lot.id)

    def item(lot: Lot) -> Item:
        problems = release_problems(session, lot, ctx.actor.id, conditional=False)
        if not problems:
            note = t("Ready for release: every result is in and passes.")
        else:
            # The first reason and how many there are (all are listed on the lot's page).
            note = t("%(count)s blockers, first: %(first)s", count=len(problems), first=problems[0].message)
        return Item(
            t("Lot %(din)s awaits QC and release", din=lot.din), "release.lot", {"lot_id": lot.id}, note=note
        )

    return listing(session, stmt, item, ctx.limit)


def conditional_releases(session: Session, ctx: Context) -> Listing:
    """Lots released on an interim sterility reading whose final reading is not in yet, the soonest due
    first (the interim reading's date plus the incubation)."""
    stmt = (
        select(TestResult, Lot)
        .join(LotRelease, LotRelease.id == TestResult.release_id)
        .join(Lot, Lot.id == TestResult.lot_id)
        .where(
            LotRelease.conditional.is_(True),
            TestResult.conditional.is_(True),
            TestResult.superseded_by_id.is_(None),
            TestResult.voided_at.is_(None),
        )
        .order_by(TestResult.performed_on, TestResult.id)
    )
    return listing(
        session,
        stmt,
        lambda r, lot: Item(
            t(
                "Lot %(din)s was released conditionally: its final %(test)s result is due",
                din=lot.din,
                test=r.test_code,
            ),
            "release.lot",
            {"lot_id": lot.id},
            due=r.performed_on + timedelta(days=STERILITY_INCUBATION_DAYS),
        ),
        ctx.limit,
        rows=True,
    )


def open_alerts(session: Session, ctx: Context) -> Listing:
    stmt = open_on_lots(LateResultAlert, LateResultAlert.created_at)
    return listing(
        session,
        stmt,
        lambda a, din: Item(
            t("Late result on lot %(din)s to acknowledge", din=din),
            "release.alerts",
            since=a.created_at.date(),
            since_label=N_("raised"),
        ),
        ctx.limit,
        rows=True,
    )


def specifications_awaiting(session: Session, ctx: Context) -> Listing:
    stmt = (
        select(SpecificationVersion)
        .where(SpecificationVersion.status.in_(("draft", "approved")))
        .order_by(SpecificationVersion.id)
    )
    return listing(
        session,
        stmt,
        lambda s: Item(
            t(
                "Specification %(label)s awaits %(step)s",
                label=s.label,
                step=t("approval") if s.status == "draft" else t("being made effective"),
            ),
            "release.spec",
            {"spec_id": s.id},
        ),
        ctx.limit,
    )


def register_queues(app) -> None:
    register(
        app,
        Queue(
            "release.alerts",
            N_("Late-result alerts to acknowledge"),
            frozenset({"lot.release"}),
            open_alerts,
            "release.alerts",
            1,
        ),
    )
    register(
        app,
        Queue(
            "release.awaiting",
            N_("Lots awaiting QC and release"),
            frozenset({"lot.release"}),
            awaiting_release,
            "release.index",
            25,
        ),
    )
    register(
        app,
        Queue(
            "release.conditional",
            N_("Conditional releases awaiting final results"),
            frozenset({"lot.release"}),
            conditional_releases,
            None,
            5,
        ),
    )
    register(
        app,
        Queue(
            "release.specs",
            N_("Specification versions awaiting approval"),
            frozenset({"spec.manage"}),
            specifications_awaiting,
            "release.specs",
            70,
        ),
    )
