"""E-mail through the facility's SMTP server (SMTP_HOST, SMTP_PORT, SMTP_FROM, optional SMTP_USER,
SMTP_PASSWORD, SMTP_STARTTLS): each pending delivery written in its recipient's language, sent, and its
outcome recorded (sent, or failed with the server's error)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bank.i18n import localize, t
from bank.notifications.models import Delivery, Notification
from bank.notifications.services import KINDS, OUTBOX, record_outcome

TIMEOUT_SECONDS = 15


def link_of(app: Flask, notification: Notification) -> str:
    """The address of the page where the work is done: PUBLIC_URL (when set) and the page's path."""
    if not notification.endpoint:
        return app.config.get("PUBLIC_URL") or ""
    path = app.url_map.bind("localhost").build(notification.endpoint, notification.link_arguments)
    return (app.config.get("PUBLIC_URL") or "") + path


def compose(app: Flask, notification: Notification, address: str, language: str) -> EmailMessage:
    """The e-mail of one notification, in `language`."""
    with force_locale(language):
        subject = localize(
            t(
                "%(facility)s: %(what)s",
                facility=app.config["FACILITY_NAME"],
                what=t(KINDS[notification.kind].label),
            )
        )
        lines = [localize(notification.message), ""]
        link = link_of(app, notification)
        if link:
            lines.append(localize(t("Open: %(link)s", link=link)))
        lines += [
            "",
            localize(
                t(
                    "You receive this e-mail because you chose it in your notification preferences "
                    "(Account, Notifications)."
                )
            ),
        ]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = app.config["SMTP_FROM"]
    message["To"] = address
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=app.config["SMTP_FROM"].rpartition("@")[2] or None)
    message.set_content("\n".join(lines))
    message["Content-Language"] = language  # after set_content, which sets the Content-* headers anew
    return message


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def error_text(e: Exception) -> str:
    """What the server (or the network) answered, as an administrator reads it: the SMTP reply code and
    text, per recipient when it refused them."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        text = "; ".join(f"{to}: {code} {_text(reply)}" for to, (code, reply) in e.recipients.items())
    elif isinstance(e, smtplib.SMTPResponseException):
        text = f"{e.smtp_code} {_text(e.smtp_error)}"
    else:
        text = f"{type(e).__name__}: {e}"
    return text[:2000]


def _connect(config: dict) -> smtplib.SMTP:
    server = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=TIMEOUT_SECONDS)
    if config.get("SMTP_STARTTLS"):
        server.starttls()
    if config.get("SMTP_USER"):
        server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
    return server


def send_pending(app: Flask, ids: list[int] | None = None) -> tuple[int, int]:
    """Send the pending deliveries (`ids`, or every pending one) over one SMTP connection; each one's
    outcome is recorded. Returns (sent, failed). Without SMTP_HOST nothing is sent (they stay pending)."""
    if not app.config.get("SMTP_HOST"):
        return 0, 0
    session = app.extensions["bank.sessions"]()
    try:
        stmt = select(Delivery, Notification).join(Notification, Notification.id == Delivery.notification_id)
        stmt = stmt.where(Delivery.outcome == "pending").order_by(Delivery.id)
        if ids is not None:
            stmt = stmt.where(Delivery.id.in_(ids))
        rows = list(session.execute(stmt))
        if not rows:
            return 0, 0
        outcomes: dict[int, str | None] = {}
        try:
            server = _connect(app.config)
        except (OSError, smtplib.SMTPException) as e:
            outcomes = {d.id: error_text(e) for d, _ in rows}
        else:
            with server:
                for delivery, notification in rows:
                    try:
                        server.send_message(compose(app, notification, delivery.address, delivery.language))
                        outcomes[delivery.id] = None
                    except (OSError, smtplib.SMTPException) as e:
                        outcomes[delivery.id] = error_text(e)
        for ident, error in outcomes.items():
            record_outcome(session, ident, error)
        session.commit()
        failed = sum(1 for e in outcomes.values() if e)
        return len(outcomes) - failed, failed
    finally:
        session.close()


# Connected when this module is imported (by the app factory, through bank.notifications.views): the
# e-mails of notifications go out once their transaction has committed, never for a rolled-back event.
@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    ids = session.info.pop(OUTBOX, None)
    if ids and has_app_context() and "bank.sessions" in current_app.extensions:
        send_pending(current_app._get_current_object(), ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(OUTBOX, None)  # the notifications were not recorded: no e-mail either
