"""Unit tests of lots.rules; parameter ids `secN-…` cite the section of /work/shared/DOMAIN.md."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from lots import states
from lots.rules import (
    MaterialLotFacts,
    Problem,
    ProductLimits,
    box_grid,
    check_bench_open,
    check_harvest_allowed,
    check_hold_lift,
    check_holdable,
    check_material_lot,
    check_passage_allowed,
    check_position,
    check_quarantine_lift,
    check_ready_for_qc,
    check_verification,
    container_expiry,
    cumulative_population_doublings,
    population_doublings,
    validate_formulation,
    validate_isolation_entry,
    validate_passage_entry,
)

pytestmark = pytest.mark.requirement("LOT-STEPS", "LOT-MATERIALS")

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 8), date(2025, 3, 15)


def rule_ids(problems: list[Problem]) -> list[str]:
    return [p.rule_id for p in problems]


# --- population doublings (§3: PD = log2(N_harvested / N_seeded), cumulative = sum) --------------


@pytest.mark.parametrize(
    ("seeded", "harvested", "expected"),
    [
        pytest.param(1e6, 8e6, 3.0, id="sec3-pd-1e6-to-8e6-is-3"),
        pytest.param(1e6, 2e6, 1.0, id="sec3-pd-doubling-is-1"),
        pytest.param(5e5, 5e5, 0.0, id="sec3-pd-no-growth-is-0"),
        pytest.param(4e6, 1e6, -2.0, id="sec3-pd-loss-is-negative"),
        pytest.param(1e6, 3e6, 1.584962500721156, id="sec3-pd-tripling-log2-3"),
        pytest.param(2_000_000, 64_000_000, 5.0, id="sec3-pd-int-counts"),
    ],
)
def test_population_doublings(seeded, harvested, expected):
    assert population_doublings(seeded, harvested) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("seeded", "harvested"),
    [
        pytest.param(0, 1e6, id="sec3-zero-seeded"),
        pytest.param(1e6, 0, id="sec3-zero-harvested"),
        pytest.param(-1e6, 1e6, id="sec3-negative-seeded"),
        pytest.param(1e6, math.inf, id="sec3-infinite"),
        pytest.param(True, 2, id="sec3-bool-not-a-count"),
    ],
)
def test_population_doublings_undefined_raises(seeded, harvested):
    with pytest.raises(ValueError):
        population_doublings(seeded, harvested)


def test_cumulative_pd_of_three_passages_is_the_sum():
    # P1 1e6→8e6 (3), P2 1e6→4e6 (2), P3 5e5→8e6 (4): 9 by hand.
    pds = [population_doublings(s, h) for s, h in [(1e6, 8e6), (1e6, 4e6), (5e5, 8e6)]]
    assert cumulative_population_doublings(pds) == 9.0
    assert cumulative_population_doublings(pds, starting_pd=12.5) == 21.5
    assert cumulative_population_doublings([]) == 0.0


# --- entry validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "bad_fields"),
    [
        pytest.param({}, set(), id="sec3-valid-passage"),
        pytest.param({"seeded": -1}, {"seeded"}, id="sec3-negative-seeded"),
        pytest.param({"harvested": -5}, {"harvested"}, id="sec3-negative-harvested"),
        pytest.param({"seeded": 0}, {"seeded", "harvested"}, id="sec3-zero-seeded-with-harvest"),
        pytest.param({"seeded": 0, "harvested": 0}, {"seeded", "harvested"}, id="sec3-zero-both"),
        pytest.param({"harvested": 0}, {"harvested"}, id="sec3-zero-harvest-is-a-deviation"),
        pytest.param({"viability_pct": 100.1}, {"viability_pct"}, id="sec3-viability-over-100"),
        pytest.param({"viability_pct": -0.1}, {"viability_pct"}, id="sec3-viability-negative"),
        pytest.param({"viability_pct": 100}, set(), id="sec3-viability-100-ok"),
        pytest.param({"viability_pct": 0}, set(), id="sec3-viability-0-ok"),
        pytest.param({"viability_pct": math.nan}, {"viability_pct"}, id="sec3-viability-nan"),
        pytest.param({"seeded": None, "seeded_on": None}, {"seeded", "seeded_on"}, id="sec3-required"),
        pytest.param({"harvested_on": D1, "seeded_on": D2}, {"harvested_on"}, id="sec3-harvest-before-seed"),
        pytest.param({"harvested_on": D2, "seeded_on": D2}, set(), id="sec3-same-day-ok"),
        pytest.param({"today": D1}, {"harvested_on"}, id="sec3-future-harvest"),
    ],
)
def test_validate_passage_entry(kwargs, bad_fields):
    entry = {"seeded": 1e6, "harvested": 8e6, "viability_pct": 92.5, "seeded_on": D1, "harvested_on": D2}
    errors = validate_passage_entry(**(entry | kwargs))
    assert set(errors) == bad_fields
    assert all(isinstance(m, str) and m for m in errors.values())


@pytest.mark.parametrize(
    ("kwargs", "bad_fields"),
    [
        pytest.param({}, set(), id="sec3-valid-isolation"),
        pytest.param({"cell_count": -1}, {"cell_count"}, id="sec3-negative-count"),
        pytest.param({"cell_count": 0}, {"cell_count"}, id="sec3-no-cells"),
        pytest.param({"viability_pct": 101}, {"viability_pct"}, id="sec3-viability-over-100"),
        pytest.param(
            {"isolated_on": D1, "harvested_on": D2}, {"isolated_on"}, id="sec3-isolated-before-harvest"
        ),
        pytest.param({"cell_count": "many"}, {"cell_count"}, id="sec3-not-a-number"),
    ],
)
def test_validate_isolation_entry(kwargs, bad_fields):
    entry = {"cell_count": 2.4e7, "viability_pct": 88.0, "harvested_on": D1, "isolated_on": D1}
    assert set(validate_isolation_entry(**(entry | kwargs))) == bad_fields


# --- passage limits (§3: maximum passage and cumulative PD per product, at the limit allowed) ----

LIMITS = ProductLimits(max_passage=6, max_cumulative_pd=40.0)


@pytest.mark.parametrize(
    ("passage", "cum_pd", "expected"),
    [
        pytest.param(5, 39.9, [], id="sec3-within-limits"),
        pytest.param(6, 40.0, [], id="sec3-at-both-limits-allowed"),
        pytest.param(7, 30.0, ["lots.passage.max_passage"], id="sec3-beyond-max-passage"),
        pytest.param(4, 40.01, ["lots.passage.max_cumulative_pd"], id="sec3-beyond-max-pd"),
        pytest.param(7, 41.0, ["lots.passage.max_passage", "lots.passage.max_cumulative_pd"], id="sec3-both"),
        pytest.param(-1, 1.0, ["lots.passage.number_invalid"], id="sec3-negative-passage"),
        pytest.param(2, math.nan, ["lots.passage.pd_invalid"], id="sec3-pd-nan"),
    ],
)
def test_check_passage_allowed(passage, cum_pd, expected):
    assert rule_ids(check_passage_allowed(LIMITS, passage, cum_pd)) == expected


def test_passage_limit_met_exactly_by_summed_pds_is_allowed():
    # 1e6 → 8.6e6 → 9e5 → 2.1e6 → 8e6: truly 3 PD, but the float sum is 3.0000000000000004.
    counts = [1e6, 8.6e6, 9e5, 2.1e6, 8e6]
    pds = [population_doublings(s, h) for s, h in zip(counts, counts[1:], strict=False)]
    assert sum(pds) > 3.0
    limits = ProductLimits(max_passage=4, max_cumulative_pd=3.0)
    assert check_passage_allowed(limits, 4, sum(pds)) == []
    assert check_passage_allowed(limits, 4, cumulative_population_doublings(pds)) == []


def test_passage_limits_come_from_data():
    wide = ProductLimits(max_passage=10, max_cumulative_pd=60.0)
    assert check_passage_allowed(wide, 8, 50.0) == []
    assert rule_ids(check_passage_allowed(LIMITS, 8, 50.0)) == [
        "lots.passage.max_passage",
        "lots.passage.max_cumulative_pd",
    ]
    with pytest.raises(ValueError):
        ProductLimits(max_passage=3, max_cumulative_pd=0)


# --- material lots (§3: recorded by lot and expiry; only approved, unexpired lots used) ---------


def lot(**kw) -> MaterialLotFacts:
    base = {
        "material": "Collagenase NB6",
        "lot_number": "C123",
        "expiry": D2,
        "status": "approved",
        "animal_origin": False,
    }
    return MaterialLotFacts(**(base | kw))


@pytest.mark.parametrize(
    ("facts", "use_date", "expected"),
    [
        pytest.param(lot(), D1, [], id="sec3-approved-unexpired"),
        pytest.param(lot(), D2, [], id="sec3-usable-on-expiry-date"),
        pytest.param(lot(), D2 + timedelta(days=1), ["lots.material.expired"], id="sec3-expired-day-after"),
        pytest.param(lot(status="quarantined"), D1, ["lots.material.quarantined"], id="sec3-quarantined"),
        pytest.param(lot(status="rejected"), D1, ["lots.material.rejected"], id="sec3-rejected"),
        pytest.param(
            lot(status="rejected"),
            D3,
            ["lots.material.expired", "lots.material.rejected"],
            id="sec3-all-problems-returned",
        ),
        pytest.param(lot(status="released?"), D1, ["lots.material.status_unknown"], id="sec3-unknown-status"),
        pytest.param(lot(expiry=None), D1, ["lots.material.expiry_missing"], id="sec3-no-expiry"),
        pytest.param(
            lot(animal_origin=True, material="Fetal bovine serum"),
            D1,
            [],
            id="sec3-animal-origin-flag-not-refusal",
        ),
    ],
)
def test_check_material_lot(facts, use_date, expected):
    problems = check_material_lot(facts, use_date)
    assert rule_ids(problems) == expected
    assert all("C123" in p.message for p in problems)


# --- harvest permission (§2: quarantine until determination; ineligible segregated) ------------


@pytest.mark.parametrize(
    ("status", "autologous", "lookback", "allowed", "quarantined", "auto_only", "ids"),
    [
        pytest.param("eligible", False, False, True, False, False, [], id="sec2-eligible-allowed"),
        pytest.param("pending", False, False, True, True, False, [], id="sec2-pending-quarantined"),
        pytest.param("incomplete", False, False, True, True, False, [], id="sec2-incomplete-quarantined"),
        pytest.param(
            "ineligible",
            False,
            False,
            False,
            False,
            False,
            ["lots.harvest.donor_ineligible"],
            id="sec2-ineligible-refused",
        ),
        pytest.param("pending", True, False, True, False, True, [], id="sec1-autologous-only"),
        pytest.param(
            "ineligible", True, False, True, False, True, [], id="sec1-autologous-needs-no-eligibility"
        ),
        pytest.param(
            "eligible",
            False,
            True,
            False,
            False,
            False,
            ["lots.harvest.lookback"],
            id="sec2-lookback-refused",
        ),
        pytest.param(
            "eligible",
            True,
            True,
            False,
            False,
            True,
            ["lots.harvest.lookback"],
            id="sec2-lookback-refused-autologous",
        ),
        pytest.param(
            "ineligible",
            False,
            True,
            False,
            False,
            False,
            ["lots.harvest.lookback", "lots.harvest.donor_ineligible"],
            id="sec2-all-reasons",
        ),
        pytest.param(
            "archived",
            False,
            False,
            False,
            False,
            False,
            ["lots.harvest.donor_status_unknown"],
            id="sec2-unknown-status-refused",
        ),
    ],
)
def test_check_harvest_allowed(status, autologous, lookback, allowed, quarantined, auto_only, ids):
    decision = check_harvest_allowed(status, autologous, lookback)
    assert (decision.allowed, decision.quarantined, decision.autologous_only) == (
        allowed,
        quarantined,
        auto_only,
    )
    assert rule_ids(list(decision.problems)) == ids


# --- storage (§3: tank/rack/box/position) --------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "col", "expected"),
    [
        pytest.param(1, 1, [], id="sec3-first-corner"),
        pytest.param(9, 9, [], id="sec3-last-corner"),
        pytest.param(0, 1, ["lots.storage.outside_box"], id="sec3-row-zero"),
        pytest.param(10, 1, ["lots.storage.outside_box"], id="sec3-row-beyond"),
        pytest.param(1, 10, ["lots.storage.outside_box"], id="sec3-col-beyond"),
        pytest.param(2, 3, ["lots.storage.occupied"], id="sec3-occupied"),
    ],
)
def test_check_position(row, col, expected):
    assert rule_ids(check_position(9, 9, row, col, occupied={(2, 3): "W0000251234560A"})) == expected


def test_check_position_rejects_empty_box_and_ignores_occupancy_when_not_given():
    assert rule_ids(check_position(0, 9, 1, 1)) == ["lots.storage.box_invalid"]
    assert check_position(9, 9, 2, 3) == []


def test_box_grid_places_containers_row_major_one_based():
    grid = box_grid(2, 3, {(1, 1): "A", (2, 3): "B"})
    assert grid == [["A", None, None], [None, None, "B"]]
    with pytest.raises(ValueError):
        box_grid(2, 3, {(3, 1): "C"})


# --- formulation (§3: cannot freeze more cells than harvested at the final passage) ------------


@pytest.mark.parametrize(
    ("kwargs", "bad_fields"),
    [
        pytest.param({}, set(), id="sec3-valid"),
        pytest.param({"available_cells": 1.0e9}, set(), id="sec3-uses-every-cell-exactly"),
        pytest.param({"available_cells": 9.99e8}, {"cells_per_container"}, id="sec3-more-than-harvested"),
        pytest.param({"n_containers": 0}, {"n_containers"}, id="sec3-no-container"),
        pytest.param({"n_containers": 2.5}, {"n_containers"}, id="sec3-fractional-container"),
        pytest.param({"cells_per_container": 0}, {"cells_per_container"}, id="sec3-empty-container"),
        pytest.param({"volume_ml": -1}, {"volume_ml"}, id="sec3-negative-volume"),
        pytest.param({"volume_ml": None}, {"volume_ml"}, id="sec3-volume-required"),
    ],
)
def test_validate_formulation(kwargs, bad_fields):
    entry = {"n_containers": 10, "cells_per_container": 1.0e8, "volume_ml": 50.0, "available_cells": 1.2e9}
    assert set(validate_formulation(**(entry | kwargs))) == bad_fields


def test_formulation_exact_total_is_not_refused_by_float_rounding():
    # Counts entered in millions: 3 × 0.1 is 0.30000000000000004 in floats, the harvest exactly 0.3.
    assert 3 * 0.1 > 0.3
    assert validate_formulation(3, 0.1, 1.0, 0.3) == {}
    assert set(validate_formulation(3, 0.1, 1.0, 0.29)) == {"cells_per_container"}


# --- expiry -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frozen_at", "days", "expected"),
    [
        pytest.param(
            datetime(2025, 1, 31, 14, 0, tzinfo=UTC),
            365,
            datetime(2026, 1, 31, 14, 0, tzinfo=UTC),
            id="sec3-one-year",
        ),
        pytest.param(
            datetime(2024, 2, 28, 9, 30, tzinfo=UTC),
            2,
            datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
            id="sec3-leap-day",
        ),
        pytest.param(
            datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=2))),
            0.5,
            datetime(2025, 6, 1, 20, 0, tzinfo=timezone(timedelta(hours=2))),
            id="sec3-fresh-12h-keeps-zone",
        ),
    ],
)
def test_container_expiry(frozen_at, days, expected):
    result = container_expiry(frozen_at, days)
    assert result == expected and result.tzinfo == expected.tzinfo


@pytest.mark.parametrize("days", [0, -1, math.nan], ids=["zero", "negative", "nan"])
def test_container_expiry_refuses_non_positive_shelf_life(days):
    with pytest.raises(ValueError):
        container_expiry(datetime(2025, 1, 1, tzinfo=UTC), days)


# --- lot steps and workflow tables ----------------------------------------------------------

WORKFLOWS = [
    states.LOT_WORKFLOW,
    states.DEVIATION_WORKFLOW,
    states.CONTAINER_WORKFLOW,
    states.MATERIAL_LOT_WORKFLOW,
    states.PRODUCT_TYPE_WORKFLOW,
]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_lots_transition_needs_a_permission_a_role_holds(workflow):
    from bank.permissions import ALL_PERMISSIONS

    assert {t.permission for t in workflow.transitions} <= ALL_PERMISSIONS


def test_status_sets_are_the_workflows_states_and_keep_their_stored_words():
    assert states.LOT_STATUSES == ("in_process", "awaiting_qc", "released", "rejected", "on_hold")
    assert states.CONTAINER_STATUSES == (
        "formulated",
        "stored",
        "removed",
        "allocated",
        "shipped",
        "administered",
        "destroyed",
    )
    assert states.MATERIAL_STATUSES == ("approved", "quarantined", "rejected")
    assert states.PRODUCT_TYPE_STATUSES == ("active", "retired")
    assert states.DEVIATION_STATUSES == ("open", "closed")


def test_only_deviation_closing_release_rejection_and_hold_lifting_are_signed():
    signed = {
        (w.name, t.source, t.target): t.signature_meaning
        for w in WORKFLOWS
        for t in w.transitions
        if t.signature_meaning
    }
    assert set(signed.values()) == {
        states.RELEASE_MEANING,
        states.REJECT_MEANING,
        states.HOLD_LIFTED_MEANING,
        states.DEVIATION_CLOSED_MEANING,
    }
    assert all(name in ("Lot", "Deviation") for name, _, _ in signed)


def test_rules_and_states_are_pure():
    import subprocess
    import sys

    code = (
        "import sys, lots.rules, lots.states; "
        "print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_lot_ready_for_qc_names_every_missing_step():
    assert check_ready_for_qc([], True, True, False, 2, 4) == []
    problems = check_ready_for_qc(["P2 not verified"], True, False, False, 0, 0)
    assert rule_ids(problems) == [
        "lots.qc.unverified",
        "lots.qc.no_isolation",
        "lots.qc.no_passage",
        "lots.qc.no_container",
    ]
    assert "P2 not verified" in problems[0].message
    assert rule_ids(check_ready_for_qc([], False, False, True, 0, 3)) == []  # a placebo: no culture


def test_verification_is_by_a_second_person_once_and_before_the_lot_is_finished():
    assert check_verification(1, 2, False, "DIN", "in_process") == []
    assert rule_ids(check_verification(1, 1, False, "DIN", "released")) == [
        "lots.verify.four_eyes",
        "lots.verify.lot_finished",
    ]
    assert rule_ids(check_verification(1, 2, True, "DIN", "in_process")) == ["lots.verify.already"]


@pytest.mark.parametrize("status, closed", [("in_process", False), ("awaiting_qc", True), ("on_hold", True)])
def test_bench_entries_only_while_in_process(status, closed):
    assert bool(check_bench_open("DIN", status)) is closed


def test_holds_quarantine_and_lookback():
    assert check_holdable("released") == [] and rule_ids(check_holdable("rejected")) == [
        "lots.hold.not_holdable"
    ]
    assert rule_ids(check_hold_lift(True)) == ["lots.hold.lookback"] and check_hold_lift(False) == []
    assert check_quarantine_lift("DIN", True, "D-1", "eligible", True) == []
    problems = check_quarantine_lift("DIN", True, "D-1", "pending", False)
    assert (
        rule_ids(problems) == ["lots.quarantine.eligibility_unsigned"]
        and "stays quarantined" in problems[0].message
    )
    assert rule_ids(check_quarantine_lift("DIN", False, "", "", False)) == ["lots.quarantine.not_quarantined"]
