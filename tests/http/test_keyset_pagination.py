"""Keyset pages of the audit viewer (issue 9): Next and Previous follow the ids shown (?after=/?before=),
never an OFFSET, and walk the same rows in the same order as the numbered pages did."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from bank.db import make_session_factory
from bank.models import AuditEntry

ROW_ID = re.compile(r"<tr><td>(\d+)</td>")
LINK = re.compile(r'<a class="page-link" href="([^"]+)">(Previous|Next)</a>')


def ids(page: str) -> list[int]:
    return [int(x) for x in ROW_ID.findall(page)]


def link(page: str, label: str) -> str:
    return html.unescape(next(href for href, text in LINK.findall(page) if text == label))


def test_audit_viewer_pages_by_key_forwards_and_back(app, login_as, make_user):
    session = make_session_factory(app.extensions["bank.engine"])()
    existing = session.scalar(select(func.count()).select_from(AuditEntry))
    session.close()
    for _ in range(max(0, 160 - existing)):  # each user is at least one audit row
        make_user("technician")
    session = make_session_factory(app.extensions["bank.engine"])()
    newest = session.scalar(select(func.max(AuditEntry.id)))
    session.close()
    qa = login_as("qa")
    first = qa.get("/audit/").get_data(as_text=True)
    assert "after=" in link(first, "Next")
    second = qa.get(link(first, "Next")).get_data(as_text=True)
    third = qa.get(link(second, "Next")).get_data(as_text=True)
    rows = ids(first) + ids(second) + ids(third)
    # Rows written after the first page was read (the login) do not shift what follows.
    assert rows == sorted(rows, reverse=True) and len(set(rows)) == 150 and rows[0] >= newest - 5
    assert "Page 3 of" in third
    back = qa.get(link(third, "Previous")).get_data(as_text=True)
    assert ids(back) == ids(second) and "before=" in link(third, "Previous")
    assert ids(qa.get(link(back, "Previous")).get_data(as_text=True))[-1] == ids(first)[-1]
    # Old numbered links keep working.
    assert ids(qa.get("/audit/?page=2").get_data(as_text=True))[0] < ids(first)[-1]


def test_a_deep_page_by_number_is_refused_with_the_way_to_get_there(app, login_as):
    """Offsets grow with the trail (issue 9): a list paged by key opens its first pages by number, deeper
    ones only through Next/Previous, and says so instead of scanning millions of rows."""
    from bank.web import MAX_OFFSET_PAGE

    qa = login_as("qa")
    assert qa.get(f"/audit/?page={MAX_OFFSET_PAGE}").status_code == 200
    deep = qa.get(f"/audit/?page={MAX_OFFSET_PAGE + 1}")
    assert deep.status_code == 400
    text = deep.get_data(as_text=True)
    assert "Next and Previous" in text and f"Pages 1 to {MAX_OFFSET_PAGE} open directly" in text
    # Keyed links stay valid at any depth (the page number only labels them).
    assert qa.get(f"/audit/?page={MAX_OFFSET_PAGE + 500}&after=10").status_code == 200
