"""Plausibility of bench entries, corrections and lot actions (lots.rules): DOMAIN.md §3 — harvest →
isolation → passages P0…Pn → cryopreservation, PD = log2(harvested / seeded). Values are the seed
product's (lots/reference.py: 8-fold a day, 20 points of viability)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from lots.reference import PLAUSIBILITY
from lots.rules import MaterialLotFacts, material_usability
from lots.rules.actions import LotFacts, lot_actions
from lots.rules.corrections import (
    EntryFacts,
    check_correction_confirmation,
    check_correction_request,
    signed_on_top,
)
from lots.rules.plausibility import (
    Neighbour,
    PlausibilityLimits,
    check_freezing_date,
    check_isolation_plausibility,
    check_passage_plausibility,
    confirmation_errors,
)

pytestmark = pytest.mark.requirement("ER-ENTRY-CHECKS")

LIMITS = PlausibilityLimits(**PLAUSIBILITY)
D = date(2026, 3, 2)
ISOLATION = Neighbour("the isolation", D, 2.0e7, 92.0)


def passage(seeded=1.0e6, harvested=1.6e7, viability=95.0, seeded_on=D, days=5, before=ISOLATION, **kw):
    return check_passage_plausibility(
        LIMITS,
        seeded=seeded,
        harvested=harvested,
        viability_pct=viability,
        seeded_on=seeded_on,
        harvested_on=seeded_on + timedelta(days=days),
        before=before,
        **kw,
    )


def ids(problems):
    return {p.rule_id for p in problems}


def test_an_ordinary_passage_raises_nothing():
    found = passage()
    assert found.refusals == () and found.warnings == ()


def test_a_million_cells_becoming_a_trillion_in_a_day_is_refused_on_the_harvested_count():
    found = passage(seeded=1.0e6, harvested=1.0e12, days=1)
    assert ids(found.refusals) == {"lots.plausibility.fold_increase"}
    assert found.refusals[0].field == "harvested_cells"


@pytest.mark.parametrize(
    "fold, days, plausible",
    [(8.0, 1, True), (8.01, 1, False), (64.0, 2, True), (8.0, 0, True), (9.0, 0, False), (2.0**15, 5, True)],
)
def test_fold_increase_ceiling_is_the_product_fold_a_day_to_the_power_of_the_days(fold, days, plausible):
    found = passage(seeded=1.0e6, harvested=1.0e6 * fold, days=days)
    assert ("lots.plausibility.fold_increase" not in ids(found.refusals)) is plausible


def test_passage_seeded_before_the_previous_one_was_harvested_is_refused():
    p0 = Neighbour("P0", D + timedelta(days=6), 1.6e7, 95.0)
    found = passage(seeded_on=D + timedelta(days=5), before=p0)
    assert ids(found.refusals) == {"lots.plausibility.seeded_before_previous"}
    assert found.refusals[0].field == "seeded_on" and "P0" in found.refusals[0].message


def test_seeding_more_cells_than_the_step_before_gave_is_refused():
    found = passage(seeded=3.0e7, harvested=6.0e7)
    assert "lots.plausibility.seeded_more_than_available" in ids(found.refusals)


def test_negative_pd_and_a_steep_viability_drop_are_warnings_not_refusals():
    found = passage(seeded=2.0e6, harvested=1.0e6, viability=70.0)  # PD −1.00; 92 % → 70 %
    assert found.refusals == ()
    assert ids(found.warnings) == {"lots.plausibility.negative_pd", "lots.plausibility.viability_drop"}
    assert {w.field for w in found.warnings} == {"harvested_cells", "viability_pct"}
    assert "PD -1.00" in found.warnings[0].message


def test_a_viability_drop_up_to_the_threshold_needs_no_comment():
    assert passage(viability=72.0).warnings == ()  # 20 points exactly


def test_warnings_pass_only_when_confirmed_with_a_comment():
    warnings = passage(seeded=2.0e6, harvested=1.0e6).warnings
    assert set(confirmation_errors(warnings, False, "")) == {"confirm_plausibility", "plausibility_comment"}
    assert set(confirmation_errors(warnings, True, "  ")) == {"plausibility_comment"}
    assert confirmation_errors(warnings, True, "recount confirmed by a second haemocytometer") == {}
    assert confirmation_errors((), False, None) == {}


def test_a_corrected_passage_must_still_fit_the_next_one_and_the_freezing():
    nxt = Neighbour("P2", D + timedelta(days=4), 5.0e6)
    found = passage(days=5, after=nxt)
    assert ids(found.refusals) == {"lots.plausibility.next_before_harvest"}
    found = passage(harvested=4.0e6, days=3, after=Neighbour("P2", D + timedelta(days=3), 5.0e6))
    assert ids(found.refusals) == {"lots.plausibility.next_seeded_more"}
    found = passage(days=5, frozen_on=D + timedelta(days=4))
    assert ids(found.refusals) == {"lots.plausibility.frozen_before_harvest"}


def test_freezing_before_the_last_passage_harvest_is_refused_and_the_same_day_is_allowed():
    last = Neighbour("P1", D)
    assert ids(check_freezing_date(D - timedelta(days=1), last)) == {
        "lots.plausibility.frozen_before_harvest"
    }
    assert check_freezing_date(D, last) == [] and check_freezing_date(D, None) == []


def test_isolation_corrected_after_p0_was_seeded_is_refused():
    p0 = Neighbour("P0", D, 1.0e6)
    assert ids(check_isolation_plausibility(D + timedelta(days=1), 2.0e7, p0).refusals) == {
        "lots.plausibility.next_before_isolation"
    }
    assert ids(check_isolation_plausibility(D, 5.0e5, p0).refusals) == {"lots.plausibility.next_seeded_more"}


@pytest.mark.parametrize("fold, drop", [(1.0, 20.0), (float("inf"), 20.0), (8.0, 101.0), (8.0, -1.0)])
def test_plausibility_limits_refuse_impossible_parameters(fold, drop):
    with pytest.raises(ValueError):
        PlausibilityLimits(fold, drop)


# --- corrections ------------------------------------------------------------------------------------


def entry(verified=False, in_force=True, pending=False, author=1):
    return EntryFacts("P1", author, verified, in_force, pending)


def test_only_the_author_corrects_an_unverified_entry():
    assert check_correction_request(entry(), 1) == []
    assert ids(check_correction_request(entry(), 2)) == {"lots.correction.author_only"}


def test_a_verified_entry_may_be_corrected_by_anyone_but_needs_a_second_person():
    assert check_correction_request(entry(verified=True), 2) == []
    assert ids(check_correction_confirmation(2, 2, True)) == {"lots.correction.four_eyes"}
    assert check_correction_confirmation(2, 3, True) == []
    assert ids(check_correction_confirmation(2, 3, False)) == {"lots.correction.not_pending"}


def test_an_entry_out_of_force_or_with_a_pending_correction_is_not_corrected_again():
    assert ids(check_correction_request(entry(in_force=False, pending=True), 1)) == {
        "lots.correction.not_in_force",
        "lots.correction.pending",
    }


@pytest.mark.parametrize(
    "status, held_from, signed",
    [
        ("released", None, True),
        ("rejected", None, True),
        ("on_hold", "released", True),
        ("in_process", None, False),
        ("awaiting_qc", None, False),
        ("on_hold", "in_process", False),
    ],
)
def test_a_release_or_rejection_is_what_a_correction_sends_back_for_re_review(status, held_from, signed):
    assert signed_on_top(status, held_from) is signed


# --- materials and actions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expiry, status, expected",
    [
        (D + timedelta(days=100), "approved", "usable"),
        (D + timedelta(days=30), "approved", "expiring_soon"),
        (D - timedelta(days=1), "approved", "expired"),
        (D + timedelta(days=100), "rejected", "rejected"),
        (D + timedelta(days=100), "quarantined", "quarantined"),
        (None, "approved", "expired"),
    ],
)
def test_material_usability_says_expired_expiring_soon_and_rejected(expiry, status, expected):
    state, reason = material_usability(MaterialLotFacts("DMSO", "L1", expiry, status, False), D, 30)
    assert state == expected and reason


def facts(**kw):
    base = dict(
        din="G123426000001",
        status="in_process",
        held_from=None,
        tier="master",
        is_placebo=False,
        is_harvest_lot=True,
        has_isolation=True,
        next_passage=2,
        max_passage=6,
        last_passage_verified=True,
        cells_left=3.2e7,
        unverified=(),
        under_lookback=False,
        formulated_containers=0,
    )
    return LotFacts(**{**base, **kw})


def by_key(actions):
    return {a.key: a for a in actions}


def test_submit_for_qc_is_blocked_with_the_qc_reasons_and_offered_when_nothing_stops_it():
    from lots.rules import check_ready_for_qc

    qc = check_ready_for_qc([], True, True, False, 2, 0)  # no container
    actions = by_key(lot_actions(facts(), {"awaiting_qc": [], "on_hold": []}, qc))
    assert not actions["submit"].possible and ids(actions["submit"].problems) == {"lots.qc.no_container"}
    assert by_key(lot_actions(facts(), {"awaiting_qc": []}, []))["submit"].possible


def test_bench_actions_say_why_they_are_closed():
    actions = by_key(lot_actions(facts(status="awaiting_qc", last_passage_verified=False), {}, []))
    assert ids(actions["passage"].problems) == {"lots.bench.closed"}
    assert ids(actions["formulate"].problems) == {"lots.bench.closed", "lots.formulation.unverified"}
    actions = by_key(lot_actions(facts(next_passage=7, has_isolation=False), {}, []))
    assert ids(actions["passage"].problems) == {"lots.passage.no_isolation", "lots.passage.max_passage"}
    assert actions["isolation"].possible


def test_lifting_a_hold_is_blocked_while_the_donor_is_under_look_back():
    actions = by_key(
        lot_actions(
            facts(status="on_hold", held_from="in_process", under_lookback=True), {"in_process": []}, []
        )
    )
    assert ids(actions["lift_hold"].problems) == {"lots.hold.lookback"}
