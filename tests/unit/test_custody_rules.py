"""Custody workflow rules (pure): only the next permitted event, the dose's status, logger readings."""

import pytest

from doses.custody.rules import (
    event_problems,
    excursion_found,
    storage_limit_c,
    validate_temperatures,
)
from doses.custody.states import EVENTS, FINAL, IN_STORAGE, KINDS, next_events
from tests.support import CUSTODY_CHAIN

pytestmark = pytest.mark.requirement("DOS-CUSTODY")


def test_the_whole_chain_from_the_freezer_to_the_patient_is_permitted_in_order():
    last = None
    for event in CUSTODY_CHAIN:
        assert event_problems(last, event, "issued" if last else "allocated") == [], (last, event)
        last = event


@pytest.mark.parametrize(
    "last, event",
    [
        (None, "packed"),  # the first event is the issue from storage
        (None, "administered"),
        ("issued_from_storage", "shipped"),  # not packed yet
        ("packed", "received_at_site"),  # not shipped yet
        ("shipped", "thawed"),  # not received yet
        ("thawed", "stored_at_site"),  # a thawed product is never frozen again
        ("thawed", "returned"),
        ("received_at_site", "issued_from_storage"),  # no going back
        ("returned", "issued_from_storage"),  # a returned dose is destroyed, not re-issued
    ],
)
def test_an_event_that_is_not_the_next_permitted_is_refused_and_names_the_next(last, event):
    problems = event_problems(last, event, "issued")
    assert (
        len(problems) == 1
        and "cannot follow" in problems[0].message
        and "next permitted" in problems[0].message
    )
    assert problems[0].rule_id == "custody.order" and problems[0].field == "event"


@pytest.mark.parametrize("final", FINAL)
def test_nothing_follows_administration_or_destruction(final):
    assert next_events(final) == ()
    for event in EVENTS:
        assert event_problems(final, event, "administered")


def test_a_dose_on_hold_may_only_be_returned_or_destroyed():
    for event in next_events("received_at_site"):
        problems = event_problems("received_at_site", event, "on_hold")
        assert bool(problems) == KINDS[event].forward, event
    assert "on hold" in event_problems("received_at_site", "thawed", "on_hold")[0].message


def test_a_deallocated_dose_takes_no_custody_event():
    assert "deallocated" in event_problems(None, "issued_from_storage", "deallocated")[-1].message


def test_unknown_event_is_refused():
    # Plain words (issue 24): the events as people know them, not the stored keys.
    names = ", ".join(KINDS[e].label for e in EVENTS)
    assert [p.message for p in event_problems(None, "teleported", "allocated")] == [
        f"Unknown custody event “teleported”: choose one of {names}."
    ]


def test_first_state_is_in_storage_and_every_event_has_two_signature_meanings():
    assert next_events(None) == next_events(IN_STORAGE) == ("issued_from_storage",)
    for kind in KINDS.values():
        assert (
            kind.handover_meaning and kind.receipt_meaning and kind.handover_meaning != kind.receipt_meaning
        )


@pytest.mark.parametrize(
    "lo, hi, field",
    [
        (-250, -150, "temperature_min_c"),
        (-150, 80, "temperature_max_c"),
        (-100, -150, "temperature_max_c"),
        (float("nan"), None, "temperature_min_c"),
        (None, float("inf"), "temperature_max_c"),
    ],
)
def test_impossible_logger_readings_are_refused_on_their_field(lo, hi, field):
    assert field in validate_temperatures(lo, hi)


def test_plausible_logger_readings_pass():
    assert validate_temperatures(-190.5, -160) == {} and validate_temperatures(None, None) == {}


@pytest.mark.parametrize(
    "text, limit",
    [
        ("≤ −150 °C (liquid nitrogen vapour phase)", -150.0),
        ("<= -80 °C", -80.0),
        ("below -135°C", -135.0),
        ("2–8 °C", None),
        ("", None),
    ],
)
def test_storage_limit_read_from_the_products_storage_text(text, limit):
    assert storage_limit_c(text) == limit


def test_an_excursion_is_found_only_while_the_dose_is_frozen():
    assert (
        excursion_found("shipped", -120, -150) == "logger maximum -120 °C is above the storage limit -150 °C"
    )
    assert excursion_found("shipped", -160, -150) is None
    assert excursion_found("thawed", 20, -150) is None  # thawing warms the bag by design
    assert excursion_found("shipped", None, -150) is None and excursion_found("shipped", -100, None) is None


def test_a_hand_off_before_the_lots_release_is_refused_after_it_accepted():
    """Issue 18: nothing is handed over before QA released the lot (DOMAIN.md §4–5)."""
    from datetime import UTC, datetime, timedelta

    from doses.custody.rules import time_errors

    released = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    now = released + timedelta(days=30)
    assert (
        "release of the dose's lot"
        in time_errors(released - timedelta(minutes=1), now, None, released)["occurred_at"]
    )
    assert time_errors(released, now, None, released) == {}
    assert time_errors(released + timedelta(days=1), now, None, None) == {}
