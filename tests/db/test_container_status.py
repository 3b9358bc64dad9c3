"""A container's status moves only through its workflow (lots.states.CONTAINER_WORKFLOW), from formulation
to the patient or to destruction: one status-history row per step, each with who took it and why."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bank.status import TransitionRefused, change_status, status_history
from bank.uow import unit_of_work
from bank.users import actor_for
from doses import services
from lots.states import CONTAINER_WORKFLOW
from tests.factories import custody as fc
from tests.factories import doses as fd

pytestmark = pytest.mark.requirement("ER-SEQUENCE", "DON-LOOKBACK")


@pytest.fixture
def staff(make_user):
    return fd.Staff(make_user)


def steps(session, container) -> list[tuple[str | None, str]]:
    return [(row.from_status, row.to_status) for row in status_history(session, container)]


STORED = [(None, "formulated"), ("formulated", "stored"), ("stored", "allocated")]
SHIPPED = [("allocated", "removed"), ("removed", "shipped")]


@pytest.mark.parametrize(
    "last, events",
    [
        ("administered", ("received_at_site", "thawed", "administered")),
        ("destroyed", ("destroyed",)),
    ],
)
def test_a_container_walks_from_allocation_to_the_patient_or_destruction_one_history_row_per_step(
    session, staff, last, events
):
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    for event in ("issued_from_storage", "packed", "shipped", *events):
        fc.record(session, staff.tech, staff.clinician, allocation, event)
    assert container.status == last
    history = status_history(session, container)
    assert steps(session, container) == [*STORED, *SHIPPED, ("shipped", last)]
    label = f"{allocation.patient.subject_id} dose 1"
    by_step = {(row.from_status, row.to_status): row for row in history}
    allocated = by_step[("stored", "allocated")]
    assert (allocated.actor_id, allocated.reason) == (staff.clinician.id, f"allocated to {label}")
    assert by_step[("allocated", "removed")].reason == f"issued from storage: {label}"
    assert by_step[("removed", "shipped")].reason == f"shipped: {label}"
    assert by_step[("shipped", last)].reason == f"{last}: {label}"
    assert {row.actor_id for row in history[3:]} == {staff.tech.id}  # the custody steps: who handed over


def test_a_deallocated_dose_puts_its_container_back_on_the_shelf_with_the_reason(session, staff):
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    with unit_of_work(session, actor_for(staff.clinician), "visit postponed"):
        services.deallocate(session, allocation, "visit postponed by the site")
    assert container.status == "stored" and container.box_id is not None
    assert steps(session, container) == [*STORED, ("allocated", "stored")]
    assert status_history(session, container)[-1].reason == "visit postponed by the site"


def test_a_returned_container_is_out_of_storage_and_a_held_shipped_one_comes_back_by_its_deallocation(
    session, staff
):
    returned = fc.open_dose(session, staff)
    for event in ("issued_from_storage", "packed", "shipped", "received_at_site", "returned"):
        fc.record(session, staff.tech, staff.clinician, returned, event)
    assert steps(session, returned.containers[0]) == [*STORED, *SHIPPED, ("shipped", "removed")]

    held = fc.open_dose(session, staff)
    container = held.containers[0]
    for event in ("issued_from_storage", "packed", "shipped"):
        fc.record(session, staff.tech, staff.clinician, held, event)
    with unit_of_work(session, actor_for(staff.qa), "look-back"):
        services.hold_doses(session, [container.id], "Donor look-back")
    # Someone who may deallocate but not record custody: the container's return step (custody.record in
    # the table) is taken on the deallocation's behalf, still in their name.
    pharmacy = replace(actor_for(staff.clinician), permissions=frozenset({"dose.allocate"}))
    with unit_of_work(session, pharmacy, "look-back"):
        services.deallocate(session, held, "donor look-back: dose withdrawn")
    assert container.status == "removed"
    last = status_history(session, container)[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("shipped", "removed", staff.clinician.id)


def test_a_container_step_outside_its_workflow_is_refused(session, staff):
    allocation = fc.open_dose(session, staff)
    container = allocation.containers[0]
    with pytest.raises(TransitionRefused) as refused:
        with unit_of_work(session, actor_for(staff.clinician), "skipping the chain of custody"):
            change_status(session, container, CONTAINER_WORKFLOW, "administered", reason="given")
    assert [p.rule_id for p in refused.value.problems] == ["workflow.not_allowed"]
    session.refresh(container)
    assert container.status == "allocated"
