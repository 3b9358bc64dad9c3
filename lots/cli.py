"""The lots domain's `flask` commands: `flask lots seed`."""

from __future__ import annotations

from flask import Flask

from bank.cli import add_seed_command
from bank.i18n import t
from lots import services


def register(app: Flask) -> None:
    @app.cli.group("lots")
    def lots_group():
        """Lots: product types."""

    add_seed_command(
        lots_group,
        "Add the seed product types (BM-MSC-AUTO, AT-MSC-ALLO, PLACEBO-MEDIA) if missing.",
        services.seed_product_types,
        "seed product types",
        lambda added: (
            t("%(count)s product type(s) added.", count=added)
            if added
            else t("Product types already seeded.")
        ),
    )
