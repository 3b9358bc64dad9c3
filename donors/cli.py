"""The donors domain's `flask` commands, and its part of `flask init`: the seed criteria set."""

from __future__ import annotations

import click
from flask import Flask, current_app
from sqlalchemy.orm import Session

from bank.i18n import Text, localize, t
from bank.refusals import Refused
from bank.uow import Actor, unit_of_work
from donors.services.criteria import ensure_seed_criteria

SEED_ACTOR = Actor(None, "system (donor criteria seed)")


def seed_criteria(session: Session) -> Text:
    """Store and activate the seed criteria set "SSc adipose donor v1" unless a version is active;
    one line saying which version is active (or why none is)."""
    try:
        with unit_of_work(session, SEED_ACTOR, "seed criteria set"):
            row = ensure_seed_criteria(session)
    except Refused as e:  # versions exist, none active: QA's to activate one, not the seed's
        return t(
            "Donor criteria set not seeded: %(reason)s",
            reason=e.problems[0].message if e.problems else str(e),
        )
    return t("Active donor criteria set: %(label)s", label=row.label)


def register(app: Flask) -> None:
    # `flask init` runs every domain's seed of its reference data (bank.cli).
    app.extensions.setdefault("bank.init_seeds", []).append(seed_criteria)

    @app.cli.command("donor-criteria-seed")
    def seed_command():
        """Store and activate the seed criteria set "SSc adipose donor v1" unless a version exists."""
        session = current_app.extensions["bank.sessions"]()
        try:
            click.echo(localize(seed_criteria(session)))  # in the facility's language
        finally:
            session.close()
