"""HTTP views of the release domain: the QC queue and lot QC pages, specifications, late-result alerts,
certificates of analysis; the menu entry and the `release` CLI group."""

from __future__ import annotations

import re
import sys

import click
from flask import Flask, current_app

from bank.uow import Actor, unit_of_work
from release import alert_views, lot_views, spec_views  # noqa: F401  (routes)
from release.blueprint import bp
from release.reports import digest_matches
from release.services import ensure_seed_specifications


def init_app(app: Flask) -> None:
    from release import api  # noqa: F401  (JSON API routes)

    app.register_blueprint(bp)
    app.extensions["bank.nav"].append(("Release", "release.index", "release.view"))

    @app.cli.group("release")
    def release_group():
        """Release: specifications and certificates of analysis."""

    @release_group.command("seed")
    def seed_command():
        """Store the seed specifications (release/specs.py) of products that have none yet."""
        session = current_app.extensions["bank.sessions"]()
        try:
            with unit_of_work(session, Actor(None, "system (command line)"), "seed release specifications"):
                added = ensure_seed_specifications(session)
        finally:
            session.close()
        click.echo(f"{len(added)} specification(s) added." if added else "Specifications already seeded.")

    @release_group.command("check-coa")
    @click.argument("din")
    @click.argument("digest")
    def check_coa_command(din, digest):
        """Say whether DIGEST (printed on a certificate) matches lot DIN's records now; exit 1 if not."""
        from sqlalchemy import select

        from lots.models import Lot

        session = current_app.extensions["bank.sessions"]()
        try:
            lot = session.scalar(select(Lot).where(Lot.din == re.sub(r"[^A-Z0-9]", "", din.upper())[:13]))
            if lot is None:
                click.echo(f"No lot with DIN {din}.", err=True)
                sys.exit(2)
            if digest_matches(session, lot, digest):
                click.echo(f"MATCH: the certificate of lot {lot.din} shows what the records say.")
            else:
                click.echo(f"NO MATCH: the records of lot {lot.din} differ from the certificate.", err=True)
                sys.exit(1)
        finally:
            session.close()
