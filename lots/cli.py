"""The lots domain's `flask` commands: `flask lots seed`."""

from __future__ import annotations

import click
from flask import Flask, current_app

from bank.i18n import localize, t
from bank.uow import Actor, unit_of_work
from lots import services


def register(app: Flask) -> None:
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
        # A command speaks the facility's language (FACILITY_LANGUAGE).
        message = (
            t("%(count)s product type(s) added.", count=len(added))
            if added
            else t("Product types already seeded.")
        )
        click.echo(localize(message))
