"""`flask --app wsgi demo`: fill an empty database with the demo facility, saying each phase as it starts."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask, current_app
from sqlalchemy import func, select

from bank.cli import echo
from bank.i18n import localize, t
from bank.users import generate_password
from bank.workflow import status_label

# The summary's lines, in words (the summary counts what the database holds: demo.scenario.summary).
SUMMARY_LINES = {
    "donors": t("donors"),
    "lots": t("lots"),
    "containers": t("containers"),
    "patients": t("patients"),
    "allocations": t("doses"),
    "custody events": t("custody events"),
}


def register(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option("--password", help="Password of every demo account (default: generated and printed once).")
    def demo_command(password):
        """Fill an EMPTY database (no donors yet) with a realistic demo facility, through the real services."""
        from demo.facility import Facility
        from demo.people import STAFF, create_staff
        from demo.scenario import build
        from donors.models import Donor

        started = time.monotonic()

        def progress(step: int, total: int, phase: str) -> None:
            # Half a minute of work: each phase is announced with how far the build is.
            seconds = round(time.monotonic() - started)
            echo(
                t(
                    "Demo facility, step %(step)s of %(total)s (%(seconds)s s): %(phase)s…",
                    step=step,
                    total=total,
                    seconds=seconds,
                    phase=phase,
                )
            )

        session = current_app.extensions["bank.sessions"]()
        try:
            if session.scalar(select(func.count()).select_from(Donor)):
                echo(
                    t("error: the database already holds donors; the demo fills an empty facility only."),
                    err=True,
                )
                sys.exit(2)
            password = password or generate_password()
            echo(t("Demo facility: creating the staff accounts…"))
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
                ),
                progress,
            )
        finally:
            session.close()
        echo(t("Demo facility ready:"))
        for key, counted in summary.items():
            if isinstance(counted, dict):  # counted by status: "3 eligible, 2 ineligible"
                counted = ", ".join(
                    f"{n} {localize(status_label(status))}" for status, n in sorted(counted.items())
                )
            echo(f"  {localize(SUMMARY_LINES.get(key, key))}: {counted}")
        echo(t("Demo accounts (password shown only now: %(password)s):", password=password))
        unblinded_note = " " + localize(t("(unblinded)"))
        for username, name, roles, unblinded in STAFF:
            echo(f"  {username:<12} {name:<16} {', '.join(roles)}{unblinded_note if unblinded else ''}")
