"""Command line: `flask --app wsgi <command>` — init (migrate + first admin), db upgrade and roles, users,
audit (verify, anchor, rekey), backup and restore."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sized
from pathlib import Path

import click
from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from bank import anchors, auditkey
from bank.i18n import Text, localize, t
from bank.integrity import verify_all
from bank.migrate import upgrade_site
from bank.refusals import Refused
from bank.uow import Actor, unit_of_work
from bank.users import UserError, bootstrap_admin, create_user, generate_password


def _session():
    """A session for one command; closed when the command's app context ends."""
    session = current_app.extensions["bank.sessions"]()
    g.cli_sessions = [*g.get("cli_sessions", []), session]
    return session


def echo(message, err: bool = False) -> None:
    """A command's output, in the facility's language (FACILITY_LANGUAGE; English by default)."""
    click.echo(localize(message), err=err)


COMMAND_LINE = Actor(None, "system (command line)")


def seed_from_command_line(seed: Callable[[Session], Sized], reason: str) -> int:
    """Run a domain's seed of its reference data as the command line, in one unit of work (all or nothing);
    how many records it added."""
    session = _session()
    with unit_of_work(session, COMMAND_LINE, reason):
        return len(seed(session))


def add_seed_command(
    group: click.Group,
    help: str,
    seed: Callable[[Session], Sized],
    reason: str,
    report: Callable[[int], Text],
) -> None:
    """`flask <group> seed`: run the domain's seed of its reference data as the command line (one unit of
    work), then say what it added (`report` of the count), in the facility's language."""

    @group.command("seed", help=help)
    def seed_command():
        echo(report(seed_from_command_line(seed, reason)))


def register_cli(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_cli_sessions(_exc):
        for session in g.pop("cli_sessions", []):
            session.close()

    _register_init(app)
    _register_db(app)
    _register_users(app)
    _register_audit(app)
    _register_backup(app)
    _register_validation(app)


def _register_init(app: Flask) -> None:
    @app.cli.command("init")
    def init_command():
        """Apply migrations; on an empty database create the first admin and print its password once."""
        _upgrade()
        session = _session()
        try:
            with unit_of_work(session, Actor(None, "system (first start)")):
                created = bootstrap_admin(session, os.environ.get("BANK_ADMIN_PASSWORD"))
        except UserError as e:
            echo(
                t("error: BANK_ADMIN_PASSWORD refused: %(why)s", why=e.errors.get("password", str(e))),
                err=True,
            )
            sys.exit(2)
        if created:
            user, password = created
            shown = t("(from BANK_ADMIN_PASSWORD)") if os.environ.get("BANK_ADMIN_PASSWORD") else password
            click.echo("=" * 64)
            echo(
                " "
                + localize(t("First start: administrator account '%(name)s' created.", name=user.username))
            )
            echo(" " + localize(t("One-time password: %(password)s", password=shown)))
            echo(" " + localize(t("It is shown only now; you must change it at first sign-in.")))
            click.echo("=" * 64)
        else:
            echo(t("Database is up to date."))
        # Each domain's reference data that a fresh database needs (e.g. the active donor criteria set).
        for seed in current_app.extensions.get("bank.init_seeds", ()):
            echo(seed(session))


def _register_db(app: Flask) -> None:
    @app.cli.group("db")
    def db_group():
        """Database schema."""

    @db_group.command("upgrade")
    def db_upgrade():
        """Apply every Alembic migration (as MIGRATION_DATABASE_URL's role when set), grant the application's
        role its rows, re-key an audit chain written before keys."""
        _upgrade()
        echo(t("Database schema is at the latest migration."))

    @db_group.command("roles")
    @click.option("--owner", required=True, help="Role that owns the schema and runs migrations.")
    @click.option("--app", "app_role", required=True, help="Role the application connects as.")
    @click.option("--database", required=True, help="Database name.")
    @click.option("--schema", default="public", show_default=True)
    @click.option(
        "--execute",
        "superuser_url",
        default=None,
        help="Run the statements on this URL (a superuser's) instead of printing them.",
    )
    def db_roles(owner, app_role, database, schema, superuser_url):
        """PostgreSQL: the owner and application roles (prints the SQL, or runs it with --execute)."""
        from sqlalchemy import text

        from bank.db import make_engine
        from bank.roles import roles_sql

        try:
            statements = roles_sql(owner, app_role, database, schema)
        except ValueError as e:
            echo(t("error: %(why)s", why=e.args[0]), err=True)
            sys.exit(2)
        if superuser_url is None:
            for statement in statements:
                click.echo(statement + ";")
            then = f"ALTER ROLE {owner} PASSWORD '…'; ALTER ROLE {app_role} PASSWORD '…';"
            echo(t("-- then: %(statements)s", statements=then))
            return
        engine = make_engine(superuser_url)
        try:
            with engine.begin() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            engine.dispose()
        echo(
            t(
                "Roles %(owner)s (owner) and %(app)s (application) ready on %(database)s.",
                owner=owner,
                app=app_role,
                database=database,
            )
        )


def _register_users(app: Flask) -> None:
    @app.cli.group("users")
    def users_group():
        """User accounts."""

    @users_group.command("create")
    @click.argument("username")
    @click.option("--name", "full_name", required=True, help="Printed name (shown on signatures).")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice(["admin", "technician", "qa", "clinical"]),
    )
    @click.option("--unblinded", is_flag=True, help="May see the treatment behind blinded doses.")
    def create_user_command(username, full_name, roles, unblinded):
        """Create a user; a one-time password is printed."""
        password = generate_password()
        session = _session()
        try:
            with unit_of_work(session, COMMAND_LINE):
                create_user(session, username, full_name, list(roles), password, unblinded=unblinded)
        except UserError as e:
            for field, message in e.errors.items():
                echo(t("error: %(field)s: %(why)s", field=field, why=message), err=True)
            sys.exit(2)
        echo(t("User %(name)s created. One-time password: %(password)s", name=username, password=password))

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
            echo(t("error: no user named '%(name)s'", name=username), err=True)
            sys.exit(2)
        with unit_of_work(session, COMMAND_LINE, "account unlocked from the command line"):
            unlock(session, user)
        echo(t("Account %(name)s unlocked.", name=user.username))


def _register_audit(app: Flask) -> None:
    @app.cli.group("audit")
    def audit_group():
        """Audit trail."""

    @audit_group.command("verify")
    def audit_verify():
        """Check the keyed chain, the last checkpoint and that every audited record matches its trail;
        exit 1 naming every break found."""
        sys.exit(_verify())

    @audit_group.command("anchor")
    @click.option(
        "--acknowledge",
        default=None,
        help="The trail disagrees with the last checkpoint (a restore lost rows): record why in the "
        "trail and checkpoint the chain as it now is.",
    )
    def audit_anchor(acknowledge):
        """Write a signed checkpoint of the chain to AUDIT_ANCHOR_DIR (and AUDIT_ANCHOR_URL)."""
        from bank.audit import record_event

        engine = current_app.extensions["bank.engine"]
        state = anchors.state_of(engine)
        latest = anchors.latest_checkpoint(anchors.anchor_dir(), state["chain_id"])
        disagreement = anchors.check_against(engine, *latest) if latest else []
        if disagreement and not acknowledge:
            for kind, message in disagreement:
                echo(f"[{kind}] {localize(message)}", err=True)
            echo(
                t(
                    "No checkpoint written: the trail disagrees with the last one (--acknowledge REASON "
                    "records the loss in the trail first)."
                ),
                err=True,
            )
            sys.exit(1)
        if disagreement:
            session = _session()
            with unit_of_work(session, COMMAND_LINE, acknowledge):
                record_event(
                    session,
                    "update",
                    "audit_chain",
                    state["chain_id"],
                    {"checkpoint_disagreement": [None, [m for _k, m in disagreement]]},
                )
        path, checkpoint = anchors.write_checkpoint(engine)
        echo(
            t(
                "Checkpoint written: %(path)s (%(rows)s rows, last row %(last)s).",
                path=str(path),
                rows=checkpoint["rows"],
                last=checkpoint["last_id"],
            )
        )

    @audit_group.command("rekey")
    @click.option(
        "--new-key-file",
        type=click.Path(exists=True, dir_okay=False),
        required=True,
        help="File holding the new audit key (at least 32 characters).",
    )
    def audit_rekey(new_key_file):
        """Rotate the audit key: verify the chain with the current key, re-key every row with the new one,
        record it in the trail and write a checkpoint. Stop the application first; then set AUDIT_KEY."""
        from bank.db import make_engine
        from bank.rekey import rekey

        new = auditkey.key_from_text(Path(new_key_file).read_text())
        old = auditkey.current()
        engine = make_engine(
            current_app.config["MIGRATION_DATABASE_URL"] or current_app.config["DATABASE_URL"]
        )
        try:
            count = rekey(engine, new, "system (key rotation)", f"audit key rotated: {old.id} → {new.id}")
        except Refused as e:
            echo(t("error: %(why)s", why="; ".join(e.messages())), err=True)
            sys.exit(1)
        finally:
            engine.dispose()
        path, _ = anchors.write_checkpoint(current_app.extensions["bank.engine"])
        auditkey.forget(old)
        echo(
            t(
                "%(count)s rows re-keyed under key %(key)s; checkpoint %(path)s. Set AUDIT_KEY to the new key "
                "(instance/audit_key on the embedded setup) before starting the application.",
                count=count,
                key=new.id,
                path=str(path),
            )
        )


def _register_backup(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    def backup_command(path):
        """Checkpoint the audit chain, copy the live database to PATH (SQLite: online backup; PostgreSQL:
        pg_dump custom format), then verify the copy's trail."""
        from bank.backup import backup

        config = current_app.config
        path_, checkpoint = anchors.write_checkpoint(current_app.extensions["bank.engine"])
        try:
            backup(config["MIGRATION_DATABASE_URL"] or config["DATABASE_URL"], Path(path))
        except FileExistsError as e:
            echo(t("error: %(why)s", why=e.args[0]), err=True)
            sys.exit(2)
        echo(
            t(
                "Backup written: %(path)s (checkpoint %(checkpoint)s: %(rows)s audit rows).",
                path=path,
                checkpoint=path_.name,
                rows=checkpoint["rows"],
            )
        )
        sys.exit(_verify())

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "--force", is_flag=True, help="Overwrite a database that holds records (application stopped)."
    )
    def restore_command(path, force):
        """Replace the database with the backup at PATH, then verify its audit trail (against the newest
        checkpoint: rows committed after the backup and lost are named)."""
        from bank.backup import restore

        config = current_app.config
        current_app.extensions["bank.engine"].dispose()
        try:
            restore(config["MIGRATION_DATABASE_URL"] or config["DATABASE_URL"], Path(path), force=force)
        except FileExistsError as e:
            echo(t("error: %(why)s", why=e.args[0] if e.args else str(e)), err=True)
            sys.exit(2)
        _upgrade()  # the application's role's rights (PostgreSQL), a copy older than the code migrated
        current_app.extensions["bank.engine"].dispose()
        echo(t("Restored from %(path)s.", path=path))
        sys.exit(_verify())


def _upgrade() -> None:

    for line in upgrade_site(
        current_app.config["DATABASE_URL"], current_app.config["MIGRATION_DATABASE_URL"]
    )[1:]:
        echo(line)


def _verify() -> int:
    session = _session()
    verdict = verify_all(session, anchors.anchor_dir())
    session.rollback()
    for note in verdict.notes:
        echo(t("note: %(note)s", note=note))
    if verdict.ok:
        echo(
            t(
                "Audit trail intact: %(count)s rows verified; every audited record matches its trail.",
                count=verdict.checked,
            )
        )
        return 0
    echo(t("Audit trail BROKEN: %(count)s problem(s).", count=len(verdict.findings)), err=True)
    for finding in verdict.findings:
        echo("  " + finding.localized(), err=True)
    return 1


def _register_validation(app: Flask) -> None:
    @app.cli.group("validation")
    def validation_group():
        """Validation evidence: installation checks and the traceability report (bin/validate)."""

    @validation_group.command("check")
    def validation_check():
        """The installation checks against the configured database; exit 1 if one fails."""
        from bank.validation import installation_checks

        checks, _ = installation_checks(current_app)
        for c in checks:
            click.echo(
                localize(
                    t(
                        "%(result)s %(check)s: %(detail)s",
                        result="ok  " if c.ok else "FAIL",
                        check=c.name,
                        detail=c.detail,
                    )
                )
            )
        sys.exit(0 if all(c.ok for c in checks) else 1)

    @validation_group.command("report")
    @click.option(
        "--results",
        "results",
        required=True,
        type=click.Path(exists=True, dir_okay=False),
        help="the JSON pytest wrote with --requirements-results",
    )
    @click.option(
        "--out", "out", default="validation-report", show_default=True, type=click.Path(file_okay=False)
    )
    def validation_report(results, out):
        """Write validation-report.pdf and .html: installation checks, environment, roles, the traceability
        matrix requirement -> tests -> result, a summary to sign and a performance qualification template.
        Exit 1 unless every check passed and every requirement has a passing test."""
        from bank.digest import content_digest
        from bank.validation import passed, write_report

        content, pdf_path, html_path = write_report(current_app, Path(results), Path(out))
        click.echo(
            localize(t("Validation report: %(pdf)s and %(html)s", pdf=str(pdf_path), html=str(html_path)))
        )
        click.echo(localize(t("Content SHA-256: %(digest)s", digest=content_digest(content))))
        for c in content["installation"]:
            if not c["ok"]:
                click.echo(localize(t("Installation check failed: %(check)s", check=c["check"])), err=True)
        for x in content["trace"]:
            if x["result"] != "PASS":
                click.echo(
                    localize(t("Requirement without a passing test: %(id)s", id=x["requirement"])), err=True
                )
        sys.exit(0 if passed(content) else 1)
