"""HTTP views of the lots domain: lots and bench steps, storage, materials; menu, scan box and CLI."""

from __future__ import annotations

from flask import Flask

from bank.i18n import N_
from bank.verification.services import register_kind
from lots import (
    api,  # noqa: F401  (JSON API routes)
    cli,
)
from lots.blueprint import bp, materials_bp, storage_bp
from lots.services.verifiable import VERIFIABLE_KINDS
from lots.views import corrections, lot_pages, lot_steps, material_pages, storage_pages  # noqa: F401  (routes)


def init_app(app: Flask) -> None:
    for blueprint in (bp, storage_bp, materials_bp):
        app.register_blueprint(blueprint)
    app.extensions["bank.nav"].append((N_("Lots"), "lots.index", "lot.view"))
    app.extensions["bank.nav"].append((N_("Storage"), "storage.index", "storage.view"))
    app.extensions["bank.nav"].append((N_("Materials"), "materials.index", "lot.view"))
    app.extensions["bank.scan_resolvers"].append(lot_pages.resolve_scan)
    for kind in VERIFIABLE_KINDS:  # isolations and passages on the "Entries to verify" page
        register_kind(app, kind)
    cli.register(app)
