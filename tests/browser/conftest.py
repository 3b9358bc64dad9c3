"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against a live server on a
fresh SQLite database. Screenshots of each step go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fixtures import *  # noqa: F403
from tests.support import Shots, first_started, served

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The real app (migrations and first-start bootstrap through the CLI) served on a free port."""
    db_path = tmp_path_factory.mktemp("live") / "bank.sqlite3"
    config = {"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "browser-tests"}
    app, result = first_started(config, "First-start-2026")
    assert "administrator account 'admin' created" in result.output + repr(result.exception)
    with served(app) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run bin/test, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def new_page(browser, live_server):
    contexts = []

    def make():
        ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
