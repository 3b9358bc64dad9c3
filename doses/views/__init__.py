"""HTTP views of the doses domain: protocols, patients and enrolment, allocation, blinding; the menu
entries and the `doses seed` command."""

from __future__ import annotations

import click
from flask import Flask, current_app

from bank.uow import Actor, unit_of_work
from doses import services
from doses.views import dose_pages, patient_pages, protocol_pages  # noqa: F401  (routes)
from doses.views.blueprint import bp


def init_app(app: Flask) -> None:
    from doses import api  # noqa: F401  (JSON API routes)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append(("Patients", "doses.patients", "patient.view"))
    app.extensions["bank.nav"].append(("Doses", "doses.doses", "dose.view"))
    app.extensions["bank.nav"].append(("Protocols", "doses.protocols", "protocol.view"))

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
        click.echo(f"{len(added)} protocol(s) added." if added else "Protocols already seeded.")
