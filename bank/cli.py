"""Command line: `flask --app wsgi <command>` — init (migrate + first admin), db upgrade, users, audit."""

from __future__ import annotations

import os
import sys

import click
from flask import Flask, current_app, g

from bank.audit import verify_chain
from bank.migrate import upgrade
from bank.uow import Actor, unit_of_work
from bank.users import UserError, bootstrap_admin, create_user, generate_password


def _session():
    """A session for one command; closed when the command's app context ends."""
    session = current_app.extensions["bank.sessions"]()
    g.cli_sessions = [*g.get("cli_sessions", []), session]
    return session


def register_cli(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_cli_sessions(_exc):
        for session in g.pop("cli_sessions", []):
            session.close()

    @app.cli.command("init")
    def init_command():
        """Apply migrations; on an empty database create the first admin and print its password once."""
        upgrade(current_app.config["DATABASE_URL"])
        session = _session()
        try:
            with unit_of_work(session, Actor(None, "system (first start)")):
                created = bootstrap_admin(session, os.environ.get("BANK_ADMIN_PASSWORD"))
        except UserError as e:
            click.echo(f"error: BANK_ADMIN_PASSWORD refused: {e.errors.get('password', e)}", err=True)
            sys.exit(2)
        if created:
            user, password = created
            shown = "(from BANK_ADMIN_PASSWORD)" if os.environ.get("BANK_ADMIN_PASSWORD") else password
            click.echo("=" * 64)
            click.echo(f" First start: administrator account '{user.username}' created.")
            click.echo(f" One-time password: {shown}")
            click.echo(" It is shown only now; you must change it at first sign-in.")
            click.echo("=" * 64)
        else:
            click.echo("Database is up to date.")
        # Each domain's reference data that a fresh database needs (e.g. the active donor criteria set).
        for seed in current_app.extensions.get("bank.init_seeds", ()):
            click.echo(seed(session))

    @app.cli.group("db")
    def db_group():
        """Database schema."""

    @db_group.command("upgrade")
    def db_upgrade():
        """Apply every Alembic migration."""
        upgrade(current_app.config["DATABASE_URL"])
        click.echo("Database schema is at the latest migration.")

    @app.cli.group("users")
    def users_group():
        """User accounts."""

    @users_group.command("create")
    @click.argument("username")
    @click.option("--name", "full_name", required=True, help="Printed name (shown on signatures).")
    @click.option("--role", "roles", multiple=True, required=True,
                  type=click.Choice(["admin", "technician", "qa", "clinical"]))
    @click.option("--unblinded", is_flag=True, help="May see the treatment behind blinded doses.")
    def create_user_command(username, full_name, roles, unblinded):
        """Create a user; a one-time password is printed."""
        password = generate_password()
        session = _session()
        try:
            with unit_of_work(session, Actor(None, "system (command line)")):
                create_user(session, username, full_name, list(roles), password, unblinded=unblinded)
        except UserError as e:
            for field, message in e.errors.items():
                click.echo(f"error: {field}: {message}", err=True)
            sys.exit(2)
        click.echo(f"User {username} created. One-time password: {password}")

    @users_group.command("unlock")
    @click.argument("username")
    def unlock_user_command(username):
        """Lift the temporary lock that wrong passwords put on an account, and reset its failure count."""
        from sqlalchemy import select

        from bank.models import User
        from bank.users import unlock

        session = _session()
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            click.echo(f"error: no user named {username!r}", err=True)
            sys.exit(2)
        with unit_of_work(session, Actor(None, "system (command line)"), "account unlocked from the command line"):
            unlock(session, user)
        click.echo(f"Account {user.username} unlocked.")

    @app.cli.group("audit")
    def audit_group():
        """Audit trail."""

    @audit_group.command("verify")
    def audit_verify():
        """Recompute the hash chain; exit 1 and name the first broken row if any."""
        session = _session()
        report = verify_chain(session)
        session.rollback()
        if report.ok:
            click.echo(f"Audit trail intact: {report.checked} rows verified.")
        else:
            click.echo(f"Audit trail BROKEN at row {report.first_broken_id}: {report.problem} "
                       f"({report.checked} rows before it verified).", err=True)
            sys.exit(1)

