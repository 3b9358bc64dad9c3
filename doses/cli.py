"""The doses domain's `flask` commands: `doses seed` stores the seed trial protocols that are missing."""

from __future__ import annotations

from flask import Flask

from bank.cli import echo, seed_from_command_line
from bank.i18n import t
from doses import services


def register(app: Flask) -> None:
    @app.cli.group("doses")
    def doses_group():
        """Doses: trial protocols."""

    @doses_group.command("seed")
    def seed_command():
        """Store the seed trial protocols (MESEMS, MAESTRO-4MS, MSC-AT-SSc) that are missing."""
        added = seed_from_command_line(services.ensure_seed_protocols, "seed trial protocols")
        echo(t("%(count)s protocol(s) added.", count=added) if added else t("Protocols already seeded."))
