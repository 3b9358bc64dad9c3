"""Issue 22: adverse events after an infusion, linked back to the dose, lot and donor and forward to every
other recipient (DOMAIN.md §8). A serious reaction judged possibly related to a MAESTRO-4MS dose holds
the lot's remaining containers and doses at once and alerts QA; the look-forward lists every patient who
received the lot; QA holds the rest with one signed act and closes the investigation with a signature."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bank.esign import signatures_for
from bank.refusals import Refused
from bank.signals import serious_reaction_reported
from bank.uow import unit_of_work
from bank.users import actor_for
from biovigilance import services
from biovigilance.models import AdverseEventUpdate
from tests.factories import doses as fd
from tests.support import PASSWORD

pytestmark = pytest.mark.requirement("BIO-EVENTS")

TODAY = fd.TODAY


def _at(days_ago: int, hour: int = 10) -> datetime:
    return fd.planned(TODAY - timedelta(days=days_ago), hour)


def _event(**kw) -> services.EventInput:
    values = {
        "onset_at": _at(29, 14),
        "description": "Headache and fever after the intrathecal injection",
        "seriousness": (),
        "grade": 2,
        "outcome": "recovering",
        "imputability": "possible",
    }
    values.update(kw)
    return services.EventInput(**values)


def _record(session, user, patient, allocation, **kw):
    with unit_of_work(session, actor_for(user), "adverse event"):
        return services.record_event(session, patient, _event(allocation_id=allocation.id, **kw))


def test_a_serious_possibly_related_reaction_holds_the_lot_and_alerts_qa(session, staff):
    lot = fd.cell_lot(session, staff, n=3)
    patient, given = fd.maestro_dose(session, staff, lot)
    other, waiting = fd.maestro_dose(session, staff, lot, days_ago=0, give=False)
    alerts = []

    def alert(_session, event):
        alerts.append(event.reference)

    serious_reaction_reported.connect(alert)
    try:
        event = _record(session, staff.clinician, patient, given, seriousness=("hospitalisation",), grade=3)
    finally:
        serious_reaction_reported.disconnect(alert)
    assert event.serious and event.held_at is not None
    assert alerts == [event.reference]
    session.refresh(lot)
    assert lot.status == "on_hold"
    left = [
        c
        for c in fd.containers(session, lot)
        if c.id not in {given.containers[0].id, waiting.containers[0].id}
    ]
    assert left and all(c.on_hold for c in left)
    session.refresh(waiting)
    assert waiting.status == "on_hold" and waiting.held_from == "allocated"
    found = services.look_forward(session, event)
    assert found.patients == [other.subject_id]  # every other recipient of the lot, not the patient itself
    assert given.id not in {p.allocation.id for p in found.products if p.allocation}


def test_a_non_serious_or_unrelated_event_holds_nothing(session, staff):
    lot = fd.cell_lot(session, staff, n=2)
    patient, given = fd.maestro_dose(session, staff, lot)
    event = _record(
        session, staff.clinician, patient, given, seriousness=("hospitalisation",), imputability="unlikely"
    )
    assert event.held_at is None and services.look_forward(session, event) is None
    session.refresh(lot)
    assert lot.status == "released"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"onset_at": _at(31)}, "onset_at"),  # before the infusion (given 30 days ago at 10:00)
        ({"grade": 7}, "grade"),
        ({"imputability": "probable-ish"}, "imputability"),
        ({"outcome": "better"}, "outcome"),
        ({"seriousness": ("bad",)}, "seriousness"),
        ({"description": " "}, "description"),
        ({"onset_at": datetime.now(UTC) + timedelta(days=2)}, "onset_at"),
    ],
)
def test_impossible_input_is_refused_next_to_its_field_and_changes_nothing(session, staff, change, field):
    lot = fd.cell_lot(session, staff, n=1)
    patient, given = fd.maestro_dose(session, staff, lot)
    with pytest.raises(Refused) as refused:
        _record(session, staff.clinician, patient, given, **change)
    fields = set(refused.value.errors) | {p.field for p in refused.value.problems}
    assert field in fields
    assert services.events_of_patient(session, patient) == []


def test_follow_ups_keep_their_history_and_a_later_judgement_holds_at_once(session, staff):
    lot = fd.cell_lot(session, staff, n=2)
    patient, given = fd.maestro_dose(session, staff, lot)
    event = _record(session, staff.clinician, patient, given, imputability="unlikely")
    with unit_of_work(session, actor_for(staff.clinician), "follow-up"):
        services.update_event(
            session,
            event,
            _event(seriousness=("hospitalisation",), grade=3, outcome="not_recovered", imputability="likely"),
            "Admitted for aseptic meningitis",
        )
    updates = list(session.scalars(select(AdverseEventUpdate).where(AdverseEventUpdate.event_id == event.id)))
    assert len(updates) == 1 and '"imputability": ["unlikely", "likely"]' in updates[0].changes
    assert event.held_at is not None
    with pytest.raises(Refused):  # a follow-up needs its note
        with unit_of_work(session, actor_for(staff.clinician), "follow-up"):
            services.update_event(session, event, _event(), " ")


def test_qa_holds_every_product_of_the_same_donor_with_one_signature_and_closes_signed(session, staff):
    donor = fd.lf.signed_donor(session, staff.tech, staff.qa)
    lot = fd.cell_lot(session, staff, n=1, donor=donor)
    sibling = fd.cell_lot(session, staff, n=2, donor=donor)  # another lot of the same donor
    patient, given = fd.maestro_dose(session, staff, lot)
    event = _record(session, staff.clinician, patient, given, imputability="possible")
    found = services.look_forward(session, event)
    assert {c.id for c in fd.containers(session, sibling)} <= {p.container.id for p in found.products}
    assert {p.same for p in found.products} == {"donor"}
    with pytest.raises(Refused):  # a wrong password signs nothing and holds nothing
        with unit_of_work(session, actor_for(staff.qa), "look-forward"):
            services.hold_look_forward(session, event, staff.qa, "wrong password")
    session.refresh(sibling)
    assert sibling.status == "released"
    with unit_of_work(session, actor_for(staff.qa), "look-forward"):
        services.hold_look_forward(session, event, staff.qa, PASSWORD)
    session.refresh(sibling)
    assert sibling.status == "on_hold" and all(c.on_hold for c in fd.containers(session, sibling))
    assert [s.meaning for s in signatures_for(session, "adverse_events", event.id)] == ["Look-forward hold"]
    with pytest.raises(Refused) as refused:  # no conclusion, no closing
        with unit_of_work(session, actor_for(staff.qa), "close"):
            services.close_investigation(session, event, staff.qa, PASSWORD, "", "")
    assert {p.field for p in refused.value.problems} >= {"conclusion", "corrective_actions"}
    with unit_of_work(session, actor_for(staff.qa), "open"):
        services.start_investigation(session, event)
    with unit_of_work(session, actor_for(staff.qa), "close"):
        services.close_investigation(
            session,
            event,
            staff.qa,
            PASSWORD,
            "Aseptic meningitis, lot sterile",
            "Lumbar puncture SOP reviewed",
        )
    assert event.status == "closed"


def test_follow_up_visits_come_from_the_protocol_and_are_recorded_once(session, staff):
    lot = fd.cell_lot(session, staff, n=1)
    patient, _ = fd.maestro_dose(session, staff, lot, days_ago=370)
    (visit,) = services.follow_up_schedule(session, patient)
    assert visit.label == "M12" and visit.due_on == TODAY - timedelta(days=370) + timedelta(weeks=52)
    assert visit.state(TODAY) == "due"
    with unit_of_work(session, actor_for(staff.clinician), "visit"):
        services.record_follow_up(session, patient, "M12", TODAY, "EDSS stable")
    assert services.follow_up_schedule(session, patient)[0].state(TODAY) == "recorded"
    for label, on in (("M12", TODAY), ("W99", TODAY), ("M12", TODAY + timedelta(days=1))):
        with pytest.raises(Refused):
            with unit_of_work(session, actor_for(staff.clinician), "visit"):
                services.record_follow_up(session, patient, label, on, "")


def test_the_annual_summary_counts_events_by_imputability_and_seriousness(own_database):
    session, staff = own_database
    lot = fd.cell_lot(session, staff, n=3)
    patient, given = fd.maestro_dose(session, staff, lot)
    _record(
        session, staff.clinician, patient, given, imputability="possible", seriousness=("hospitalisation",)
    )
    _record(session, staff.clinician, patient, given, imputability="excluded")
    summary = services.annual_summary(session, "MAESTRO-4MS", _at(29).year)
    rows = {r.imputability: (r.serious, r.non_serious) for r in summary.rows}
    assert rows["possible"] == (1, 0) and rows["excluded"] == (0, 1)
    assert summary.patients_dosed == 1 and summary.doses_given == 1 and len(summary.events) == 2
