"""The lots domain's blueprints and the helpers its views and API share."""

from __future__ import annotations

import os

from flask import Blueprint, current_app, redirect, render_template, url_for
from sqlalchemy import select

from bank.clock import today
from bank.i18n import N_, localize, t
from bank.web import db
from lots.models import ProductType
from lots.rules import material_lot_name, material_usability
from lots.services.materials import facts, usable_material_lots

DEFAULT_EXPIRING_DAYS = 30

bp = Blueprint("lots", __name__, url_prefix="/lots")
storage_bp = Blueprint("storage", __name__, url_prefix="/storage")
materials_bp = Blueprint("materials", __name__, url_prefix="/materials")


def fin() -> str:
    return current_app.config["FACILITY_FIN"]


def form_page(form, title, lot=None, **page):
    """A form of the lots screens (templates/lots/form.html), with the lot it concerns when there is one;
    `page`: the intro above it, the fields confirmed only when flagged (soft_fields)."""
    return render_template("lots/form.html", form=form, lot=lot, title=title, **page)


def back_to_lot(lot_id: int):
    """After a step on a lot: its page."""
    return redirect(url_for("lots.show", lot_id=lot_id))


def of_product(stmt, product: str):
    """A list of lots narrowed to one product, every version of it (its key); no key: every lot."""
    return stmt.join(ProductType).where(ProductType.key == product) if product else stmt


def product_keys() -> list[str]:
    """The products a list of lots can be narrowed to (each key once, whatever its versions)."""
    return sorted(set(db().scalars(select(ProductType.key))))


def expiring_days() -> int:
    """Days before its expiry a material lot is shown as expiring soon: MATERIAL_EXPIRING_DAYS (app config,
    else the environment), 30 by default."""
    value = current_app.config.get("MATERIAL_EXPIRING_DAYS", os.environ.get("MATERIAL_EXPIRING_DAYS"))
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_EXPIRING_DAYS
    return days if 0 <= days <= 3650 else DEFAULT_EXPIRING_DAYS


def material_standing(lot) -> tuple[str, str]:
    """(usability, reason) of a material lot today (lots.rules.material_usability)."""
    return material_usability(facts(lot), today(), expiring_days())


# A material lot offered on a bench form: (usable, animal origin) → its wording.
MATERIAL_CHOICE = {
    (True, False): N_("%(lot)s — %(reason)s"),
    (True, True): N_("%(lot)s — %(reason)s · animal origin"),
    (False, False): N_("%(lot)s — %(reason)s (not usable)"),
    (False, True): N_("%(lot)s — %(reason)s · animal origin (not usable)"),
}


def offer_materials(form) -> None:
    """Material lot choices with what stands in their way today: expired, quarantined or rejected lots are
    shown disabled with the reason (the service refuses them too); expiring ones say when."""
    choices = []
    for m in usable_material_lots(db(), include_rejected=True):
        state, reason = material_standing(m)
        usable = state in ("usable", "expiring_soon")
        name = material_lot_name(m.material.name, m.lot_number)
        label = t(MATERIAL_CHOICE[usable, m.material.animal_origin], lot=name, reason=reason)
        choices.append(
            (m.id, label, {} if usable else {"disabled": "disabled", "data-reason": localize(reason)})
        )
    form.material_lot_ids.choices = choices
