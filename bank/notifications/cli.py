"""`flask notifications …`: the daily notices (a cron job runs `flask notifications due` once a day) and
sending again the e-mails left pending (the SMTP server was down, the process stopped)."""

from __future__ import annotations

import click
from flask import Flask, current_app

from bank.clock import today
from bank.i18n import localize, t
from bank.notifications.mail import send_pending
from bank.notifications.services import notify
from bank.uow import Actor, unit_of_work

DAILY = Actor(None, "system (daily notifications)")


def register(app: Flask) -> None:
    @app.cli.group("notifications")
    def group():
        """Notifications: daily notices, pending e-mails."""

    @group.command("due")
    def due_command():
        """Tell the people concerned what falls due (each dose due tomorrow and not yet allocated). Run once a
        day; a second run the same day tells nobody twice."""
        session = current_app.extensions["bank.sessions"]()
        try:
            made = 0
            with unit_of_work(session, DAILY, "daily notifications"):
                for notices in current_app.extensions.get("bank.due_notices", ()):
                    for notice in notices(session, today()):
                        made += len(notify(session, **notice))
        finally:
            session.close()
        click.echo(localize(t("%(count)s notifications made.", count=made)))

    @group.command("send")
    def send_command():
        """Send the e-mails still waiting (each outcome recorded)."""
        sent, failed = send_pending(current_app._get_current_object())
        click.echo(localize(t("%(sent)s e-mails sent, %(failed)s failed.", sent=sent, failed=failed)))
