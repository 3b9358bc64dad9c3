"""A destroyed bag stays destroyed when the pharmacy then deallocates its dose (DOMAIN.md §5: a
destroyed product never goes back to the shelf)."""

import pytest

from bank.uow import unit_of_work
from bank.users import actor_for
from doses import services
from tests.factories import custody as fc

pytestmark = pytest.mark.requirement("DOS-CUSTODY")


def test_destroyed_container_is_not_put_back_in_stock_by_a_deallocation(session, staff):
    allocation = fc.open_dose(session, staff)
    fc.record(session, staff.tech, staff.clinician, allocation, "issued_from_storage")
    fc.record(session, staff.tech, staff.clinician, allocation, "destroyed")
    assert allocation.status == "on_hold" and allocation.containers[0].status == "destroyed"
    with unit_of_work(session, actor_for(staff.clinician), "destroyed in transit"):
        services.deallocate(session, allocation, "bag destroyed after a fall")
    assert allocation.status == "deallocated"
    assert allocation.containers[0].status == "destroyed"
