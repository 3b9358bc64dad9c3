"""Storage: boxes (site → tank → rack → box) shown as grids, storing, moving and removing containers."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from sqlalchemy import func, select

from bank.charts import bars_svg
from bank.forms import ConfirmForm, entered
from bank.i18n import N_, t
from bank.languages import flash
from bank.lists import Export, SortColumn, listed
from bank.web import LIKE_ESCAPE, attempt, db, get_or_404, like_pattern, posted, requires, submitted, text_arg
from lots import services
from lots.blueprint import form_page, storage_bp
from lots.forms import BoxForm, PositionForm, ReasonForm
from lots.models import Container, Lot, StorageBox
from lots.rules import box_grid
from lots.states import LOT_WORKFLOW
from lots.storage_use import storage_use, use_bars

# What a stored container may be used for, as the grid colours and words it (the legend lists them all):
# anything held, quarantined or rejected stands out from what is released and free to allocate.
CELL_STATES = {
    "released": N_("released"),
    "allocated": N_("allocated"),
    "awaiting_qc": N_("awaiting QC"),
    "in_process": N_("in process"),
    "quarantine": N_("quarantine"),
    "on_hold": N_("on hold"),
    "rejected": N_("rejected"),
}


def cell_state(container: Container) -> str:
    """The one state a grid cell shows for a container, the most restrictive first."""
    lot = container.lot
    if container.on_hold or lot.status == "on_hold":
        return "on_hold"
    if lot.status == "rejected":
        return "rejected"
    if lot.quarantined:
        return "quarantine"
    if container.status == "allocated":
        return "allocated"
    return lot.status if lot.status in CELL_STATES else "in_process"


def _position_form() -> PositionForm:
    """Where to store: a box (every box offered) and the position in it."""
    form = PositionForm()
    form.box_id.choices = [
        (b.id, b.location)
        for b in db().scalars(
            select(StorageBox).order_by(StorageBox.site, StorageBox.tank, StorageBox.rack, StorageBox.name)
        )
    ]
    return form


def _stored(form: PositionForm, store, reason: str):
    """(the box, what `store(box)` returned) once the posted form names a box and storing was not refused;
    else None, the form showing why."""
    if not form.validate_on_submit():
        return None
    box = db().get(StorageBox, form.box_id.data) if form.box_id.data else None
    if box is None:
        form.box_id.errors = [t("Choose a box (create one under Storage first).")]
        return None
    done = attempt(form, lambda: store(box), reason)
    return (box, done.value) if done.ok else None


def _stored_message(container: Container, box: str, row: int, col: int) -> str:
    return t(
        "Container %(container)s stored in box %(box)s, row %(row)s, column %(col)s.",
        container=container.identifier,
        box=box,
        row=row,
        col=col,
    )


BOX_COLUMNS = (
    SortColumn("site", N_("Site"), StorageBox.site),
    SortColumn("tank", N_("Tank"), StorageBox.tank),
    SortColumn("rack", N_("Rack"), StorageBox.rack),
    SortColumn("box", N_("Box"), StorageBox.name),
)


@storage_bp.route("/")
@requires("storage.view")
def index():
    site, q = text_arg("site", 80), text_arg("q")
    used = (
        select(Container.box_id, func.count().label("used"))
        .where(Container.box_id.is_not(None))
        .group_by(Container.box_id)
        .subquery()
    )
    stmt = select(StorageBox).order_by(StorageBox.site, StorageBox.tank, StorageBox.rack, StorageBox.name)
    if site:
        stmt = stmt.where(StorageBox.site == site)
    if q:
        stmt = stmt.where(
            StorageBox.name.ilike(like_pattern(q), escape=LIKE_ESCAPE)
            | StorageBox.tank.ilike(like_pattern(q), escape=LIKE_ESCAPE)
        )
    counts = dict(db().execute(select(used.c.box_id, used.c.used)).all())
    export = Export(  # the columns the list shows, every box as filtered
        "storage-boxes.csv",
        ("site", "tank", "rack", "box", "size", "used"),
        lambda b: (
            b.site,
            b.tank,
            b.rack,
            b.name,
            f"{b.row_count} × {b.col_count}",
            f"{counts.get(b.id, 0)} / {b.row_count * b.col_count}",
        ),
    )
    order, page = listed(stmt, BOX_COLUMNS, StorageBox.id, export)
    sites = sorted(set(db().scalars(select(StorageBox.site))))
    return render_template(
        "lots/storage/index.html", page=page, counts=counts, site=site, sites=sites, q=q, sorting=order
    )


@storage_bp.route("/use")
@requires("storage.view")
def use():
    rows = storage_use(db())
    return render_template(
        "lots/storage/use.html", rows=rows, chart=bars_svg(use_bars(rows)) if rows else None
    )


@storage_bp.route("/boxes/new", methods=["GET", "POST"])
@requires("storage.manage")
def new_box():
    form = BoxForm()
    done = posted(form, lambda: services.create_box(db(), **entered(form)), "storage box created")
    if done.ok:
        flash(t("Box %(box)s created.", box=done.value.location), "success")
        return redirect(url_for("storage.box", box_id=done.value.id))
    return form_page(form, t("New storage box"))


@storage_bp.route("/boxes/<int:box_id>")
@requires("storage.view")
def box(box_id: int):
    item = get_or_404(StorageBox, box_id)
    taken = services.occupancy(db(), item)
    grid = box_grid(item.row_count, item.col_count, taken)
    return render_template(
        "lots/storage/box.html",
        box=item,
        grid=grid,
        used=len(taken),
        free=item.row_count * item.col_count - len(taken),
        cell_state=cell_state,
        states=CELL_STATES,
        lot_label=LOT_WORKFLOW.label,
    )


def _position(box: StorageBox, row: int, col: int) -> None:
    if not (1 <= row <= box.row_count and 1 <= col <= box.col_count):
        abort(404)


def _store_here_page(box: StorageBox, row: int, col: int, form: ConfirmForm):
    waiting = db().scalars(
        select(Container)
        .where(Container.box_id.is_(None), Container.status.in_(("formulated", "removed")))
        .order_by(Container.id.desc())
        .limit(200)
    )
    return render_template(
        "lots/storage/store_here.html",
        box=box,
        row=row,
        col=col,
        waiting=list(waiting),
        taken=services.occupancy(db(), box).get((row, col)),
        form=form,
    )


@storage_bp.route("/boxes/<int:box_id>/positions/<int:row>/<int:col>")
@requires("storage.manage")
def store_here(box_id: int, row: int, col: int):
    """An empty cell of the grid, clicked: the containers waiting to be stored, each with a button that
    stores it at exactly this position."""
    item = get_or_404(StorageBox, box_id)
    _position(item, row, col)
    return _store_here_page(item, row, col, ConfirmForm())


@storage_bp.route("/boxes/<int:box_id>/positions/<int:row>/<int:col>/<int:container_id>", methods=["POST"])
@requires("storage.manage")
def store_at(box_id: int, row: int, col: int, container_id: int):
    item = get_or_404(StorageBox, box_id)
    _position(item, row, col)
    container = get_or_404(Container, container_id)
    form = ConfirmForm()
    if submitted(
        form,
        lambda: services.store_container(db(), container, item, row, col, form.reason.data or None),
        form.reason.data or "container stored",
    ):
        flash(_stored_message(container, item.name, row, col), "success")
        return redirect(url_for("storage.box", box_id=item.id))
    return _store_here_page(item, row, col, form), 409


@storage_bp.route("/lots/<int:lot_id>/store", methods=["GET", "POST"])
@requires("storage.manage")
def store_lot(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = _position_form()
    if stored := _stored(
        form,
        lambda box: services.store_lot_containers(db(), lot, box, form.row.data, form.col.data),
        "containers stored",
    ):
        box, count = stored
        flash(
            t(
                "%(count)s containers of lot %(din)s stored in box %(box)s.",
                count=count,
                din=lot.din,
                box=box.name,
            ),
            "success",
        )
        return redirect(url_for("storage.box", box_id=box.id))
    intro = t("Fills the free positions of the box row by row, from the position given.")
    return form_page(form, t("Store the containers of lot %(din)s", din=lot.din), lot, intro=intro)


@storage_bp.route("/containers/<int:container_id>/store", methods=["GET", "POST"])
@requires("storage.manage")
def store_container(container_id: int):
    item = get_or_404(Container, container_id)
    form = _position_form()
    if stored := _stored(
        form,
        lambda box: services.store_container(db(), item, box, form.row.data, form.col.data, form.reason.data),
        form.reason.data or "container stored",
    ):
        box, _ = stored
        flash(_stored_message(item, box.location, item.position_row, item.position_col), "success")
        return redirect(url_for("lots.container", container_id=item.id))
    return form_page(form, t("Store or move container %(container)s", container=item.identifier))


@storage_bp.route("/containers/<int:container_id>/remove", methods=["GET", "POST"])
@requires("storage.manage")
def remove_container(container_id: int):
    item = get_or_404(Container, container_id)
    form = ReasonForm()
    if submitted(form, lambda: services.remove_container(db(), item, form.reason.data), form.reason.data):
        flash(t("Container %(container)s taken out of storage.", container=item.identifier), "warning")
        return redirect(url_for("lots.container", container_id=item.id))
    return form_page(form, t("Take container %(container)s out of storage", container=item.identifier))
