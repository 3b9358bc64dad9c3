"""Allocation throughput with 8 concurrent clients (issue 9), on a fresh database made through the real
services (the test factories: released lots, enrolled MAESTRO-4MS patients). Each client allocates the
first dose of its patients by the FEFO proposal, as the pharmacy page does; all clients want the same
first-expiring containers, so rows are contended and a refused allocation is retried. The clients are
8 threads POSTing to the JSON API of the app under gunicorn (as site systems or pharmacy terminals),
and, for reference, the service called directly from 8 processes and from 8 threads. The clock starts
once every client is connected and every server worker warmed up. After each round no container may be
held by two active allocations and no dose may have two; then every dose of the round is deallocated
(the real service), so the next round allocates the same patients from the same shelf. Several rounds
give a median: this machine's speed drifts by a third from one minute to the next."""

from __future__ import annotations

import gc
import multiprocessing
import statistics
import threading
import time
from contextlib import ExitStack, contextmanager

from sqlalchemy import select, text

from bank.db import make_engine, make_session_factory
from bank.migrate import upgrade
from bank.uow import SYSTEM, unit_of_work
from bank.users import actor_for, create_user
from bench.generate import install_bench_keys, recreate_database

CLIENTS = 8


def _allocate_all(engine, actor, patient_ids: list[int], when, processes: bool) -> dict:
    """One round: CLIENTS clients share the patients; returns the rate, retries and errors."""
    from doses import services
    from doses.models import Patient

    done, refused, errors = [], [], []
    lock = threading.Lock()

    def client(ids: list[int], ready) -> None:
        s = make_session_factory(engine)()
        try:
            # As a long-running app worker would be: connected, its first statements run, before the
            # clock starts. Then all clients start together.
            s.get(Patient, ids[0])
            s.rollback()
            ready.wait()
            for pid in ids:
                for _attempt in range(CLIENTS + 1):  # a lost race on a FEFO container is refused: ask again
                    try:
                        with unit_of_work(s, actor, "benchmark allocation"):
                            services.allocate_dose(s, s.get(Patient, pid), 1, when, None)
                        with lock:
                            done.append(pid)
                        break
                    except services.AllocationRefused as e:
                        with lock:
                            refused.append(",".join(sorted(e.rule_ids)))
                    except Exception as e:  # noqa: BLE001 — reported, never hidden
                        with lock:
                            errors.append(f"{type(e).__name__}: {e}")
                        break
        finally:
            s.close()

    shares = [patient_ids[i::CLIENTS] for i in range(CLIENTS)]
    if processes:
        # Each client its own process (as 8 app workers or 8 site systems would be): no shared GIL.
        engine.dispose()
        # Forked from a parent that made the test data (as gunicorn forks workers from a master that
        # only imported the app): without freezing, each child's collector walks, and so copies, all of
        # the parent's objects.
        gc.collect()
        gc.freeze()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        barrier = ctx.Barrier(CLIENTS + 1)

        def run_in_process(share):
            engine.dispose(close=False)  # the child opens its own connections
            client(share, barrier)
            queue.put((list(done), list(refused), list(errors)))

        procs = [ctx.Process(target=run_in_process, args=(share,)) for share in shares]
        for p in procs:
            p.start()
        barrier.wait()
        started = time.perf_counter()
        for _ in procs:
            d, r, e = queue.get()
            done.extend(d)
            refused.extend(r)
            errors.extend(e)
        seconds = time.perf_counter() - started
        for p in procs:
            p.join()
        gc.unfreeze()
    else:
        seconds = _in_threads(client, shares)
    return {
        "allocated": len(done),
        "per_second": len(done) / seconds,
        "retries": len(refused),
        "errors": errors,
    }


def _in_threads(client, shares: list[list[int]]) -> float:
    """Run client(share, barrier) in one thread per share, started together; seconds they took."""
    barrier = threading.Barrier(len(shares) + 1)
    threads = [threading.Thread(target=client, args=(share, barrier)) for share in shares]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def _allocate_over_api(port: int, token: str, patient_ids: list[int], planned_on: str) -> dict:
    """One round through the JSON API: CLIENTS client threads (site systems, pharmacy terminals) POST
    the allocation of dose 1 for their patients to the app served by gunicorn, retrying on a refusal."""
    import http.client
    import json

    done, refused, errors = [], [], []
    lock = threading.Lock()
    body = json.dumps({"dose_number": 1, "planned_date": planned_on, "planned_time": "10:00"})
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(ids: list[int], ready) -> None:
        ready.wait()
        for pid in ids:
            for _attempt in range(CLIENTS + 1):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("POST", f"/api/v1/patients/{pid}/allocations", body=body, headers=headers)
                resp = conn.getresponse()
                answer = resp.read()
                conn.close()
                with lock:
                    if resp.status == 201:
                        done.append(pid)
                        break
                    if resp.status == 409:
                        refused.append(answer[:80])
                        continue
                    errors.append(f"HTTP {resp.status}: {answer[:200]!r}")
                    break

    seconds = _in_threads(client, [patient_ids[i::CLIENTS] for i in range(CLIENTS)])
    return {
        "allocated": len(done),
        "per_second": len(done) / seconds,
        "retries": len(refused),
        "errors": errors,
    }


def _doubled(engine) -> int:
    with engine.connect() as conn:
        return (
            conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT container_id FROM allocation_containers WHERE released_at IS NULL "
                    "GROUP BY container_id HAVING count(*) > 1) d"
                )
            ).scalar()
            + conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT patient_id, dose_number FROM allocations WHERE status <> 'deallocated' "
                    "GROUP BY patient_id, dose_number HAVING count(*) > 1) d"
                )
            ).scalar()
        )


def _deallocate_all(engine, actor) -> None:
    from doses.models import Allocation
    from doses.services import deallocate

    s = make_session_factory(engine)()
    for allocation in s.scalars(select(Allocation).where(Allocation.status == "allocated")).all():
        with unit_of_work(s, actor, "benchmark round over"):
            deallocate(s, allocation, "benchmark round over")
    s.close()


# gunicorn settings the API rounds are served with on this 2-core machine: one sync worker per core (the
# README's deployment), and twice as many. The work is CPU-bound: more workers than cores only make
# them preempt each other, also while one holds a row lock the others wait for.
API_SERVERS = {
    "8 API clients, gunicorn 2 sync workers": ("--workers", "2"),
    "8 API clients, gunicorn 4 sync workers": ("--workers", "4"),
}


@contextmanager
def _api_server(url: str, engine, clinician, patient_ids: list[int], options: tuple[str, ...]):
    """The app under gunicorn with `options`, every worker warmed up (connections, compiled statements
    and templates, as in a server that has been running); yields (port, token)."""
    import http.client

    from bank.api import issue_token
    from bench.run import server

    s = make_session_factory(engine)()
    with unit_of_work(s, actor_for(clinician), "benchmark token"):
        _row, token = issue_token(s, clinician, "allocation benchmark")
    s.close()
    with server("wsgi:app", url, options) as (port, _worker):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for pid in patient_ids[:40]:  # reads, and a refused allocation (no dose 99): nothing changes
            for method, path, body in (
                ("GET", f"/api/v1/patients/{pid}", None),
                ("POST", f"/api/v1/patients/{pid}/allocations", '{"dose_number": 99}'),
            ):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request(method, path, body=body, headers=headers)
                conn.getresponse().read()
                conn.close()
        yield port, token


def measure(url: str, allocations: int = 96, rounds: int = 3, modes: tuple[str, ...] | None = None) -> dict:
    """Per client mode ("processes", "threads", and the API_SERVERS): the rates of each round, their median, retries, errors,
    and the containers or doses found held twice after any round (must be 0)."""
    from tests.factories import doses as fd
    from tests.support import PASSWORD, unique

    install_bench_keys()  # the factories and the service write without an app: the audit key is ours
    recreate_database(url)
    upgrade(url)
    engine = make_engine(url, **({"pool_size": CLIENTS + 4} if url.startswith("postgresql") else {}))
    session = make_session_factory(engine)()

    def make_user(*roles, unblinded=False):
        with unit_of_work(session, SYSTEM, "benchmark staff"):
            return create_user(
                session,
                unique("u"),
                "Bench " + " ".join(roles),
                list(roles),
                PASSWORD,
                unblinded=unblinded,
                must_change_password=False,
            )

    staff = fd.Staff(make_user)
    per_lot = 12  # 12 × 5 × 10⁷ cells: what one grown lot yields
    for _ in range(-(-allocations // per_lot)):
        fd.cell_lot(session, staff, n=per_lot)
    patient_ids = [
        fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS").id for _ in range(allocations)
    ]
    session.close()
    actor = actor_for(staff.clinician)
    when = fd.planned(fd.TODAY)
    out = {}
    for mode in modes or (*API_SERVERS, "processes", "threads"):
        runs, doubled = [], 0
        with ExitStack() as stack:
            if mode in API_SERVERS:
                port, token = stack.enter_context(
                    _api_server(url, engine, staff.clinician, patient_ids, API_SERVERS[mode])
                )
            # A server's first round is not counted: its workers prepare their statements then.
            for _ in range(rounds + (mode in API_SERVERS)):
                if mode in API_SERVERS:
                    runs.append(_allocate_over_api(port, token, patient_ids, when.date().isoformat()))
                else:
                    runs.append(_allocate_all(engine, actor, patient_ids, when, mode == "processes"))
                doubled += _doubled(engine)
                _deallocate_all(engine, actor)
            runs = runs[-rounds:]
        rates = [r["per_second"] for r in runs]
        out[mode] = {
            "rates": rates,
            "median": statistics.median(rates),
            "allocated": [r["allocated"] for r in runs],
            "retries": sum(r["retries"] for r in runs),
            "errors": [e for r in runs for e in r["errors"]][:3],
            "held_twice": doubled,
        }
    engine.dispose()
    return out
