"""The doses domain's `flask` commands: `doses seed` stores the seed trial protocols that are missing."""

from __future__ import annotations

from flask import Flask

from bank.cli import add_seed_command
from bank.i18n import t
from doses import services


def register(app: Flask) -> None:
    @app.cli.group("doses")
    def doses_group():
        """Doses: trial protocols."""

    add_seed_command(
        doses_group,
        "Store the seed trial protocols (MESEMS, MAESTRO-4MS, MSC-AT-SSc) that are missing.",
        services.ensure_seed_protocols,
        "seed trial protocols",
        lambda added: (
            t("%(count)s protocol(s) added.", count=added) if added else t("Protocols already seeded.")
        ),
    )
