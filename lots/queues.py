"""The lots domain's work queues (bank.queues): lots in process (their next step), open deviations, lots
on hold, material lots expiring soon."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bank.i18n import N_, Text, t
from bank.queues import Context, Item, Listing, Queue, listing, register
from lots.models import Deviation, Lot, MaterialLot
from lots.models.materials import Material
from lots.services import actions_of
from lots.states import BENCH_OPEN, MATERIAL_STATUSES

BENCH_STEPS = ("isolation", "passage", "formulate", "submit")


def _next_steps(session: Session, lot: Lot, permissions) -> Text:
    """What the lot page offers next (lots.services.actions_of: the workflow table, QC readiness and the
    bench rules the services apply), or what stops the bench work."""
    actions = [a for a in actions_of(session, lot, frozenset(permissions)) if a.key in BENCH_STEPS]
    possible = [t(str(a.label)) for a in actions if a.possible]
    if possible:
        return t("Next: %(steps)s", steps=possible)
    stopped = [p.message for a in actions for p in a.problems]
    return t("Waiting: %(why)s", why=stopped[0]) if stopped else t("No bench step is open.")


def lots_in_process(session: Session, ctx: Context) -> Listing:
    """Lots whose bench work goes on (isolation, passages, formulation, submission for QC), oldest first,
    each with its next step."""
    stmt = select(Lot).where(Lot.status == BENCH_OPEN).order_by(Lot.created_at, Lot.id)
    return listing(
        session,
        stmt,
        lambda lot: Item(
            t("Lot %(din)s is in process: record its next step", din=lot.din),
            "lots.show",
            {"lot_id": lot.id},
            since=lot.created_at.date(),
            since_label=N_("started"),
            note=_next_steps(session, lot, ctx.actor.permissions),
        ),
        ctx.limit,
    )


def open_on_lots(record, since) -> Select:
    """The open records of lots (deviations; release's late-result alerts), oldest first by `since`, each
    with its lot's DIN."""
    return (
        select(record, Lot.din)
        .join(Lot, Lot.id == record.lot_id)
        .where(record.status == "open")
        .order_by(since, record.id)
    )


def open_deviations(session: Session, ctx: Context) -> Listing:
    stmt = open_on_lots(Deviation, Deviation.recorded_at)
    return listing(
        session,
        stmt,
        lambda d, din: Item(
            t("Open deviation on lot %(din)s: %(description)s", din=din, description=d.description[:120]),
            "lots.close_deviation",
            {"deviation_id": d.id},
            since=d.recorded_at.date(),
            since_label=N_("recorded on"),
        ),
        ctx.limit,
        rows=True,
    )


def lots_on_hold(session: Session, ctx: Context) -> Listing:
    stmt = select(Lot).where(Lot.status == "on_hold").order_by(Lot.id)
    return listing(
        session,
        stmt,
        lambda lot: Item(
            t("Lot %(din)s is on hold: review the hold", din=lot.din), "lots.show", {"lot_id": lot.id}
        ),
        ctx.limit,
    )


def materials_expiring(session: Session, ctx: Context) -> Listing:
    """Material lots not rejected whose expiry falls within the horizon (or has passed), soonest first."""
    horizon = ctx.today + timedelta(days=ctx.material_days)
    usable = [s for s in MATERIAL_STATUSES if s != "rejected"]
    stmt = (
        select(MaterialLot, Material.name)
        .join(Material, Material.id == MaterialLot.material_id)
        .where(MaterialLot.status.in_(usable), MaterialLot.expiry <= horizon)
        .order_by(MaterialLot.expiry, MaterialLot.id)
    )
    return listing(
        session,
        stmt,
        lambda m, name: Item(
            t("%(material)s lot %(lot)s expires", material=name, lot=m.lot_number),
            "materials.index",
            due=m.expiry,
        ),
        ctx.limit,
        rows=True,
    )


def register_queues(app) -> None:
    register(
        app,
        Queue(
            "lots.in_process",
            N_("Lots in process"),
            frozenset({"lot.edit"}),
            lots_in_process,
            "lots.index",
            30,
        ),
    )
    register(
        app,
        Queue(
            "lots.deviations",
            N_("Open deviations"),
            frozenset({"deviation.close"}),
            open_deviations,
            None,
            40,
        ),
    )
    register(
        app, Queue("lots.holds", N_("Lots on hold"), frozenset({"lot.hold"}), lots_on_hold, "lots.index", 45)
    )
    register(
        app,
        Queue(
            "lots.materials",
            N_("Materials expiring soon"),
            frozenset({"material.manage"}),
            materials_expiring,
            "materials.index",
            60,
        ),
    )
