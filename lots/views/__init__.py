"""HTTP views of the lots domain: lots and bench steps, storage, materials; menu, scan box and CLI."""

from __future__ import annotations

import click
from flask import Flask, current_app

from bank.uow import Actor, unit_of_work
from lots import (
    api,  # noqa: F401  (JSON API routes)
    services,
)
from lots.views import lot_pages, lot_steps, material_pages, storage_pages  # noqa: F401  (routes)
from lots.views.blueprints import bp, materials_bp, storage_bp


def init_app(app: Flask) -> None:
    for blueprint in (bp, storage_bp, materials_bp):
        app.register_blueprint(blueprint)
    app.extensions["bank.nav"].append(("Lots", "lots.index", "lot.view"))
    app.extensions["bank.nav"].append(("Storage", "storage.index", "storage.view"))
    app.extensions["bank.nav"].append(("Materials", "materials.index", "lot.view"))
    app.extensions["bank.scan_resolvers"].append(lot_pages.resolve_scan)

    @app.cli.group("lots")
    def lots_group():
        """Lots: product types."""

    @lots_group.command("seed")
    def seed_command():
        """Add the seed product types (BM-MSC-AUTO, AT-MSC-ALLO, PLACEBO-MEDIA) if missing."""
        session = current_app.extensions["bank.sessions"]()
        try:
            with unit_of_work(session, Actor(None, "system (command line)"), "seed product types"):
                added = services.seed_product_types(session)
        finally:
            session.close()
        click.echo(f"{len(added)} product type(s) added." if added else "Product types already seeded.")
