"""The benchmark of issue 9 (not part of the test suite): page and API latency through HTTP on a real
gunicorn worker with a signed-in session, at the full ten-year dataset and at a tenth of it, on SQLite
and PostgreSQL; label PDF throughput and memory; the audit trail's share of a write; references
measured in the same run (a bare Flask endpoint, a bare reportlab label with the same bar codes).

    python -m bench.run [--generate] [--backends sqlite,postgresql] [--requests 40] [--scales tenth=0.1,full=1.0]

Datasets: /tmp/bench/{NAME}.sqlite3 and PostgreSQL databases bench_{NAME}, one per scale of --scales
(made by bench.generate when missing or with --generate); growth compares the last scale with the first.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bank.migrate import upgrade
from bench.generate import BENCH_PASSWORD, BENCH_USER, bench_server_env, generate, install_bench_keys

ROOT = Path(__file__).resolve().parent.parent
SQLITE_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/bench"))
PG_BASE = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
SCALES = "tenth=0.1,full=1.0"


def db_url(backend: str, name: str) -> str:
    return f"sqlite:///{SQLITE_DIR / name}.sqlite3" if backend == "sqlite" else f"{PG_BASE}/bench_{name}"


def exists(url: str) -> bool:
    from sqlalchemy import inspect as sa_inspect

    from bank.db import make_engine

    if url.startswith("sqlite") and not Path(url.removeprefix("sqlite:///")).exists():
        return False
    try:
        engine = make_engine(url)
        with engine.connect() as conn:
            ok = (
                sa_inspect(conn).has_table("containers")
                and conn.exec_driver_sql("SELECT count(*) FROM users WHERE username = 'bench'").scalar() == 1
            )
        engine.dispose()
        return ok
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(app: str, database_url: str | None = None, options: tuple[str, ...] = ("--workers", "1")):
    """gunicorn, by default one sync worker (the unit whose memory the target names); yields (port,
    pid of the first worker)."""
    port = free_port()
    env = dict(os.environ, **bench_server_env(), SESSION_IDLE_MINUTES="600")
    if database_url:
        env["DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),  # the interpreter's own environment
            *options,
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        children = []
        for _ in range(200):  # the port opens before the master has forked its workers
            if children := Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split():
                break
            time.sleep(0.05)
        yield port, int(children[0])
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class Client:
    """http.client with the session cookie kept by hand (one connection per request: gunicorn's sync
    worker closes each one, for our app and for the bare reference alike)."""

    def __init__(self, port: int):
        self.port, self.cookie, self.headers = port, None, {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = dict(self.headers, **(headers or {}))
        if self.cookie:
            h["Cookie"] = self.cookie
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        for key, value in resp.getheaders():
            if key.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        conn.close()
        return resp.status, data

    def login(self, username: str = BENCH_USER, password: str = BENCH_PASSWORD) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            rb'name="csrf_token"[^>]*value="([^"]+)"', page
        )
        body = urlencode({"csrf_token": token.group(1).decode(), "username": username, "password": password})
        status, _ = self.request(
            "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 302:
            raise SystemExit(f"login failed: HTTP {status}")


def timed(client: Client, path: str, n: int, headers: dict | None = None) -> list[float]:
    for _ in range(3):  # warm-up: templates compiled, caches and the database's pages loaded
        status, _ = client.request("GET", path, headers=headers)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}")
    times = []
    for _ in range(n):
        t = time.perf_counter()
        client.request("GET", path, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def samples(url: str) -> dict:
    """Realistic targets picked from the data: a mid-life donor and its lots, a stored container's box."""
    from bank.db import make_engine
    from bank.models import AuditEntry, User
    from donors.models import Donor
    from doses.models import Allocation, Patient
    from lots.models import Container, Lot

    engine = make_engine(url)
    with Session(engine) as s:
        n_donors = s.scalar(select(func.count()).select_from(Donor))
        donor = s.scalar(
            select(Donor)
            .where(Donor.harvest_date.is_not(None))
            .order_by(Donor.id)
            .offset(n_donors // 2)
            .limit(1)
        )
        master = s.scalar(select(Lot).where(Lot.donor_id == donor.id, Lot.tier == "master"))
        dose = s.scalar(select(Lot).where(Lot.donor_id == donor.id, Lot.tier == "dose"))
        box_id = s.scalar(
            select(Container.box_id)
            .where(Container.lot_id == dose.id, Container.box_id.is_not(None))
            .limit(1)
        ) or s.scalar(select(func.min(Container.box_id)))
        n_lots = s.scalar(select(func.count()).select_from(Lot))
        middle_lot_id = s.scalar(select(Lot.id).order_by(Lot.id.desc()).offset(n_lots // 2).limit(1))
        user_id = s.scalar(select(User.id).where(User.username == BENCH_USER))
        n_audit = s.scalar(select(func.max(AuditEntry.id)))
        # A mid-life administered dose and its patient (at small scales many patients have no dose yet).
        administered = select(Allocation).where(Allocation.status == "administered")
        n_given = s.scalar(select(func.count()).select_from(administered.subquery()))
        allocation = s.scalar(administered.order_by(Allocation.id).offset(n_given // 2).limit(1))
        given, patient = allocation.id, s.get(Patient, allocation.patient_id)
        out = {
            "patient_id": patient.id,
            "subject_id": patient.subject_id,
            "allocation_id": given,
            "donor_id": donor.id,
            "donor_code": donor.code,
            "master_id": master.id,
            "dose_id": dose.id,
            "dose_din": dose.din,
            "box_id": box_id,
            "n_lots": n_lots,
            "user_id": user_id,
            "n_audit": n_audit,
            "middle_lot_id": middle_lot_id,
        }
    engine.dispose()
    return out


def api_token(url: str, user_id: int) -> str:
    from bank.api import issue_token
    from bank.db import make_engine, make_session_factory
    from bank.models import User
    from bank.uow import unit_of_work
    from bank.users import actor_for

    engine = make_engine(url)
    session = make_session_factory(engine)()
    user = session.get(User, user_id)
    with unit_of_work(session, actor_for(user), "benchmark token"):
        _row, token = issue_token(session, user, "benchmark")
    session.close()
    engine.dispose()
    return token


def pages(s: dict) -> list[tuple[str, str, bool]]:
    """(name, path, is_api)."""
    from bank.web import MAX_OFFSET_PAGE

    deep = max(1, s["n_lots"] // 25 // 2)  # the middle page of the lot list: reached by key only
    return [
        ("donor list", "/donors/", False),
        ("donor search (code)", "/donors/?" + urlencode({"q": s["donor_code"]}), False),
        ("lot list", "/lots/", False),
        (f"lot list, page {MAX_OFFSET_PAGE} (deepest by number)", f"/lots/?page={MAX_OFFSET_PAGE}", False),
        ("lot list, middle page (key)", f"/lots/?page={deep}&after={s['middle_lot_id']}", False),
        ("lot search (DIN)", "/lots/?" + urlencode({"q": s["dose_din"][-8:]}), False),
        ("container search by DIN (API)", "/api/v1/containers?" + urlencode({"din": s["dose_din"]}), True),
        ("storage box grid", f"/storage/boxes/{s['box_id']}", False),
        ("lot detail", f"/lots/{s['dose_id']}", False),
        ("genealogy (lot)", f"/lots/{s['master_id']}/genealogy", False),
        ("genealogy (donor)", f"/lots/donors/{s['donor_id']}", False),
        (
            "audit viewer, one record",
            "/audit/?" + urlencode({"entity": "lots", "entity_id": s["dose_id"]}),
            False,
        ),
        ("audit viewer, unfiltered", "/audit/", False),
        (f"audit viewer, page {MAX_OFFSET_PAGE} (number)", f"/audit/?page={MAX_OFFSET_PAGE}", False),
        (
            "audit viewer, middle page (key)",
            f"/audit/?after={s['n_audit'] // 2}&page={s['n_audit'] // 50 // 2}",
            False,
        ),
        ("patient list", "/doses/patients", False),
        ("patient search (subject id)", "/doses/patients?" + urlencode({"q": s["subject_id"]}), False),
        ("dose list", "/doses/doses", False),
        ("dose detail", f"/doses/allocations/{s['allocation_id']}", False),
        ("custody record of a dose", f"/custody/doses/{s['allocation_id']}", False),
        ("doses on their way", "/custody/", False),
        ("API lot list", "/api/v1/lots", True),
        ("API lot detail", f"/api/v1/lots/{s['dose_id']}", True),
    ]


# The home page of each role (issue 20: its work queues), signed in as a person holding only that role.
HOME_ROLES = ("technician", "qa", "clinical", "admin")


def role_users(url: str) -> dict[str, str]:
    """One user per role of HOME_ROLES (`bench-<role>`, the benchmark's password), made through the
    services when the dataset has none yet; returns {role: username}."""
    from bank.db import make_engine, make_session_factory
    from bank.models import User
    from bank.uow import SYSTEM, unit_of_work
    from bank.users import create_user

    engine = make_engine(url)
    session = make_session_factory(engine)()
    names = {role: f"bench-{role}" for role in HOME_ROLES}
    missing = [
        r for r, n in names.items() if session.scalar(select(User.id).where(User.username == n)) is None
    ]
    if missing:
        with unit_of_work(session, SYSTEM, "benchmark: one user per role for the home pages"):
            for role in missing:
                create_user(
                    session,
                    names[role],
                    f"Benchmark {role}",
                    [role],
                    BENCH_PASSWORD,
                    must_change_password=False,
                )
    session.close()
    engine.dispose()
    return names


def measure_pages(url: str, n: int) -> tuple[dict, int]:
    s = samples(url)
    token = api_token(url, s["user_id"])
    users = role_users(url)
    results = {}
    with server("wsgi:app", url) as (port, worker):
        client = Client(port)
        client.login()
        for name, path, is_api in pages(s):
            headers = {"Authorization": f"Bearer {token}"} if is_api else None
            results[name] = timed(client, path, n, headers)
        results["home page (every role)"] = timed(client, "/", n)
        for role, username in users.items():
            role_client = Client(port)
            role_client.login(username)
            results[f"home page ({role})"] = timed(role_client, "/", n)
        rss_kb = peak_rss_kb(worker)
    return results, rss_kb


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure_bare(n: int) -> list[float]:
    with server("bench.bare_app:app") as (port, _worker):
        return timed(Client(port), "/", n)


# --- labels -------------------------------------------------------------------------------------------


def label_data(url: str, count: int):
    from bank.db import make_engine
    from bank.labels import LabelData
    from lots.models import Container, Lot

    engine = make_engine(url)
    zone = ZoneInfo("Europe/Paris")
    labels = []
    with Session(engine) as s:
        rows = s.scalars(
            select(Container)
            .join(Lot)
            .where(Lot.tier == "dose", Container.cells > 0)
            .order_by(Container.id)
            .limit(count)
        ).all()
        for i, c in enumerate(rows):
            labels.append(
                LabelData(
                    din=c.lot.din,
                    product_code=c.product_code,
                    product_name=c.lot.product_type.name,
                    cells_text=f"{c.cells / 1e8:.1f} × 10⁸ viable cells",
                    volume_text=f"{c.volume_ml:g} mL",
                    expiry_local=c.expires_at.astimezone(zone),
                    storage_text=c.lot.product_type.storage_temperature,
                    trial_code="MAESTRO-4MS",
                    subject_id=f"S-{i % 400 + 1:04d}",
                    dose_number=i % 4 + 1,
                    dose_count=4,
                    facility_name="Cell Therapy Unit",
                    statements=("For autologous use only",) if i % 3 == 0 else (),
                )
            )
    engine.dispose()
    return labels


def render_ours(labels) -> bytes:
    from bank.labels import render_labels_pdf

    return render_labels_pdf(labels)


def render_bare(labels) -> bytes:
    """The reference: reportlab canvas, the same Code 128 symbols and zxing-cpp Data Matrix drawn as
    module rectangles, a few plain strings; no layout engine, no wrapping, no caching."""
    import numpy as np
    import zxingcpp
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(100 * mm, 100 * mm))
    for label in labels:
        for k, data in enumerate((label.din_data, label.product_data, label.expiry_data)):
            Code128(data, barWidth=0.33 * mm, barHeight=10 * mm, humanReadable=0).drawOn(
                canvas, 5 * mm, (85 - 14 * k) * mm
            )
        symbol = zxingcpp.create_barcode(
            label.matrix_data, zxingcpp.BarcodeFormat.DataMatrix, force_square=True
        )
        dark = np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128
        path = canvas.beginPath()
        side = len(dark)
        for r in range(side):
            for c in range(side):
                if dark[r][c]:
                    path.rect(65 * mm + c * 0.5 * mm, (40 - r * 0.5) * mm, 0.5 * mm, 0.5 * mm)
        canvas.drawPath(path, stroke=0, fill=1)
        for k, line in enumerate(
            (
                label.din,
                label.product_name,
                label.cells_text,
                label.volume_text,
                label.storage_text,
                f"{label.trial_code} {label.subject_id}",
            )
        ):
            canvas.drawString(5 * mm, (35 - 5 * k) * mm, line)
        canvas.showPage()
    canvas.save()
    return buf.getvalue()


def label_rates(labels, rounds: int = 15) -> tuple[float, float]:
    """Labels per second of ours and of the bare reference, medians of `rounds` runs taken in turn: on a
    shared machine the speed drifts by ±40 % within a minute, and alternating lets it hit both alike."""
    ours, bare = [], []
    for _ in range(rounds):
        for render, times in ((render_ours, ours), (render_bare, bare)):
            t = time.perf_counter()
            render(labels)
            times.append(time.perf_counter() - t)
    return len(labels) / statistics.median(ours), len(labels) / statistics.median(bare)


def label_memory_mb(url: str, count: int = 1000) -> float:
    """Peak RSS of a fresh process that loads 1,000 labels' data and renders them into one PDF. VmHWM,
    not getrusage: Linux carries ru_maxrss over fork and exec, so a child of a big benchmark process
    would report its parent's peak."""
    code = (
        f"import os; from bench.run import label_data, render_ours, peak_rss_kb; "
        f"labels = label_data({url!r}, {count}); pdf = render_ours(labels); "
        "print(peak_rss_kb(os.getpid()))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1]) / 1024


# --- the shelf read of an allocation --------------------------------------------------------------


def shelf_read_ms(url: str, n: int = 100) -> list[float]:
    """ms to find and lock the first free bag for a dose (doses.services.allocation._candidates, as an
    allocation runs it first), for a mid-life blinded patient of the generated facility; rolled back,
    so nothing is taken. The allocation throughput itself is measured on a fresh database, whose lots
    carry the release records the generator does not make."""
    from bank.db import make_engine, make_session_factory
    from doses.models import Allocation, Patient, RandomisationEntry
    from doses.services.allocation import _candidates, build_request

    engine = make_engine(url)
    session = make_session_factory(engine)()
    patient = session.scalar(
        select(Patient)
        .join(RandomisationEntry, RandomisationEntry.subject_id == Patient.subject_id)
        .order_by(Patient.id.desc())
        .limit(1)
    )
    planned = session.scalar(select(func.max(Allocation.planned_at)))  # the generated facility's "today"
    request, _problems = build_request(session, patient, 1, planned)
    times = []
    for _ in range(n + 5):
        t = time.perf_counter()
        _candidates(session, patient, request.protocol, request, limit=1, lock=True)
        times.append((time.perf_counter() - t) * 1000)
        session.rollback()
    session.close()
    engine.dispose()
    return times[5:]


# --- audit overhead --------------------------------------------------------------------------------


@contextmanager
def scratch_copy(url: str):
    """A copy of a dataset, dropped afterwards: the audit overhead's writes without the listener are
    records without a trail (`audit verify` would name each), and they stay out of the dataset."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        source = Path(parsed.database)
        copy = source.with_name(source.stem + "_scratch.sqlite3")
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        try:
            yield f"sqlite:///{copy}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
        return
    name = f"{parsed.database}_scratch"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def audit_overhead(url: str, n: int = 200) -> tuple[float, float]:
    """ms per write (register a donor and record one serology result, one transaction) with the audit
    listener, then with it removed; the same service calls either way. Run on a scratch copy."""
    from datetime import date

    from bank import audit
    from bank.db import make_engine, make_session_factory
    from bank.models import User
    from bank.uow import unit_of_work
    from bank.users import actor_for
    from donors import services as donor_services

    engine = make_engine(url)
    session = make_session_factory(engine)()
    actor = actor_for(session.scalar(select(User).where(User.username == BENCH_USER)))

    def one_write():
        with unit_of_work(session, actor, "benchmark write"):
            donor_services.register_donor(
                session,
                sex="F",
                birth_date=date(1980, 1, 1),
                weight_kg=60.0,
                height_cm=165.0,
                consent_version="ICF v3",
                consent_date=date.today(),
                is_autologous=True,
            )

    def block(count: int) -> float:
        t = time.perf_counter()
        for _ in range(count):
            one_write()
        return (time.perf_counter() - t) * 1000 / count

    # Alternate blocks with and without the listener (medians of 9 each), so drift in the machine's
    # load or the database's caches (autovacuum after a fresh load) hits both sides alike.
    block(10)
    with_blocks, without_blocks = [], []
    for _ in range(9):
        with_blocks.append(block(n // 5))
        event.remove(Session, "after_flush", audit._write_audit_rows)
        try:
            without_blocks.append(block(n // 5))
        finally:
            event.listen(Session, "after_flush", audit._write_audit_rows)
    with_audit, without = statistics.median(with_blocks), statistics.median(without_blocks)
    session.close()
    engine.dispose()
    return with_audit, without


# --- the run --------------------------------------------------------------------------------------


def parse_scales(text: str) -> list[tuple[str, float]]:
    """ "tenth=0.1,full=1.0" → [("tenth", 0.1), ("full", 1.0)]: dataset names and generator scales."""
    scales = []
    for part in text.split(","):
        name, _, value = part.partition("=")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name.strip()) or not value:
            raise argparse.ArgumentTypeError(f"{part!r}: give NAME=SCALE, e.g. tenth=0.1")
        scales.append((name.strip(), float(value)))
    if len(scales) < 2:
        raise argparse.ArgumentTypeError("give two scales or more (growth compares the last with the first)")
    return scales


def dataset(backend: str, name: str, scale: float, regenerate: bool) -> str:
    url = db_url(backend, name)
    if regenerate or not exists(url):
        t = time.perf_counter()
        print(f"[{backend}] generating {name} dataset (scale {scale}) …", flush=True)
        print(f"[{backend}]   {generate(url, scale)} ({time.perf_counter() - t:.0f} s)", flush=True)
    else:
        upgrade(url)  # a dataset made before the latest migrations gets their tables (no rows)
    return url


def print_pages(backend: str, figures: dict, small: str, large: str, requests: int, bare_p50: float) -> None:
    print(
        f"== {backend}: page and API latency (ms; {requests} requests each; ratio = p50 / bare p50; "
        f"growth = p95 {large} / p95 {small})"
    )
    print(f"{'page':38} {'p50':>7} {'p95':>7} {'ratio':>6} | {'p50':>7} {'p95':>7} | {'growth':>6}")
    print(f"{'':38} {large:>22} | {small:>15} |")
    for page in figures[large][0]:
        big, little = figures[large][0][page], figures[small][0][page]
        print(
            f"{page:38} {pct(big, 50):7.1f} {pct(big, 95):7.1f} {pct(big, 50) / bare_p50:6.1f} | "
            f"{pct(little, 50):7.1f} {pct(little, 95):7.1f} | {pct(big, 95) / pct(little, 95):6.2f}"
        )
    print(
        f"peak RSS of the worker after serving these pages: {large} {figures[large][1] / 1024:.0f} MB, "
        f"{small} {figures[small][1] / 1024:.0f} MB (target < 250 MB)"
    )


def print_allocation(backend: str, allocations: int, rounds: int) -> None:
    from bench.allocation import measure as allocation

    alloc = allocation(db_url(backend, "alloc"), allocations, rounds)
    for mode, a in alloc.items():
        how = {
            "processes": "the service in 8 processes (as 8 app workers)",
            "threads": "the service in 8 threads of one process",
        }.get(mode, mode)
        print(
            f"allocation, {allocations} doses by {how} (FEFO, retry when refused), {rounds} rounds: "
            f"median {a['median']:.1f}/s (rounds {', '.join(f'{r:.1f}' for r in a['rates'])}), allocated "
            f"{'/'.join(map(str, a['allocated']))}, {a['retries']} refusals retried, errors "
            f"{a['errors'] or 'none'}, containers or doses held twice: {a['held_twice']} "
            f"(target ≥ 50/s, none held twice)"
        )


def run_backend(backend: str, args, bare_p50: float) -> None:
    scales = args.scales
    (small, _), (large, _) = scales[0], scales[-1]
    figures = {
        name: measure_pages(dataset(backend, name, scale, args.generate), args.requests)
        for name, scale in scales
    }
    print_pages(backend, figures, small, large, args.requests, bare_p50)
    with scratch_copy(db_url(backend, large)) as copy:
        with_audit, without = audit_overhead(copy)
    print(
        f"audit trail on a write (register a donor): {with_audit:.2f} ms with, {without:.2f} ms without "
        f"→ +{(with_audit / without - 1) * 100:.0f} % (target ≤ 30 %)"
    )
    shelf = {name: shelf_read_ms(db_url(backend, name)) for name in (small, large)}
    print(
        f"allocation's shelf read (first free bag, locked): p50 {pct(shelf[large], 50):.2f} ms, "
        f"p95 {pct(shelf[large], 95):.2f} ms; {small}: p95 {pct(shelf[small], 95):.2f} ms → growth "
        f"{pct(shelf[large], 95) / pct(shelf[small], 95):.2f}"
    )
    print_allocation(backend, args.allocations, args.rounds)
    print()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generate", action="store_true", help="regenerate the datasets first")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=40, help="timed requests per page (after 3 warm-ups)")
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=SCALES,
        help=f"datasets NAME=SCALE, smallest first (default {SCALES}; e.g. tiny=0.005,small=0.02 for a quick run)",
    )
    parser.add_argument(
        "--allocations", type=int, default=96, help="doses allocated in each allocation round"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="allocation rounds per client mode (median shown)"
    )
    args = parser.parse_args(argv)
    SQLITE_DIR.mkdir(parents=True, exist_ok=True)
    install_bench_keys()  # the services below write without an app: the audit key the datasets carry

    bare = measure_bare(args.requests * 2)
    bare_p50, bare_p95 = pct(bare, 50), pct(bare, 95)
    print(
        f"bare Flask constant (gunicorn, 1 sync worker, new connection per request): "
        f"p50 {bare_p50:.2f} ms, p95 {bare_p95:.2f} ms\n"
    )
    for backend in args.backends.split(","):
        run_backend(backend, args, bare_p50)

    url = db_url(args.backends.split(",")[0], args.scales[-1][0])
    labels = label_data(url, 200)
    ours, ref = label_rates(labels)
    print(
        f"label PDF ({len(labels)} labels, 100 × 100 mm): ours {ours:.0f} labels/s, bare reportlab {ref:.0f} "
        f"labels/s → ours takes {ref / ours:.2f}× the reference's time (target ≤ 1.5×, ≥ 200 labels/s)"
    )
    print(f"1,000-label PDF: peak RSS {label_memory_mb(url):.0f} MB (target < 300 MB)")
    print(
        f"(benchmark process peak RSS {peak_rss_kb(os.getpid()) / 1024:.0f} MB; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
    )


if __name__ == "__main__":
    main()
