"""Allocation throughput with 8 concurrent clients (issue 9), on a fresh database made through the real
services (the test factories: released lots, enrolled MAESTRO-4MS patients). Each client allocates the
first dose of its patients by the FEFO proposal, as the pharmacy page does; all clients want the same
first-expiring containers, so rows are contended and a refused allocation is retried. Afterwards no
container may be held by two active allocations and no dose may have two."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from bank.db import make_engine, make_session_factory
from bank.migrate import upgrade
from bank.uow import SYSTEM, unit_of_work
from bank.users import actor_for, create_user
from bench.generate import recreate_database

CLIENTS = 8


def measure(url: str, allocations: int = 96, processes: bool = False) -> dict:
    from doses import services
    from doses.models import Patient
    from tests import factories_doses as fd
    from tests.conftest import PASSWORD, unique

    recreate_database(url)
    upgrade(url)
    engine = make_engine(url, **({"pool_size": CLIENTS + 4} if url.startswith("postgresql") else {}))
    session = make_session_factory(engine)()

    def make_user(*roles, unblinded=False):
        with unit_of_work(session, SYSTEM, "benchmark staff"):
            return create_user(session, unique("u"), "Bench " + " ".join(roles), list(roles), PASSWORD,
                               unblinded=unblinded, must_change_password=False)

    staff = fd.Staff(make_user)
    per_lot = 12  # 12 × 5 × 10⁷ cells: what one grown lot yields
    for _ in range(-(-allocations // per_lot)):
        fd.cell_lot(session, staff, n=per_lot)
    patient_ids = [fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS").id for _ in range(allocations)]
    session.close()
    actor = actor_for(staff.clinician)
    when = fd.planned(fd.TODAY)
    done, refused, errors = [], [], []
    lock = threading.Lock()

    def client(ids: list[int]) -> None:
        s = make_session_factory(engine)()
        try:
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
        import multiprocessing

        engine.dispose()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()

        def run_in_process(share):
            engine.dispose(close=False)  # the child opens its own connections
            client(share)
            queue.put((list(done), list(refused), list(errors)))

        procs = [ctx.Process(target=run_in_process, args=(share,)) for share in shares]
        started = time.perf_counter()
        for p in procs:
            p.start()
        for _ in procs:
            d, r, e = queue.get()
            done.extend(d)
            refused.extend(r)
            errors.extend(e)
        for p in procs:
            p.join()
    else:
        threads = [threading.Thread(target=client, args=(share,)) for share in shares]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        doubled = conn.execute(text(
            "SELECT count(*) FROM (SELECT container_id FROM allocation_containers WHERE released_at IS NULL "
            "GROUP BY container_id HAVING count(*) > 1) d")).scalar()
        from doses.models import Allocation
        active = conn.execute(select(func.count()).select_from(Allocation)).scalar()
    engine.dispose()
    return {"allocated": len(done), "seconds": seconds, "per_second": len(done) / seconds,
            "retries": len(refused), "errors": errors[:3], "double_allocated_containers": doubled,
            "allocations": active}
