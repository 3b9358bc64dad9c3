"""The lots domain's `flask` commands: `flask lots seed`."""

from __future__ import annotations

from flask import Flask

from bank.cli import echo, seed_from_command_line
from bank.i18n import t
from lots import services


def register(app: Flask) -> None:
    @app.cli.group("lots")
    def lots_group():
        """Lots: product types."""

    @lots_group.command("seed")
    def seed_command():
        """Add the seed product types (BM-MSC-AUTO, AT-MSC-ALLO, PLACEBO-MEDIA) if missing."""
        added = seed_from_command_line(services.seed_product_types, "seed product types")
        # A command speaks the facility's language (FACILITY_LANGUAGE).
        echo(
            t("%(count)s product type(s) added.", count=added)
            if added
            else t("Product types already seeded.")
        )
