"""Issue 24: screens that read well for everyone, measured in the browser on the demo facility.

axe-core (vendored in tests/browser/vendor/axe-core, no network at run time) checks every page each role of
the demo facility reaches from its menu (each list and the first record of each list, the account pages)
against WCAG 2.1 A and AA, and the test fails on any violation, listing page, rule and elements. One server,
one browser; each page is visited once per role. The same run checks keyboard use (the skip link comes
first and leads into the content; the menu marks only the current section), phone width (the menu
collapses, Sign out is reachable, the page never scrolls sideways) and print (no menu, badges keep their
colour), and saves screenshots at 390, 768 and 1400 px and print previews to
test-artifacts/screenshots/accessibility/."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.support import ARTIFACTS, Shots, fill, first_started, served, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FIRST_PASSWORD = "First-start-2026"
ADMIN_PASSWORD = "Keeper-of-cells-7"
DEMO_PASSWORD = "Demo-facility-2026"
# One person per role of the demo facility (demo/people.py) and the administrator.
PEOPLE = {
    "admin": ADMIN_PASSWORD,
    "tech.ana": DEMO_PASSWORD,
    "qa.claire": DEMO_PASSWORD,
    "clin.eva": DEMO_PASSWORD,
    "pharm.farid": DEMO_PASSWORD,
}
ACCOUNT_PAGES = ("/", "/account/password", "/account/sessions", "/account/tokens/")
# Forms each role fills that no list links to directly (the demo's lot 1 is in process, account 2 is tech.ana).
FORMS = {
    "admin": ("/admin/users/new", "/admin/sign-in-attempts", "/admin/users/2/reset-password"),
    "tech.ana": ("/lots/harvest", "/lots/1/isolation", "/lots/1/passages/new", "/donors/new"),
    "qa.claire": ("/release/specifications", "/release/alerts"),
    "clin.eva": ("/doses/patients/new",),
    "pharm.farid": (),
}
# Downloads and pages that act or print are not screens to check.
NOT_SCREENS = (".pdf", ".csv", ".js", "/logout", "/export")
WIDTHS = {"phone": 390, "tablet": 768, "desk": 1400}
STEP_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """The demo facility (`flask init`, then `flask demo`) served on a free port."""
    db_path = tmp_path_factory.mktemp("demo") / "bank.sqlite3"
    config = {"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "browser-accessibility-tests"}
    app, init = first_started(config, FIRST_PASSWORD, with_demo_command=True)
    demo = app.test_cli_runner().invoke(args=["demo", "--password", DEMO_PASSWORD])
    assert demo.exit_code == 0, init.output + demo.output + repr(demo.exception)
    with served(app) as server:
        yield server


def _sign_in(page, username):
    sign_in(page, username, FIRST_PASSWORD if username == "admin" else PEOPLE[username])
    if page.url.endswith("/account/password"):  # the administrator's first start
        fill(page, current_password=FIRST_PASSWORD, new_password=ADMIN_PASSWORD, confirm=ADMIN_PASSWORD)
        page.click("main button[type=submit]")
    assert page.get_by_test_id("current-user").count() == 1, f"{username} could not sign in"


def _screen(href: str, base: str) -> str | None:
    """The path of a link to a screen of this server, or None (another site, a download, an anchor)."""
    url = urlparse(href)
    if url.netloc and f"{url.scheme}://{url.netloc}" != base:
        return None
    if not url.path or any(url.path.endswith(x) or x in url.path for x in NOT_SCREENS):
        return None
    return url.path + (f"?{url.query}" if url.query else "")


def _links(page, selector: str, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
    return [p for p in (_screen(h, base) for h in hrefs) if p]


def _axe(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return result["violations"]


def _pages_of(page, base: str) -> list[str]:
    """The role's screens to start from: the account pages and its menu (each list; the test adds the
    first record of each list)."""
    menu = _links(page, "#main-menu .nav-link", base)
    return list(dict.fromkeys([*ACCOUNT_PAGES, *menu]))


def test_every_page_of_every_role_meets_wcag_21_aa(browser, demo_server):
    assert AXE.exists(), "axe-core is vendored in tests/browser/vendor/axe-core"
    base = demo_server.url
    violations: list[str] = []
    report: dict[str, list] = {}
    checked = 0
    for username in PEOPLE:
        # The app's Content-Security-Policy allows no inline script: the context lets the test add axe-core.
        ctx = browser.new_context(base_url=base, viewport={"width": 1400, "height": 900}, bypass_csp=True)
        ctx.set_default_timeout(STEP_TIMEOUT_MS)
        page = ctx.new_page()
        _sign_in(page, username)
        queue, seen = _pages_of(page, base), set()
        lists = set(queue)
        queue.extend(FORMS[username])
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(path)
            assert response and response.status < 500, (
                f"{username}: {path} answered {response and response.status}"
            )
            if response.status >= 400:
                continue
            if path in lists:  # from a list, its first record
                queue.extend(p for p in _links(page, "main table tbody a[href]", base)[:1] if p not in seen)
            found = _axe(page)
            checked += 1
            for v in found:
                targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
                violations.append(f"{username} {path}: {v['id']} ({v['impact']}) {v['help']}: {targets}")
            report[f"{username} {path}"] = found
        ctx.close()
    out = ARTIFACTS / "accessibility"
    out.mkdir(parents=True, exist_ok=True)
    (out / "axe-report.json").write_text(json.dumps(report, indent=1))
    assert checked >= 5 * len(ACCOUNT_PAGES)
    assert violations == [], f"{len(violations)} WCAG 2.1 AA violation(s):\n" + "\n".join(violations)


def test_keyboard_phone_width_and_print(browser, demo_server):
    shots = Shots("accessibility")
    ctx = browser.new_context(base_url=demo_server.url, viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(STEP_TIMEOUT_MS)
    page = ctx.new_page()
    _sign_in(page, "clin.eva")

    # Keyboard: the first Tab reaches the skip link, which leads into the content.
    page.goto("/doses/patients")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # Only the current section is marked in the menu (Patients, Doses and Protocols share one blueprint).
    assert page.locator("#main-menu .nav-link.active").all_inner_texts() == ["Patients"]
    assert page.locator("#main-menu [aria-current=page]").count() == 1

    pages = {"patients": "/doses/patients", "doses": "/doses/doses", "custody": "/custody/"}
    page.goto("/doses/doses")
    record = _links(page, "main table tbody a[href*='/allocations/']", demo_server.url)
    if record:
        pages["dose"] = record[0]
    page.goto("/custody/")
    custody = _links(page, "main table tbody a[href*='/custody/doses/']", demo_server.url)
    if custody:
        pages["custody-dose"] = custody[0]
    for width_name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            page.goto(path)
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert wide <= 1, f"{path} scrolls sideways by {wide} px at {width} px"
            shots(page, f"{name} {width_name} {width}px")
    # Phone width: the menu is behind its button, and Sign out is reachable once it is opened.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto("/doses/patients")
    assert page.get_by_test_id("scan-box").is_visible()  # a scanner types into it without opening the menu
    sign_out = page.locator("button:has-text('Sign out')")
    assert not sign_out.is_visible()
    toggle = page.locator("[data-menu-toggle]")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert sign_out.is_visible()
    box = sign_out.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
    shots(page, "menu open phone 390px")

    # Print: no menu, the status badges keep their colour and their words.
    page.set_viewport_size({"width": 1000, "height": 900})
    page.emulate_media(media="print")
    for name, path in pages.items():
        page.goto(path)
        assert not page.locator("nav.navbar").is_visible()
        badges = page.locator(".status-badge")
        if badges.count():
            colour = badges.first.evaluate("e => getComputedStyle(e).backgroundColor")
            assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
            assert badges.first.inner_text().strip()
        shots(page, f"{name} print")
    ctx.close()
