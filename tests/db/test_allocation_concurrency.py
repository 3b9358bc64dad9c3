"""One container, one dose — under concurrent requests (DOMAIN.md §5). Fifty threads, each with its own
connection, ask at the same moment to allocate the same container to fifty different patients: exactly
one succeeds, the others are refused with 'container.allocated'. On PostgreSQL the rows are locked with
SELECT … FOR UPDATE and a partial unique index backs it up; on SQLite writers queue (BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading
from functools import partial

import pytest
from sqlalchemy import func, select

from bank.db import make_session_factory
from bank.refusals import Refused
from bank.uow import unit_of_work
from bank.users import actor_for
from doses import services
from doses.models import AllocatedContainer, Allocation, Patient
from tests.factories import doses as fd
from tests.fixtures import session_on, user_maker
from tests.support import run_together

pytestmark = pytest.mark.requirement("DOS-ALLOCATION")

THREADS = 50


def _request(engine, actor, barrier, reason: str, order: tuple, attempts: int = 1) -> str:
    """One allocation request on its own connection, `order` = (patient id, container ids): it reads the
    patient, waits at `barrier` for the others, then allocates dose 1 planned today from the containers
    (first-expiry-first-out when None), asking again up to `attempts` times while refused. "allocated", or
    "refused:" and the rules that refused it."""
    patient_id, container_ids = order
    s = make_session_factory(engine)()
    try:
        patient = s.get(Patient, patient_id)
        s.commit()  # end the read transaction: every request starts its unit of work together
        barrier.wait(timeout=60)
        for _attempt in range(attempts):
            try:
                with unit_of_work(s, actor, reason):
                    services.allocate_dose(s, patient, 1, fd.planned(fd.TODAY), container_ids)
                return "allocated"
            except Refused as e:
                outcome = "refused:" + ",".join(sorted(e.rule_ids))
        return outcome
    finally:
        s.close()


def test_fifty_concurrent_allocations_of_one_container_exactly_one_succeeds(fresh_database):
    url = fresh_database()
    with session_on(url, THREADS + 5) as session:
        engine = session.get_bind()
        staff = fd.Staff(user_maker(session))
        lot = fd.cell_lot(session, staff, n=1)
        container_id = fd.containers(session, lot)[0].id
        patient_ids = [
            fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS").id for _ in range(THREADS)
        ]
        actor = actor_for(staff.clinician)
        barrier = threading.Barrier(THREADS)
        request = partial(_request, engine, actor, barrier, "concurrent allocation")
        # any other failure is a finding: error:…
        outcomes = run_together(request, [(p, [container_id]) for p in patient_ids], timeout=180)
        assert len(outcomes) == THREADS
        assert outcomes.count("allocated") == 1, sorted(set(outcomes))
        assert all(
            o.startswith("refused:") and "container.allocated" in o for o in outcomes if o != "allocated"
        ), sorted(set(outcomes))
        session.expire_all()
        active = session.scalar(
            select(func.count())
            .select_from(AllocatedContainer)
            .where(AllocatedContainer.container_id == container_id, AllocatedContainer.released_at.is_(None))
        )
        assert active == 1
        assert session.scalar(select(func.count()).select_from(Allocation)) == 1


@pytest.mark.parametrize("n", [2])
def test_two_requests_for_the_same_dose_with_different_containers_give_one_allocation(fresh_database, n):
    """The dose side of the same guarantee: one active allocation per (patient, dose)."""
    url = fresh_database()
    with session_on(url) as session:
        engine = session.get_bind()
        staff = fd.Staff(user_maker(session))
        lot = fd.cell_lot(session, staff, n=n)
        ids = [c.id for c in fd.containers(session, lot)]
        patient_id = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS").id
        actor = actor_for(staff.clinician)
        barrier = threading.Barrier(n)
        request = partial(_request, engine, actor, barrier, "concurrent allocation")
        outcomes = run_together(request, [(patient_id, [c]) for c in ids], timeout=120)
        assert len(outcomes) == n and outcomes.count("allocated") == 1, outcomes
        refused = [o for o in outcomes if o != "allocated"]
        assert all(
            o.startswith("refused:") and ("dose.already_allocated" in o or "container.allocated" in o)
            for o in refused
        ), outcomes


def test_concurrent_fefo_allocations_each_get_their_own_container(fresh_database):
    """Eight clients take the FEFO proposal for eight patients at once: all want the same first-expiring
    bag, each ends with a different one (skipped while another request holds it), none twice."""
    url = fresh_database()
    clients = 8
    with session_on(url, clients + 4) as session:
        engine = session.get_bind()
        staff = fd.Staff(user_maker(session))
        fd.cell_lot(session, staff, n=clients + 2)
        patient_ids = [
            fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS").id for _ in range(clients)
        ]
        actor = actor_for(staff.clinician)
        barrier = threading.Barrier(clients)
        # A race lost at the very end is refused: the pharmacy asks again (three times at most).
        request = partial(_request, engine, actor, barrier, "concurrent FEFO allocation", attempts=3)
        outcomes = run_together(request, [(p, None) for p in patient_ids], timeout=180)
        assert outcomes == ["allocated"] * clients, outcomes
        session.expire_all()
        held = session.scalars(
            select(AllocatedContainer.container_id).where(AllocatedContainer.released_at.is_(None))
        ).all()
        assert len(held) == clients and len(set(held)) == clients
