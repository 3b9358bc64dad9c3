"""The doses domain's `flask` commands: `doses seed` stores the seed trial protocols that are missing."""

from __future__ import annotations

import click
from flask import Flask, current_app

from bank.i18n import localize, t
from bank.uow import Actor, unit_of_work
from doses import services


def register(app: Flask) -> None:
    @app.cli.group("doses")
    def doses_group():
        """Doses: trial protocols."""

    @doses_group.command("seed")
    def seed_command():
        """Store the seed trial protocols (MESEMS, MAESTRO-4MS, MSC-AT-SSc) that are missing."""
        session = current_app.extensions["bank.sessions"]()
        try:
            with unit_of_work(session, Actor(None, "system (command line)"), "seed trial protocols"):
                added = services.ensure_seed_protocols(session)
        finally:
            session.close()
        click.echo(
            localize(
                t("%(count)s protocol(s) added.", count=len(added))
                if added
                else t("Protocols already seeded.")
            )
        )
