"""The `flask release …` commands: store the seed specifications, check a printed certificate's digest."""

from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from bank.uow import Actor, unit_of_work
from lots.models import Lot
from release.reports import digest_matches
from release.services import ensure_seed_specifications

release_group = AppGroup("release", help="Release: specifications and certificates of analysis.")


@release_group.command("seed")
def seed_command():
    """Store the seed specifications (release/reference.py) of products that have none yet."""
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
