"""Helpers every test layer shares (one module: no test imports another test module or a conftest):
the test passwords, unique names, a new database per test run, an app after its first start and a live
server for it, requests run concurrently, PDFs rasterised and their bar codes decoded, a browser-like web
client (and one at its own address), API tokens and an API client that knows only the OpenAPI document,
a few page flows several tests share, and, for Playwright pages, screenshots, form filling and signing in."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PASSWORD = "Correct-horse-42"
DEMO_PASSWORD = "Demo-pass-2026"  # every demo person's, given to `flask demo --password`

# A dose's whole chain of custody from the facility's tank to the patient, in order, written here as the
# tests expect it (not read from doses.custody.states, which it checks).
CUSTODY_CHAIN = (
    "issued_from_storage",
    "packed",
    "shipped",
    "received_at_site",
    "stored_at_site",
    "thawed",
    "administered",
)

OWNER_URLS: dict[str, str] = {}  # the application's URL of a test database → its owner's (PostgreSQL)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def new_database(tmp_path_factory) -> tuple[str, Callable[[], None]]:
    """An empty database: a new SQLite file, or a new schema on the PostgreSQL test server. With
    TEST_DATABASE_APP_URL (.ci/run) the schema is made and migrated by TEST_DATABASE_URL's role, its
    owner, and the URL handed back is the application's restricted role's (bank.roles)."""
    from sqlalchemy import text

    from bank.db import make_engine

    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = tmp_path_factory.mktemp("db") / "bank.sqlite3"
        return f"sqlite:///{path}", lambda: None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(base)
    with admin.begin() as conn:
        # Once per server, in public: made inside a test schema, the extension would go with that schema.
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    app_base = os.environ.get("TEST_DATABASE_APP_URL")
    if app_base:
        from bank.migrate import upgrade_site

        owner_url = url
        url = f"{app_base}{'&' if '?' in app_base else '?'}options=-csearch_path%3D{schema}"
        upgrade_site(url, owner_url)
        OWNER_URLS[url] = owner_url

    def drop():
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return url, drop


def first_started(config: dict, admin_password: str, with_demo_command: bool = False):
    """A new app after its first start: `flask init` run with `admin_password` in BANK_ADMIN_PASSWORD (set for
    that command only). With `with_demo_command`, the `flask demo` command is registered first, as wsgi.py
    does (it lives outside the app factory). The app and init's result."""
    from bank.app import create_app

    os.environ["BANK_ADMIN_PASSWORD"] = admin_password
    try:
        app = create_app(config)
        if with_demo_command:
            from demo.cli import register as register_demo

            register_demo(app)
        result = app.test_cli_runner().invoke(args=["init"])
    finally:
        os.environ.pop("BANK_ADMIN_PASSWORD", None)
    return app, result


def run_together(work: Callable, arguments, timeout: float) -> list:
    """Call `work(argument)` for every argument at once, each in a thread of its own, and wait for them all
    (each at most `timeout` seconds). The outcomes, in the order the threads ended: what `work` returned, or
    `error:<type>:<message>` for anything it raised (a finding the test reports with its assertion)."""
    import threading

    outcomes: list = []
    lock = threading.Lock()

    def run(argument) -> None:
        try:
            outcome = work(argument)
        except Exception as e:  # noqa: BLE001 — reported as an outcome, not lost in the thread
            outcome = f"error:{type(e).__name__}:{e}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return outcomes


def raster(pdf: bytes, dpi: int) -> list:
    """Every page of `pdf` as a greyscale image, as `pdftoppm -r <dpi> -png` draws it."""
    import subprocess
    import tempfile
    from pathlib import Path

    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.pdf"
        path.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(path), str(Path(folder) / "page")], check=True
        )
        return [Image.open(p).convert("L") for p in sorted(Path(folder).glob("page*.png"))]


def decoded(image) -> dict[str, list[str]]:
    """Format name → text of every bar code an independent decoder (zxing-cpp) finds on the image."""
    import zxingcpp

    found: dict[str, list[str]] = {}
    for result in zxingcpp.read_barcodes(image):
        found.setdefault(result.format.name, []).append(result.text)
    return found


@contextmanager
def served(app) -> Iterator:
    """`app` served on a free local port by a background thread while the block runs: the server, with its
    `app` and `url`. Afterwards the server stops and the app's engine lets its connections go."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.app = app
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    app.extensions["bank.engine"].dispose()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebClient:
    """A Flask test client that behaves like a browser: it keeps the CSRF token of the last page."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, url, **kw):
        resp = self.client.get(url, **kw)
        m = CSRF_RE.search(resp.get_data(as_text=True))
        if m:
            self.token = m.group(1)
        return resp

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if self.token is None:
                self.get("/login")
            data["csrf_token"] = self.token
        return self.client.post(url, data=data, **kw)

    def login(self, username, password=PASSWORD):
        self.get("/login")
        resp = self.post("/login", {"username": username, "password": password})
        self.get("/")
        return resp


def browser_at(app, address: str) -> WebClient:
    """A browser at its own address, on the sign-in page: its failed sign-ins are throttled apart from other
    tests'."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    web = WebClient(client)
    web.get("/login")
    return web


def client_for(app, user) -> WebClient:
    """A browser-like client signed in as an existing user."""
    c = WebClient(app.test_client())
    c.login(user.username)
    return c


def token_for(client: WebClient, name: str = "site system") -> str:
    """A new personal API token (called `name`) of the user signed in on `client`, made through the tokens
    page."""
    client.get("/account/tokens/")
    resp = client.post("/account/tokens/", {"name": name})
    return re.search(rb'data-testid="api-token">([^<]+)<', resp.data).group(1).decode()


def api_for(app, user) -> OpenApiClient:
    """An API client for an existing user, with a new token of theirs made through the tokens page."""
    web = WebClient(app.test_client())
    web.login(user.username)
    return OpenApiClient(app.test_client(), token_for(web))


class OpenApiClient:
    def __init__(self, http, token: str):
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}
        self.doc = http.get("/api/v1/openapi.json").json
        self.ops = {}
        for path, methods in self.doc["paths"].items():
            for method, op in methods.items():
                self.ops[op["operationId"]] = (method.upper(), path, op)

    def schema(self, operation_id: str) -> dict:
        return self.ops[operation_id][2]["requestBody"]["content"]["application/json"]["schema"]

    def call(self, operation_id: str, body: dict | None = None, **path_params):
        method, path, _ = self.ops[operation_id]
        for name, value in path_params.items():
            path = path.replace("{" + name + "}", str(value))
        if method == "GET":
            return self.http.get(path, headers=self.headers, query_string=body or {})
        return self.http.open(path, method=method, headers=self.headers, json=body)


def new_placebo_specification_draft(client: WebClient, session) -> tuple:
    """QA signed in on `client` stores the seed specifications and opens a new draft of the effective
    PLACEBO-MEDIA one, through the pages: that effective version and the draft's id."""
    from release import services

    client.get("/release/specifications")
    client.post("/release/specifications/seed")
    session.rollback()  # see what the requests committed
    session.expire_all()
    current = services.effective_specification(session, "PLACEBO-MEDIA")
    client.get(f"/release/specifications/{current.id}")
    resp = client.post(f"/release/specifications/{current.id}/draft")
    return current, int(resp.headers["Location"].rstrip("/edit").rsplit("/", 1)[-1])


def required_registry_form(consent_date, **fields) -> dict:
    """A donor registration form with its required fields only (a woman born on 1 January 1990, consent form
    v1 signed on `consent_date`), and `fields`."""
    return {
        "sex": "F",
        "birth_date": "1990-01-01",
        "consent_version": "v1",
        "consent_date": str(consent_date),
        **fields,
    }


# Browser tests save screenshots of their steps here.
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


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


def fill(page, **inputs: str):
    """Type each value into the Playwright page's input of that name, in order, as a person fills a form."""
    for name, value in inputs.items():
        page.fill(f"input[name={name}]", value)


def field_error(html: str, field: str) -> str:
    """The error a form page shows next to `field` ("" when none)."""
    m = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', html)
    return m.group(1) if m else ""


def fresh(session):
    """End the test session's read transaction so it sees what the app's requests committed."""
    session.rollback()
    return session


def sign_in(page, username: str, password: str):
    """Sign in on a Playwright page through the real form."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")


def verify_signed(client: WebClient, keys: list[str], password: str = PASSWORD):
    """Verify entries (`kind:id`) the way a person does: the confirmation page shows them, one
    e-signature verifies them all (bank.verification)."""
    confirm = client.get("/verify/confirm", query_string={"entries": keys}).get_data(as_text=True)
    chosen = re.findall(r'name="entries" value="([^"]+)"', confirm)
    return client.post("/verify/confirm", {"entries": chosen, "confirm": "y", "signature_password": password})


def verify_by_api(api: OpenApiClient, key: str, password: str = PASSWORD):
    """Verify one entry (`kind:id`) through the API: its digest from the list, then the signed act."""
    listed = api.call("api_verification_entries").json
    digests = [e["digest"] for e in listed["items"] if e["key"] == key] if "items" in listed else []
    entry = f"{key}@{digests[0]}" if digests else f"{key}@{'0' * 64}"
    return api.call("api_verification_verify", {"entries": [entry], "signature_password": password})


class LocalSmtpServer:
    """A real SMTP server on 127.0.0.1 (a free port) that keeps every message it accepts, for the tests of
    e-mailed notifications. It speaks the commands smtplib sends (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
    QUIT) and refuses any recipient whose address contains `refuse`, so a failed delivery can be tested."""

    def __init__(self, refuse: str = "refused"):
        import socketserver
        import threading

        self.messages: list = []  # email.message.EmailMessage, in the order received
        self.refuse = refuse
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self):
                self.reply("220 localhost test SMTP")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in ("EHLO", "HELO", "NOOP"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        if outer.refuse in command:
                            self.reply("550 No such mailbox here")
                        else:
                            recipients.append(command.split(":", 1)[1].strip(" <>"))
                            self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = []
                        while (row := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(row[1:] if row.startswith(b"..") else row)
                        outer.received(b"".join(data), recipients)
                        self.reply("250 OK")
                    elif verb == "RSET":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def received(self, data: bytes, recipients: list[str]) -> None:
        import email
        import email.policy

        message = email.message_from_bytes(data, policy=email.policy.default)
        message["X-Test-Recipients"] = ", ".join(recipients)
        self.messages.append(message)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["X-Test-Recipients"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
