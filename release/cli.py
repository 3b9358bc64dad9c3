"""The `flask release …` commands: store the seed specifications, check a printed certificate's digest."""

from __future__ import annotations

import re
import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from bank.cli import add_seed_command, echo
from bank.i18n import t
from lots.models import Lot
from release.reports import digest_matches
from release.services import ensure_seed_specifications

release_group = AppGroup("release", help="Release: specifications and certificates of analysis.")


add_seed_command(
    release_group,
    "Store the seed specifications (release/reference.py) of products that have none yet.",
    ensure_seed_specifications,
    "seed release specifications",
    lambda added: (
        t("%(count)s specification(s) added.", count=added) if added else t("Specifications already seeded.")
    ),
)


@release_group.command("check-coa")
@click.argument("din")
@click.argument("digest")
def check_coa_command(din, digest):
    """Say whether DIGEST (printed on a certificate) matches lot DIN's records now; exit 1 if not."""
    session = current_app.extensions["bank.sessions"]()
    try:
        lot = session.scalar(select(Lot).where(Lot.din == re.sub(r"[^A-Z0-9]", "", din.upper())[:13]))
        if lot is None:
            echo(t("No lot with DIN %(din)s.", din=din), err=True)
            sys.exit(2)
        if digest_matches(session, lot, digest):
            echo(t("MATCH: the certificate of lot %(din)s shows what the records say.", din=lot.din))
        else:
            echo(
                t("NO MATCH: the records of lot %(din)s differ from the certificate.", din=lot.din), err=True
            )
            sys.exit(1)
    finally:
        session.close()
