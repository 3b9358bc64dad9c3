"""Dose rules and trial protocols, table-driven over the cases of DOMAIN.md §1 and §5."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from doses.reference import MAESTRO_4MS, MESEMS, MSC_AT_SSC, PROTOCOLS
from doses.rules import (
    AllocationRequest,
    ContainerFacts,
    DoseTarget,
    age_years,
    arm_for_dose,
    blinded_treatment_label,
    check_allocation,
    check_dose_set,
    checklist_computed,
    choose_containers,
    dose_endotoxin_eu,
    endotoxin_limit_eu,
    schedule,
    target_dose,
    validate_date_of_birth,
    validate_dose_number,
    validate_edss,
    validate_weight,
)
from doses.rules.protocol import Protocol, Route, ScheduleAnchor

pytestmark = pytest.mark.requirement("DOS-ALLOCATION", "DOS-ENDOTOXIN")

D = Decimal
M = D(1_000_000)
PLANNED = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
DAY0 = date(2025, 1, 6)


def container(**kw: object) -> ContainerFacts:
    """A MESEMS autologous container that passes every check for `request()` (70 kg → 70–140 × 10⁶)."""
    base = dict(
        container_id="C1",
        product_key="BM-MSC-AUTO",
        lot_released=True,
        expires_at=PLANNED + timedelta(days=30),
        total_cells=100 * M,
        volume_ml=D(50),
        endotoxin_eu_per_ml=D("0.1"),
        donor_id="D1",
        autologous=True,
        donor_eligible=True,
    )
    base.update(kw)
    return ContainerFacts(**base)  # type: ignore[arg-type]


def allo(**kw: object) -> ContainerFacts:
    """A MAESTRO-4MS allogeneic container from an eligible donor (fixed dose 45–55 × 10⁶)."""
    base: dict[str, object] = dict(
        product_key="AT-MSC-ALLO",
        total_cells=50 * M,
        donor_id="BANK-1",
        autologous=False,
        volume_ml=D(5),
        endotoxin_eu_per_ml=D("0.5"),
    )
    base.update(kw)
    return container(**base)


def placebo(**kw: object) -> ContainerFacts:
    base: dict[str, object] = dict(
        product_key="PLACEBO-MEDIA", total_cells=D(0), donor_id=None, autologous=False, donor_eligible=False
    )
    base.update(kw)
    return container(**base)


def request(protocol: Protocol = MESEMS, **kw: object) -> AllocationRequest:
    base = dict(
        protocol=protocol,
        subject_id="S1",
        dose_number=1,
        planned_at=PLANNED,
        weight_kg=D(70),
        weight_measured_on=date(2025, 3, 1),
        sequence="MSC-PLACEBO" if protocol is MESEMS else None,
        patient_donor_id="D1" if protocol is MESEMS else None,
        administered={},
    )
    if protocol is MSC_AT_SSC:
        base["sequence"] = "MSC-MSC"
    base.update(kw)
    return AllocationRequest(**base)  # type: ignore[arg-type]


def rule_ids(problems: list) -> set[str]:
    return {p.rule_id for p in problems}


# --- endotoxin (DOMAIN.md §5: limit = K × kg per hour; K 5 IV, 0.2 IT) -------------------------


@pytest.mark.parametrize(
    "k, weight, hours, expected",
    [
        pytest.param("0.2", 70, 1, D("14"), id="§5 example: 70 kg intrathecal -> 14 EU"),
        pytest.param("5", 70, 1, D("350"), id="§5 example: 70 kg IV -> 350 EU"),
        pytest.param("0.2", 70, "0.25", D("14"), id="§5 bolus under 1 h counts as one hour"),
        pytest.param("5", 70, 2, D("700"), id="§5 K is per hour of infusion: 2 h doubles"),
        pytest.param("5", "62.5", 1, D("312.5"), id="§5 fractional weight exact in Decimal"),
    ],
)
def test_endotoxin_limit_eu(k, weight, hours, expected):
    assert endotoxin_limit_eu(D(k), D(str(weight)), D(str(hours))) == expected


@pytest.mark.parametrize(
    "protocol, limit",
    [
        pytest.param(MAESTRO_4MS, D("14"), id="§5 MAESTRO-4MS intrathecal K 0.2"),
        pytest.param(MESEMS, D("350"), id="§5 MESEMS IV K 5"),
        pytest.param(MSC_AT_SSC, D("350"), id="§5 SSc IV K 5"),
    ],
)
def test_protocol_k_gives_domain_limit_for_70_kg(protocol, limit):
    assert endotoxin_limit_eu(protocol.endotoxin_k_eu_per_kg_h, 70, protocol.infusion_hours) == limit


@pytest.mark.parametrize("k, weight, hours", [("-1", 70, 1), ("5", 0, 1), ("5", 70, 0)])
def test_endotoxin_limit_refuses_impossible_input(k, weight, hours):
    with pytest.raises(ValueError):
        endotoxin_limit_eu(D(k), weight, hours)


def test_dose_endotoxin_is_concentration_times_volume():
    assert dose_endotoxin_eu(D("0.28"), D(50)) == D("14")
    with pytest.raises(ValueError):
        dose_endotoxin_eu(D("-0.1"), D(5))


@pytest.mark.parametrize(
    "protocol, make, eu_per_ml, volume, allowed",
    [
        pytest.param(MAESTRO_4MS, allo, "2.8", 5, True, id="§5 IT 70 kg: 14.000 EU exactly at limit allowed"),
        pytest.param(MAESTRO_4MS, allo, "2.8002", 5, False, id="§5 IT 70 kg: 14.001 EU just over refused"),
        pytest.param(MESEMS, container, "7", 50, True, id="§5 IV 70 kg: 350 EU exactly at limit allowed"),
        pytest.param(MESEMS, container, "7.0001", 50, False, id="§5 IV 70 kg: 350.005 EU refused"),
    ],
)
def test_endotoxin_boundary_at_allocation(protocol, make, eu_per_ml, volume, allowed):
    c = make(endotoxin_eu_per_ml=D(eu_per_ml), volume_ml=D(volume))
    problems = check_allocation(request(protocol), c)
    assert (problems == []) is allowed
    if not allowed:
        assert rule_ids(problems) == {"endotoxin.over_limit"}


# --- dose range (§5: cells/kg × current weight, or fixed, within the protocol's range) --------


@pytest.mark.parametrize(
    "protocol, weight, expected",
    [
        pytest.param(MESEMS, 70, DoseTarget(70 * M, 140 * M), id="§1 MESEMS 1-2e6/kg at 70 kg"),
        pytest.param(MESEMS, D("82.5"), DoseTarget(D("82.5") * M, 165 * M), id="§1 MESEMS per kg exact"),
        pytest.param(MAESTRO_4MS, 70, DoseTarget(45 * M, 55 * M), id="§1 MAESTRO fixed dose ignores weight"),
        pytest.param(MAESTRO_4MS, 120, DoseTarget(45 * M, 55 * M), id="§1 MAESTRO fixed dose at 120 kg"),
        pytest.param(MSC_AT_SSC, 80, DoseTarget(72 * M, 88 * M), id="§1 SSc per kg at 80 kg"),
    ],
)
def test_target_dose(protocol, weight, expected):
    assert target_dose(protocol.dose_rule, weight) == expected


@pytest.mark.parametrize(
    "cells, expected",
    [
        pytest.param(70 * M, set(), id="§5 exactly the minimum allowed"),
        pytest.param(70 * M - 1, {"dose.below_min"}, id="§5 one cell under the minimum refused"),
        pytest.param(140 * M, set(), id="§5 exactly the maximum allowed"),
        pytest.param(140 * M + 1, {"dose.above_max"}, id="§5 one cell over the maximum refused"),
    ],
)
def test_dose_range_boundaries(cells, expected):
    assert rule_ids(check_allocation(request(), container(total_cells=cells))) == expected


def test_dose_follows_current_weight():
    # 100e6 is a valid dose at 70 kg (70-140e6) but not at 101 kg (101-202e6).
    assert check_allocation(request(weight_kg=D(70)), container()) == []
    assert rule_ids(check_allocation(request(weight_kg=D(101)), container())) == {"dose.below_min"}


# --- each refusal reason --------------------------------------------------------------------


@pytest.mark.parametrize(
    "req_kw, cont_kw, protocol, expected",
    [
        pytest.param({}, {}, MESEMS, set(), id="§5 baseline: released, unexpired, own donor -> allowed"),
        pytest.param({}, {"lot_released": False}, MESEMS, {"lot.not_released"}, id="§5 lot not released"),
        pytest.param(
            {},
            {"expires_at": PLANNED - timedelta(minutes=1)},
            MESEMS,
            {"container.expired"},
            id="§5 expired at planned administration",
        ),
        pytest.param(
            {}, {"expires_at": PLANNED}, MESEMS, set(), id="§5 expiring at the planned minute allowed"
        ),
        pytest.param({}, {"allocated_to": "S9"}, MESEMS, {"container.allocated"}, id="§5 already allocated"),
        pytest.param({}, {"on_hold": True}, MESEMS, {"container.on_hold"}, id="§5 on hold"),
        pytest.param(
            {}, {"donor_id": "D2"}, MESEMS, {"donor.not_patient"}, id="§5 autologous dose to another patient"
        ),
        pytest.param(
            {"patient_donor_id": None},
            {},
            MESEMS,
            {"donor.not_patient"},
            id="§5 autologous dose to a patient with no donor record",
        ),
        pytest.param(
            {}, {"endotoxin_eu_per_ml": None}, MESEMS, {"endotoxin.no_result"}, id="§5 no endotoxin result"
        ),
        pytest.param(
            {"sequence": "PLACEBO-MSC"},
            {},
            MESEMS,
            {"product.mismatch"},
            id="§5 blinded: MSC container for a placebo dose",
        ),
        pytest.param({}, {"product_key": "AT-MSC-ALLO"}, MAESTRO_4MS, set(), id="§5 allogeneic baseline"),
        pytest.param(
            {},
            {"donor_eligible": False},
            MAESTRO_4MS,
            {"donor.not_eligible"},
            id="§5 allogeneic donor not signed eligible",
        ),
        pytest.param(
            {}, {"donor_look_back": True}, MAESTRO_4MS, {"donor.look_back"}, id="§2 donor under look-back"
        ),
        pytest.param(
            {}, {"product_key": "BM-MSC-AUTO"}, MAESTRO_4MS, {"product.mismatch"}, id="§5 wrong product"
        ),
        pytest.param({"dose_number": 3}, {}, MESEMS, {"dose.beyond_protocol"}, id="§1 MESEMS has 2 doses"),
        pytest.param(
            {"dose_number": 4}, {}, MAESTRO_4MS, {"dose.beyond_protocol"}, id="§1 MAESTRO has 3 doses"
        ),
        pytest.param(
            {"administered": {1: date(2025, 3, 1)}},
            {},
            MESEMS,
            {"dose.already_administered"},
            id="§5 dose already administered",
        ),
        pytest.param(
            {"dose_number": 2},
            {},
            MESEMS,
            {"schedule.previous_missing", "product.mismatch"},
            id="§1 dose 2 before dose 1 (and MSC-PLACEBO dose 2 is placebo)",
        ),
        pytest.param(
            {"weight_measured_on": date(2025, 2, 23)},
            {},
            MESEMS,
            {"weight.stale"},
            id="§5 weight 8 days old refused (limit 7)",
        ),
        pytest.param(
            {"weight_measured_on": date(2025, 2, 24)},
            {},
            MESEMS,
            set(),
            id="§5 weight exactly 7 days old allowed",
        ),
        pytest.param({"weight_kg": D(0)}, {}, MESEMS, {"weight.invalid"}, id="impossible weight"),
        pytest.param(
            {"sequence": None}, {}, MESEMS, {"subject.sequence"}, id="§5 blinded subject w/o sequence"
        ),
        pytest.param(
            {"sequence": "MSC-MSC"},
            {},
            MESEMS,
            {"subject.sequence"},
            id="§1 sequence not in MESEMS crossover",
        ),
    ],
)
def test_each_refusal_reason(req_kw, cont_kw, protocol, expected):
    make = allo if protocol is MAESTRO_4MS else container
    assert rule_ids(check_allocation(request(protocol, **req_kw), make(**cont_kw))) == expected


def test_several_reasons_named_at_once():
    c = container(
        lot_released=False,
        expires_at=PLANNED - timedelta(days=1),
        allocated_to="S2",
        on_hold=True,
        donor_id="D2",
        endotoxin_eu_per_ml=D(8),
    )
    problems = check_allocation(request(weight_measured_on=date(2025, 1, 1)), c)
    assert rule_ids(problems) == {
        "lot.not_released",
        "container.expired",
        "container.allocated",
        "container.on_hold",
        "donor.not_patient",
        "endotoxin.over_limit",
        "weight.stale",
    }
    assert all(p.message and p.evidence for p in problems)


def test_blinded_problems_that_could_unblind_are_marked():
    blinded = check_allocation(request(sequence="PLACEBO-MSC"), container())
    open_label = check_allocation(request(MAESTRO_4MS), allo(product_key="BM-MSC-AUTO"))
    assert [p.reveals_treatment for p in blinded] == [True]
    assert [p.reveals_treatment for p in open_label] == [False]


# --- several containers (§5: sum of cells and of EU across the dose) -------------------------


@pytest.mark.parametrize(
    "cells, eus, expected",
    [
        pytest.param([40 * M, 40 * M], ["0.1", "0.1"], set(), id="§5 two halves reach the dose together"),
        pytest.param([40 * M], ["0.1"], {"dose.below_min"}, id="§5 one half alone is below the dose"),
        pytest.param([80 * M, 70 * M], ["0.1", "0.1"], {"dose.above_max"}, id="§5 sum over the maximum"),
        pytest.param(
            [40 * M, 40 * M],
            ["4", "4"],
            {"endotoxin.over_limit"},
            id="§5 200 + 200 EU over 350 although each is under",
        ),
    ],
)
def test_dose_set_sums_cells_and_endotoxin(cells, eus, expected):
    cs = [
        container(container_id=f"C{i}", total_cells=n, endotoxin_eu_per_ml=D(e))
        for i, (n, e) in enumerate(zip(cells, eus, strict=True))
    ]
    assert rule_ids(check_dose_set(request(), cs)) == expected


def test_dose_set_refuses_duplicate_and_empty():
    assert rule_ids(check_dose_set(request(), [container(total_cells=40 * M)] * 2)) == {"selection.duplicate"}
    assert rule_ids(check_dose_set(request(), [])) == {"selection.empty"}


# --- first-expiry-first-out choice ------------------------------------------------------------


def days(n: int) -> datetime:
    return PLANNED + timedelta(days=n)


@pytest.mark.parametrize(
    "candidates, chosen",
    [
        pytest.param(
            [("A", 10, 100), ("B", 5, 100), ("C", 7, 100)], ["B"], id="§5 FEFO: earliest expiry first"
        ),
        pytest.param([("A", 5, 40), ("B", 6, 100)], ["B"], id="§5 fewest containers beat an earlier expiry"),
        pytest.param(
            [("A", 7, 40), ("B", 5, 40), ("C", 6, 40)], ["B", "C"], id="§5 two needed: two earliest"
        ),
        pytest.param(
            [("A", 5, 200), ("B", 6, 40), ("C", 7, 40)], ["B", "C"], id="§5 over-max container skipped"
        ),
        pytest.param(
            [("A", 5, 60), ("B", 6, 90), ("C", 7, 30)], ["B"], id="§5 single fit preferred to a pair"
        ),
    ],
)
def test_choose_containers_fefo_fewest(candidates, chosen):
    cs = [container(container_id=i, expires_at=days(d), total_cells=n * M) for i, d, n in candidates]
    sel = choose_containers(request(), cs)
    assert [c.container_id for c in sel.containers] == chosen
    assert sel.problems == ()


def test_choose_pair_must_stay_under_max():
    # SSc 0.9-1.1e6/kg at 70 kg = 63-77e6: no container fits alone, A+B = 80e6 is over, A+C = 70e6 fits.
    cs = [
        allo(container_id=i, expires_at=days(d), total_cells=n * M)
        for i, d, n in [("A", 1, 40), ("B", 2, 40), ("C", 3, 30)]
    ]
    assert [c.container_id for c in choose_containers(request(MSC_AT_SSC), cs).containers] == ["A", "C"]


def test_choose_skips_ineligible_and_says_why():
    cs = [
        container(container_id="HELD", expires_at=days(1), on_hold=True),
        container(container_id="OLD", expires_at=PLANNED - timedelta(hours=1)),
        container(container_id="OK", expires_at=days(9)),
    ]
    sel = choose_containers(request(), cs)
    assert [c.container_id for c in sel.containers] == ["OK"]
    assert {k: rule_ids(list(v)) for k, v in sel.rejected.items()} == {
        "HELD": {"container.on_hold"},
        "OLD": {"container.expired"},
    }


def test_choose_respects_summed_endotoxin():
    # A+B would reach the dose first in FEFO order but carry 400 EU > 350; A+C carries 300 EU.
    cs = [
        container(container_id="A", expires_at=days(1), total_cells=40 * M, endotoxin_eu_per_ml=D(4)),
        container(container_id="B", expires_at=days(2), total_cells=40 * M, endotoxin_eu_per_ml=D(4)),
        container(container_id="C", expires_at=days(3), total_cells=40 * M, endotoxin_eu_per_ml=D(2)),
    ]
    assert [c.container_id for c in choose_containers(request(), cs).containers] == ["A", "C"]


def test_choose_reports_when_nothing_fits():
    # 200e6 is over the 140e6 maximum, 10e6 under the minimum, and together still over.
    sel = choose_containers(
        request(), [container(total_cells=200 * M), container(container_id="C2", total_cells=10 * M)]
    )
    assert sel.containers == ()
    assert rule_ids(list(sel.problems)) == {"selection.none_fit"}


def test_choose_placebo_dose_takes_one_placebo_container():
    cs = [
        container(container_id="MSC", expires_at=days(1)),
        placebo(container_id="P2", expires_at=days(4)),
        placebo(container_id="P1", expires_at=days(3)),
    ]
    sel = choose_containers(request(sequence="PLACEBO-MSC"), cs)
    assert [c.container_id for c in sel.containers] == ["P1"]
    assert rule_ids(list(sel.rejected["MSC"])) == {"product.mismatch"}


def test_choose_stops_at_search_budget():
    cs = [container(container_id=f"C{i:02}", total_cells=40 * M, expires_at=days(i)) for i in range(40)]
    sel = choose_containers(request(), cs, search_budget=10)
    assert sel.containers == ()
    assert rule_ids(list(sel.problems)) == {"selection.search_limit"}


def test_choose_carries_request_problems():
    sel = choose_containers(request(dose_number=3), [container()])
    assert sel.containers == () and rule_ids(list(sel.problems)) == {"dose.beyond_protocol"}


# --- schedule windows (§1: MESEMS week 0/24; MAESTRO every 3 months; SSc 2 infusions) ---------


def windows(protocol: Protocol, administered: dict[int, date] | None = None) -> list[tuple]:
    return [
        (s.number, s.due, s.window_start, s.window_end) for s in schedule(protocol, DAY0, administered or {})
    ]


@pytest.mark.parametrize(
    "protocol, expected",
    [
        pytest.param(
            MESEMS,
            [(1, DAY0, DAY0, DAY0), (2, date(2025, 6, 23), date(2025, 6, 9), date(2025, 7, 7))],
            id="§1 MESEMS week 0 and week 24 ±14 d",
        ),
        pytest.param(
            MAESTRO_4MS,
            [
                (1, DAY0, DAY0, DAY0),
                (2, date(2025, 4, 7), date(2025, 3, 31), date(2025, 4, 14)),
                (3, date(2025, 7, 7), date(2025, 6, 30), date(2025, 7, 14)),
            ],
            id="§1 MAESTRO-4MS 3 injections every 3 months ±7 d",
        ),
        pytest.param(
            MSC_AT_SSC,
            [(1, DAY0, DAY0, DAY0), (2, date(2025, 4, 7), date(2025, 3, 31), date(2025, 4, 14))],
            id="§1 SSc two infusions ±7 d",
        ),
    ],
)
def test_schedule_windows(protocol, expected):
    assert windows(protocol) == expected


def test_schedule_anchors_on_actual_first_dose_and_does_not_drift():
    late_first = windows(MESEMS, {1: DAY0 + timedelta(days=4)})
    assert late_first[1][1] == DAY0 + timedelta(days=4 + 168)
    late_second = windows(MAESTRO_4MS, {1: DAY0, 2: DAY0 + timedelta(days=98)})
    assert late_second[2][1] == DAY0 + timedelta(days=182)
    by_previous = dataclasses.replace(MAESTRO_4MS, schedule_anchor=ScheduleAnchor.PREVIOUS_DOSE)
    assert windows(by_previous, {1: DAY0, 2: DAY0 + timedelta(days=98)})[2][1] == DAY0 + timedelta(days=189)


@pytest.mark.parametrize(
    "offset, expected",
    [
        pytest.param(168 - 14, set(), id="§1 MESEMS week 24 first day of window"),
        pytest.param(168 + 14, set(), id="§1 MESEMS week 24 last day of window"),
        pytest.param(168 - 15, {"schedule.outside_window"}, id="§1 MESEMS one day early"),
        pytest.param(168 + 15, {"schedule.outside_window"}, id="§1 MESEMS one day late"),
    ],
)
def test_allocation_checks_window_from_administered_dose(offset, expected):
    planned = datetime.combine(DAY0 + timedelta(days=offset), datetime.min.time(), UTC) + timedelta(hours=9)
    req = request(
        dose_number=2,
        sequence="PLACEBO-MSC",
        administered={1: DAY0},
        planned_at=planned,
        weight_measured_on=planned.date(),
    )
    c = container(expires_at=planned + timedelta(days=1))
    assert rule_ids(check_allocation(req, c)) == expected


# --- crossover and blinding (§1 MESEMS crossover; §5 blinded labels) ------------------------


@pytest.mark.parametrize(
    "sequence, dose, arm",
    [
        pytest.param("MSC-PLACEBO", 1, "active", id="§1 MSC-PLACEBO week 0 active"),
        pytest.param("MSC-PLACEBO", 2, "placebo", id="§1 MSC-PLACEBO week 24 placebo"),
        pytest.param("PLACEBO-MSC", 1, "placebo", id="§1 PLACEBO-MSC week 0 placebo"),
        pytest.param("PLACEBO-MSC", 2, "active", id="§1 PLACEBO-MSC week 24 active"),
        pytest.param("MSC-MSC-MSC", 3, "active", id="§1 MAESTRO open label"),
    ],
)
def test_arm_for_dose(sequence, dose, arm):
    assert arm_for_dose(sequence, dose) == arm


@pytest.mark.parametrize("sequence, dose", [("MSC-PLACEBO", 3), ("MSC-PLACEBO", 0), ("MSC-SALINE", 2)])
def test_arm_for_dose_refuses_unknown(sequence, dose):
    with pytest.raises(ValueError):
        arm_for_dose(sequence, dose)


def test_mesems_crossover_reverses_treatment_at_week_24():
    for seq in MESEMS.sequences:
        assert {arm_for_dose(seq, 1), arm_for_dose(seq, 2)} == {"active", "placebo"}
    assert {arm_for_dose(seq, 1) for seq in MESEMS.sequences} == {"active", "placebo"}


@pytest.mark.parametrize(
    "protocol", [pytest.param(MESEMS, id="§5 MESEMS"), pytest.param(MSC_AT_SSC, id="§5 SSc")]
)
def test_blinded_label_identical_across_arms(protocol):
    masked = {
        blinded_treatment_label(protocol, seq, n, unblinded=False)
        for seq in protocol.sequences
        for n in range(1, protocol.number_of_doses + 1)
    }
    masked |= {blinded_treatment_label(protocol, arm, 1, unblinded=False) for arm in ("active", "placebo")}
    assert (
        masked
        == {protocol.blinded_product.name}
        == {f"{protocol.code} investigational product (MSC or placebo)"}
    )


@pytest.mark.parametrize(
    "protocol, arm_or_seq, dose, unblinded, label",
    [
        pytest.param(MESEMS, "MSC-PLACEBO", 1, True, "MSC", id="§5 unblinded sees MSC"),
        pytest.param(MESEMS, "MSC-PLACEBO", 2, True, "Placebo", id="§5 unblinded sees Placebo"),
        pytest.param(MESEMS, "placebo", 1, True, "Placebo", id="§5 arm given directly"),
        pytest.param(MAESTRO_4MS, "MSC-MSC-MSC", 2, False, "MSC", id="§1 open label shows MSC to all"),
    ],
)
def test_unblinded_label(protocol, arm_or_seq, dose, unblinded, label):
    assert blinded_treatment_label(protocol, arm_or_seq, dose, unblinded) == label


def test_crossover_allocation_follows_arm_per_dose():
    req2 = dict(
        dose_number=2,
        administered={1: DAY0},
        weight_measured_on=date(2025, 6, 22),
        planned_at=datetime(2025, 6, 23, 9, tzinfo=UTC),
    )
    late = dict(expires_at=datetime(2025, 7, 1, tzinfo=UTC))
    assert check_allocation(request(sequence="PLACEBO-MSC"), placebo()) == []
    assert check_allocation(request(sequence="PLACEBO-MSC", **req2), container(**late)) == []
    assert rule_ids(check_allocation(request(sequence="MSC-PLACEBO", **req2), container(**late))) == {
        "product.mismatch"
    }


# --- enrolment checklist (§1: age, EDSS, disease duration from the trial records) -------------

EVAL = date(2025, 6, 15)


def met(protocol: Protocol, item_id: str, **kw: object) -> bool | None:
    args = dict(dob=date(1990, 1, 1), evaluation_date=EVAL, edss=D("4.0"), diagnosis_date=date(2020, 1, 1))
    args.update(kw)
    items = {i.id: i for i in checklist_computed(protocol, **args)}  # type: ignore[arg-type]
    return items[item_id].met


@pytest.mark.parametrize(
    "protocol, item, kw, expected",
    [
        pytest.param(MESEMS, "MESEMS-I01", {"dob": date(2007, 6, 15)}, True, id="§1 MESEMS 18th birthday"),
        pytest.param(MESEMS, "MESEMS-I01", {"dob": date(2007, 6, 16)}, False, id="§1 MESEMS day before 18"),
        pytest.param(MESEMS, "MESEMS-I01", {"dob": date(1974, 6, 16)}, True, id="§1 MESEMS day before 51st"),
        pytest.param(MESEMS, "MESEMS-I01", {"dob": date(1974, 6, 15)}, False, id="§1 MESEMS 51 refused"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": D("3.0")}, True, id="§1 MESEMS EDSS 3.0 lower bound"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": D("2.5")}, False, id="§1 MESEMS EDSS 2.5 refused"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": D("6.5")}, True, id="§1 MESEMS EDSS 6.5 upper bound"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": D("7.0")}, False, id="§1 MESEMS EDSS 7.0 refused"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": None}, None, id="EDSS not recorded -> unknown"),
        pytest.param(MESEMS, "MESEMS-I03", {"edss": D("3.3")}, None, id="EDSS not in 0.5 steps -> unknown"),
        pytest.param(MESEMS, "MESEMS-I02", {"diagnosis_date": date(2023, 6, 15)}, True, id="§1 duration 2 y"),
        pytest.param(
            MESEMS, "MESEMS-I02", {"diagnosis_date": date(2023, 6, 16)}, False, id="§1 duration < 2 y"
        ),
        pytest.param(
            MESEMS,
            "MESEMS-I02",
            {"diagnosis_date": date(2014, 6, 16)},
            True,
            id="§1 duration 10 y (included)",
        ),
        pytest.param(
            MESEMS, "MESEMS-I02", {"diagnosis_date": date(2014, 6, 15)}, False, id="§1 duration 11 y"
        ),
        pytest.param(MESEMS, "MESEMS-I02", {"diagnosis_date": None}, None, id="no diagnosis date -> unknown"),
        pytest.param(MAESTRO_4MS, "MAESTRO-I02", {"dob": date(1969, 6, 16)}, True, id="§1 MAESTRO age 55"),
        pytest.param(MAESTRO_4MS, "MAESTRO-I02", {"dob": date(1969, 6, 15)}, False, id="§1 MAESTRO age 56"),
        pytest.param(MAESTRO_4MS, "MAESTRO-I03", {"edss": D("6")}, True, id="§1 MAESTRO EDSS 6"),
        pytest.param(MAESTRO_4MS, "MAESTRO-I03", {"edss": D("6.5")}, False, id="§1 MAESTRO EDSS 6.5 refused"),
        pytest.param(MSC_AT_SSC, "SSC-I01", {"dob": date(1935, 1, 1)}, True, id="§1 SSc adult, no upper age"),
        pytest.param(MSC_AT_SSC, "SSC-I01", {"dob": date(2008, 1, 1)}, False, id="§1 SSc minor refused"),
    ],
)
def test_checklist_computed(protocol, item, kw, expected):
    assert met(protocol, item, **kw) is expected


def test_checklist_returns_only_computed_items_with_evidence():
    items = checklist_computed(MESEMS, date(1990, 1, 1), EVAL, D("4.0"), date(2020, 1, 1))
    assert [i.id for i in items] == ["MESEMS-I01", "MESEMS-I02", "MESEMS-I03"]
    assert items[0].evidence.startswith("age (years) 35 on 2025-06-15")
    assert [i.id for i in checklist_computed(MAESTRO_4MS, None, EVAL, None, None)] == [
        "MAESTRO-I02",
        "MAESTRO-I03",
    ]


@pytest.mark.parametrize(
    "dob, on, years",
    [
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
        (date(2000, 2, 29), date(2020, 2, 29), 20),
        (date(1990, 12, 31), date(1991, 12, 30), 0),
    ],
)
def test_age_years_completed(dob, on, years):
    assert age_years(dob, on) == years


# --- impossible input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weight, ok",
    [
        (D(0), False),
        (D(-1), False),
        (D("400.01"), False),
        ("abc", False),
        (D("NaN"), False),
        (None, False),
        (D(400), True),
        (D("0.5"), True),
        (70, True),
    ],
)
def test_validate_weight(weight, ok):
    assert (validate_weight(weight) == {}) is ok
    if not ok:
        assert set(validate_weight(weight)) == {"weight_kg"}


def test_validate_date_of_birth():
    assert validate_date_of_birth(date(2025, 6, 16), EVAL) == {
        "date_of_birth": "Date of birth is in the future."
    }
    assert validate_date_of_birth(EVAL, EVAL) == {}


@pytest.mark.parametrize(
    "protocol, n, ok",
    [
        (MESEMS, 0, False),
        (MESEMS, 3, False),
        (MESEMS, 2, True),
        (MAESTRO_4MS, 3, True),
        (MESEMS, True, False),
    ],
)
def test_validate_dose_number(protocol, n, ok):
    assert (validate_dose_number(protocol, n) == {}) is ok


@pytest.mark.parametrize(
    "edss, ok",
    [
        (D("-0.5"), False),
        (D("10.5"), False),
        (D("3.3"), False),
        ("x", False),
        (D(0), True),
        (D(10), True),
        (D("6.5"), True),
        ("4.5", True),
    ],
)
def test_validate_edss(edss, ok):
    assert (validate_edss(edss) == {}) is ok


# --- the protocols as data (§1) ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", list(PROTOCOLS.values()), ids=list(PROTOCOLS))
def test_protocol_round_trips_through_json(protocol):
    assert Protocol.from_dict(json.loads(json.dumps(protocol.to_dict()))) == protocol


@pytest.mark.parametrize(
    "code, product, route, origin, blinded, doses, sequences",
    [
        pytest.param(
            "MESEMS",
            "BM-MSC-AUTO",
            Route.IV,
            "autologous",
            True,
            2,
            ("MSC-PLACEBO", "PLACEBO-MSC"),
            id="§1 MESEMS autologous IV crossover vs placebo",
        ),
        pytest.param(
            "MAESTRO-4MS",
            "AT-MSC-ALLO",
            Route.IT,
            "allogeneic",
            False,
            3,
            ("MSC-MSC-MSC",),
            id="§1 MAESTRO-4MS allogeneic intrathecal open",
        ),
        pytest.param(
            "MSC-AT-SSc",
            "AT-MSC-ALLO",
            Route.IV,
            "allogeneic",
            True,
            2,
            ("MSC-MSC", "MSC-PLACEBO", "PLACEBO-PLACEBO"),
            id="§1 SSc 1 or 2 infusions vs placebo",
        ),
    ],
)
def test_seed_protocol_facts(code, product, route, origin, blinded, doses, sequences):
    p = PROTOCOLS[code]
    assert (p.product_key, p.route, p.origin.value, p.blinded, p.number_of_doses, p.sequences) == (
        product,
        route,
        origin,
        blinded,
        doses,
        sequences,
    )
    assert p.placebo_product_key == ("PLACEBO-MEDIA" if blinded else None)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"placebo_product_key": None}, id="blinded protocol without placebo product"),
        pytest.param({"sequences": ("MSC-PLACEBO-MSC",)}, id="sequence length differs from dose count"),
        pytest.param({"sequences": ("MSC-SALINE",)}, id="unknown treatment token"),
    ],
)
def test_protocol_invariants(change):
    with pytest.raises(ValueError):
        dataclasses.replace(MESEMS, **change)


def test_a_blinded_seed_version_stored_before_blinded_identities_reads_with_its_seeds_identity():
    """Issue 16: MESEMS v1 rows stored before protocols named one product for both arms still load, with
    the identity of that same seed version (doses.reference.stored_protocol, which ProtocolVersion reads
    with); a blinded protocol that is not that seed version gets none and is refused."""
    from doses.reference import stored_protocol

    stored = MESEMS.to_dict()
    stored.pop("blinded_product")
    assert stored_protocol(json.dumps(stored)).blinded_product == MESEMS.blinded_product
    assert stored_protocol(json.dumps(stored)) == MESEMS
    for other in ({"code": "OTHER-TRIAL"}, {"version": "2"}):
        with pytest.raises(ValueError):
            stored_protocol(json.dumps({**stored, **other}))
    with pytest.raises(ValueError):  # the definition type alone guesses no identity
        Protocol.from_dict(stored)


def test_an_administration_before_the_lots_release_is_refused():
    """Issue 18: a dose administered 60 days before its lot was released is impossible."""
    from datetime import UTC, datetime, timedelta

    from doses.rules import administration_errors

    released = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    now = released + timedelta(days=90)
    skew = timedelta(minutes=5)
    assert "administered_at" in administration_errors(released - timedelta(days=60), now, skew, released)
    assert administration_errors(released + timedelta(hours=2), now, skew, released) == {}
