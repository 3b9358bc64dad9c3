"""Issue 18, plausibility across the whole chain: a dose is never handed over nor administered before
the release of the lot it comes from (DOMAIN.md §4: release by QA comes before any use; §5 custody)."""

from datetime import timedelta

import pytest

from bank.clock import utcnow
from bank.refusals import Refused
from bank.uow import unit_of_work
from bank.users import actor_for
from doses import services
from tests.factories import custody as fc
from tests.factories import doses as fd

pytestmark = pytest.mark.requirement("DOS-ALLOCATION", "DOS-CUSTODY")


def test_a_custody_event_dated_before_the_lots_release_is_refused_next_to_its_time(session, staff):
    allocation = fc.open_dose(session, staff)
    released = services.lots_released_at(session, allocation)
    assert released is not None
    with pytest.raises(Refused) as refused:
        fc.record(
            session,
            staff.tech,
            staff.clinician,
            allocation,
            "issued_from_storage",
            occurred_at=released - timedelta(hours=1),
        )
    assert "before the release of the dose's lot" in refused.value.errors["occurred_at"]
    fc.record(session, staff.tech, staff.clinician, allocation, "issued_from_storage", occurred_at=released)
    assert allocation.status == "issued"


def test_an_administration_before_the_lots_release_is_refused_and_nothing_changes(session, staff):
    allocation = fc.open_dose(session, staff)
    released = services.lots_released_at(session, allocation)
    with pytest.raises(Refused) as refused, unit_of_work(session, actor_for(staff.clinician), "given"):
        services.record_administration(session, allocation, released - timedelta(days=60))
    assert "release of the dose's lot" in refused.value.errors["administered_at"]
    session.refresh(allocation)
    assert allocation.administered_at is None and allocation.status == "allocated"
    fd.administer(session, staff.clinician, allocation, min(utcnow(), released + timedelta(days=1)))
    assert allocation.status == "administered"
