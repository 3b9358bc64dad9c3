"""Issue 18 in a browser: a DIN typed into the scan box opens the container; the warning before the
idle sign-out appears, and "Stay signed in" keeps the session."""

from __future__ import annotations

import pytest

from tests.factories import doses as fd
from tests.fixtures import user_maker
from tests.support import PASSWORD, first_started, served, sign_in


def test_a_din_typed_into_the_scan_box_opens_the_container(live_server, new_page, shots):
    session = live_server.app.extensions["bank.sessions"]()
    try:
        staff = fd.Staff(user_maker(session))
        lot = fd.cell_lot(session, staff, n=2)
        container = fd.containers(session, lot)[1]
        din, check, code = lot.din, lot.check_char, container.product_code
        tech, container_id = staff.tech.username, container.id
    finally:
        session.close()
    page = new_page()
    sign_in(page, tech, PASSWORD)
    page.goto("/lots/")
    box = page.get_by_test_id("scan-box")
    box.fill(f"{din[:5]} {din[5:7]} {din[7:]} {check} {code}")
    box.press("Enter")
    page.wait_for_url(f"**/lots/containers/{container_id}")
    shots(page, "container opened by the scan")
    assert page.locator("h1 .din-check").inner_text() == check
    # A DIN nobody printed: the user stays on the list, the message is by the scan box.
    box = page.get_by_test_id("scan-box")
    box.fill(din[:-1] + ("1" if din[-1] != "1" else "2"))
    box.press("Enter")
    page.wait_for_load_state()
    assert "/lots/containers/" in page.url
    assert "No record carries" in page.get_by_test_id("scan-message").inner_text()
    shots(page, "nothing found message next to the scan box")


@pytest.fixture(scope="module")
def short_idle_server(tmp_path_factory):
    """A live server whose sessions idle out after 1 minute, warning 58 seconds before."""
    db_path = tmp_path_factory.mktemp("idle") / "bank.sqlite3"
    config = {
        "DATABASE_URL": f"sqlite:///{db_path}",
        "SECRET_KEY": "browser-tests-idle",
        "SESSION_IDLE_MINUTES": 1,
        "SESSION_WARNING_SECONDS": 58,
    }
    app, _ = first_started(config, "First-start-2026")
    with served(app) as server:
        yield server


def test_the_idle_warning_appears_and_stay_signed_in_keeps_the_session(browser, short_idle_server, shots):
    session = short_idle_server.app.extensions["bank.sessions"]()
    try:
        user = user_maker(session)("clinical").username
    finally:
        session.close()
    ctx = browser.new_context(base_url=short_idle_server.url)
    try:
        page = ctx.new_page()
        sign_in(page, user, PASSWORD)
        warning = page.get_by_test_id("idle-warning")
        warning.wait_for(state="visible", timeout=10_000)
        assert "signed out in" in warning.inner_text()
        shots(page, "idle warning")
        with page.expect_response("**/account/keep-alive") as answer:
            page.get_by_role("button", name="Stay signed in").click()
        assert answer.value.status == 200
        assert warning.is_hidden()
    finally:
        ctx.close()
