"""`flask --app wsgi demo`: fill an empty database with the demo facility."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from bank.cli import echo
from bank.i18n import localize, t
from bank.users import generate_password


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", help="Password of every demo account (default: generated and printed once).")
    def demo_command(password):
        """Fill an EMPTY database (no donors yet) with a realistic demo facility, through the real services."""
        from demo.facility import Facility
        from demo.people import STAFF, create_staff
        from demo.scenario import build
        from donors.models import Donor

        session = current_app.extensions["bank.sessions"]()
        try:
            if session.scalar(select(func.count()).select_from(Donor)):
                echo(
                    t("error: the database already holds donors; the demo fills an empty facility only."),
                    err=True,
                )
                sys.exit(2)
            password = password or generate_password()
            staff = create_staff(session, password)
            config = current_app.config
            summary = build(
                Facility(
                    session,
                    staff,
                    config["FACILITY_FIN"],
                    password,
                    config["FACILITY_TIMEZONE"],
                    config["FACILITY_NAME"],
                )
            )
        finally:
            session.close()
        echo(t("Demo facility ready: %(summary)s.", summary=str(summary)))
        echo(t("Demo accounts (password shown only now: %(password)s):", password=password))
        unblinded_note = " " + localize(t("(unblinded)"))
        for username, name, roles, unblinded in STAFF:
            echo(f"  {username:<12} {name:<16} {', '.join(roles)}{unblinded_note if unblinded else ''}")
