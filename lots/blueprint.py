"""The lots domain's blueprints and the helpers its views and API share."""

from __future__ import annotations

from flask import Blueprint, current_app

from bank.web import db
from lots.services.materials import usable_material_lots

bp = Blueprint("lots", __name__, url_prefix="/lots")
storage_bp = Blueprint("storage", __name__, url_prefix="/storage")
materials_bp = Blueprint("materials", __name__, url_prefix="/materials")


def fin() -> str:
    return current_app.config["FACILITY_FIN"]


def offer_materials(form) -> None:
    form.material_lot_ids.choices = [
        (m.id, f"{m.label} — {m.status}{' · animal origin' if m.material.animal_origin else ''}")
        for m in usable_material_lots(db())
    ]
