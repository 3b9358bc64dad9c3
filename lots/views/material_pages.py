"""Material register: materials (supplier, animal-origin flag), their lots (expiry, status)."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from sqlalchemy import and_, or_, select

from bank.clock import today
from bank.forms import entered
from bank.i18n import N_, localize, t
from bank.languages import day_text, flash
from bank.lists import Export, SortColumn, by_status, listed, shown_status
from bank.web import LIKE_ESCAPE, db, get_or_404, like_pattern, posted, requires, step, text_arg
from lots import services
from lots.blueprint import expiring_days, form_page, material_standing, materials_bp
from lots.forms import MaterialForm, MaterialLotForm, MaterialLotStatusForm
from lots.models import Material, MaterialLot
from lots.rules import MATERIAL_USABILITY, status_word
from lots.states import MATERIAL_STATUSES


def _usability_clause(usability: str):
    """The SQL twin of lots.rules.material_usability (expiry first, then status, then how soon)."""
    now = today()
    soon = now + timedelta(days=expiring_days())
    live = MaterialLot.expiry >= now
    return {
        "expired": MaterialLot.expiry < now,
        "rejected": and_(live, MaterialLot.status == "rejected"),
        "quarantined": and_(live, MaterialLot.status.notin_(("approved", "rejected"))),
        "expiring_soon": and_(live, MaterialLot.status == "approved", MaterialLot.expiry <= soon),
        "usable": and_(MaterialLot.status == "approved", MaterialLot.expiry > soon),
    }[usability]


MATERIAL_COLUMNS = (
    SortColumn("material", N_("Material"), Material.name),
    SortColumn("supplier", N_("Supplier"), Material.supplier),
    SortColumn("lot", N_("Lot"), MaterialLot.lot_number),
    SortColumn("expiry", N_("Expiry"), MaterialLot.expiry),
    SortColumn("status", N_("Status"), MaterialLot.status),
)


def _material_row(m: MaterialLot) -> tuple:
    """A material lot in the CSV export: the columns the list shows, as it shows them."""
    use, why = material_standing(m)
    return (
        m.material.name,
        m.material.supplier,
        m.lot_number,
        day_text(m.expiry),
        localize(t("animal origin")) if m.material.animal_origin else "",
        shown_status(m.status),
        f"{localize(use.replace('_', ' '))} {localize(why)}".strip(),
    )


MATERIAL_EXPORT = Export(
    "materials.csv",
    ("material", "supplier", "lot", "expiry", "tse_risk", "status", "use_today"),
    _material_row,
)


@materials_bp.route("/")
@requires("lot.view")
def index():
    q = text_arg("q", 60)
    stmt = select(MaterialLot).join(Material).order_by(Material.name, MaterialLot.expiry)
    if q:
        stmt = stmt.where(
            or_(
                Material.name.ilike(like_pattern(q), escape=LIKE_ESCAPE),
                MaterialLot.lot_number.ilike(like_pattern(q), escape=LIKE_ESCAPE),
            )
        )
    stmt, status = by_status(stmt, MaterialLot.status, MATERIAL_STATUSES)
    usability = request.args.get("usability", "")
    if usability in MATERIAL_USABILITY:
        stmt = stmt.where(_usability_clause(usability))
    order, page = listed(stmt, MATERIAL_COLUMNS, MaterialLot.id, MATERIAL_EXPORT)
    materials = db().scalars(select(Material).order_by(Material.name)).all()
    return render_template(
        "lots/materials/index.html",
        page=page,
        standing={m.id: material_standing(m) for m in page.items},
        q=q,
        status=status,
        usability=usability,
        usabilities=MATERIAL_USABILITY,
        expiring_days=expiring_days(),
        statuses=MATERIAL_STATUSES,
        materials=materials,
        status_form=MaterialLotStatusForm(),
        sorting=order,
    )


@materials_bp.route("/new", methods=["GET", "POST"])
@requires("material.manage")
def new_material():
    form = MaterialForm()
    done = posted(
        form, lambda: services.add_material(db(), **entered(form)), "material added to the catalogue"
    )
    if done.ok:
        flash(t("%(material)s added to the catalogue.", material=done.value.name), "success")
        return redirect(url_for("materials.new_lot", material_id=done.value.id))
    return form_page(form, t("New material"))


@materials_bp.route("/<int:material_id>/lots/new", methods=["GET", "POST"])
@requires("material.manage")
def new_lot(material_id: int):
    material = get_or_404(Material, material_id)
    form = MaterialLotForm()
    done = posted(
        form, lambda: services.add_material_lot(db(), material, **entered(form)), "material lot received"
    )
    if done.ok:
        flash(
            t(
                "%(lot)s registered as %(status)s.",
                lot=done.value.label,
                status=status_word(done.value.status),
            ),
            "success",
        )
        return redirect(url_for("materials.index"))
    return form_page(form, t("New lot of %(material)s", material=material.name))


@materials_bp.route("/lots/<int:lot_id>/status", methods=["POST"])
@requires("material.manage")
def set_status(lot_id: int):
    lot = get_or_404(MaterialLot, lot_id)
    form = MaterialLotStatusForm()
    if step(
        form,
        lambda: services.set_material_lot_status(db(), lot, form.status.data),
        form.reason.data,
        invalid=t("Give a reason for the status change."),
    ).ok:
        flash(t("%(lot)s is now %(status)s.", lot=lot.label, status=status_word(lot.status)), "success")
    return redirect(url_for("materials.index"))
