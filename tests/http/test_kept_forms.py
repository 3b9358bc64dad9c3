"""Nothing typed is lost (issue 18): a form sent after the idle sign-out is kept for its sender only —
never its password fields — and shown again, filled in, on the page it came from once the same user has
signed in again, to check and send with a fresh CSRF token; another user never sees it; it expires."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlalchemy import select, update

from bank.clock import utcnow
from bank.models import PendingForm, UserSession
from tests.support import PASSWORD, WebClient


def idle_out(session, user) -> None:
    """Age the user's sessions past the idle time-out (15 minutes by default)."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id)
        .values(last_seen_at=utcnow() - timedelta(hours=1))
    )
    session.commit()


def kept_json(page: str) -> dict | None:
    m = re.search(r'<script type="application/json" id="kept-form">(.*?)</script>', page, re.S)
    return json.loads(m.group(1)) if m else None


FORM_PAGE = "/account/tokens/"


def test_a_form_sent_after_the_idle_sign_out_comes_back_for_the_same_user_only(app, session, make_user):
    alice, bob = make_user("clinical"), make_user("clinical")
    browser = WebClient(app.test_client())
    browser.login(alice.username)
    browser.get(FORM_PAGE)
    idle_out(session, alice)
    sent = browser.post(
        FORM_PAGE,
        {"name": "ward printer", "password": "never-kept-1"},
        headers={"Referer": f"http://localhost{FORM_PAGE}"},
    )
    assert sent.status_code == 302 and "/login" in sent.headers["Location"]
    row = session.scalars(select(PendingForm).where(PendingForm.user_id == alice.id)).one()
    assert "never-kept" not in row.fields and "csrf_token" not in row.fields
    assert row.page == FORM_PAGE
    # Another person signs in on the same browser: nothing of Alice's is shown to them.
    browser.login(bob.username)
    page = browser.get(FORM_PAGE).get_data(as_text=True)
    assert kept_json(page) is None and "ward printer" not in page
    # Alice signs in again: her form is back on its page, filled in, with a fresh token, and not sent.
    again = WebClient(app.test_client())
    again.get("/login")
    resp = again.post("/login", {"username": alice.username, "password": PASSWORD})
    assert resp.headers["Location"].endswith(FORM_PAGE)
    page = again.get(FORM_PAGE).get_data(as_text=True)
    assert "Restored after your sign-in: check and submit" in page
    assert kept_json(page)["fields"] == [["name", "ward printer"]]
    assert "ward printer" not in page.split('id="kept-form"')[0]  # nothing was recorded
    # Shown once: the next visit is the ordinary page.
    assert kept_json(again.get(FORM_PAGE).get_data(as_text=True)) is None
    # Re-sent with the fresh token of the new session, it is recorded.
    done = again.post(FORM_PAGE, {"name": "ward printer"})
    assert done.status_code in (200, 302) and "ward printer" in again.get(FORM_PAGE).get_data(as_text=True)


def test_a_kept_form_expires(app, session, make_user):
    alice = make_user("clinical")
    browser = WebClient(app.test_client())
    browser.login(alice.username)
    browser.get(FORM_PAGE)
    idle_out(session, alice)
    browser.post(FORM_PAGE, {"name": "old"}, headers={"Referer": f"http://localhost{FORM_PAGE}"})
    session.execute(
        update(PendingForm)
        .where(PendingForm.user_id == alice.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()
    browser.login(alice.username)
    assert kept_json(browser.get(FORM_PAGE).get_data(as_text=True)) is None


def test_a_post_with_a_stale_csrf_token_is_not_kept(app, session, make_user):
    alice = make_user("clinical")
    browser = WebClient(app.test_client())
    browser.login(alice.username)
    idle_out(session, alice)
    resp = browser.post(FORM_PAGE, {"name": "forged", "csrf_token": "not-a-token"})
    assert resp.status_code == 400
    assert session.scalars(select(PendingForm).where(PendingForm.user_id == alice.id)).first() is None


def test_keep_alive_extends_the_session_and_needs_the_csrf_token(app, session, make_user):
    alice = make_user("clinical")
    browser = WebClient(app.test_client())
    browser.login(alice.username)
    page = browser.get("/").get_data(as_text=True)
    assert 'data-testid="idle-warning"' in page and 'data-idle-seconds="900"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert browser.client.post("/account/keep-alive").status_code == 400  # no token
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == alice.id)
        .values(last_seen_at=utcnow() - timedelta(minutes=14))
    )
    session.commit()
    resp = browser.client.post("/account/keep-alive", headers={"X-CSRFToken": token})
    assert resp.status_code == 200 and resp.json["idle_seconds"] == 900
    session.expire_all()
    row = session.scalars(select(UserSession).where(UserSession.user_id == alice.id)).one()
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
