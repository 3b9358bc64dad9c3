"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium) against a live server on a
fresh SQLite database. Screenshots of each step go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.fixtures import *  # noqa: F403

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
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
    from bank.app import create_app

    db_path = tmp_path_factory.mktemp("live") / "bank.sqlite3"
    os.environ["BANK_ADMIN_PASSWORD"] = "First-start-2026"
    try:
        app = create_app({"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "browser-tests"})
        result = app.test_cli_runner().invoke(args=["init"])
        out = result.output + repr(result.exception)
    finally:
        os.environ.pop("BANK_ADMIN_PASSWORD", None)
    assert "administrator account 'admin' created" in out
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.app = app
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    app.extensions["bank.engine"].dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run bin/test, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


class Shots:
    """Saves numbered screenshots of a journey: test-artifacts/screenshots/<journey>/NN-step.png."""

    def __init__(self, name: str):
        self.dir = ARTIFACTS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, page, step: str):
        self.n += 1
        page.screenshot(
            path=str(self.dir / f"{self.n:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"),
            full_page=True,
        )


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
