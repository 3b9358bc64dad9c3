"""Lot services on a real database: harvest refusals, PD arithmetic, limits, four-eyes verification,
materials, formulation and storage (also concurrent), look-back holds, deviations, genealogy."""

from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from bank.clock import utcnow
from bank.db import make_session_factory
from bank.esign import SignatureError
from bank.isbt128 import check_character, validate_din
from bank.models import StatusChange
from bank.refusals import Refused
from bank.status import TransitionRefused, status_history
from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services as donor_services
from lots import services
from lots.models import Container, Lot, Passage, ProductType
from tests.factories import lots as f
from tests.support import PASSWORD, run_together

pytestmark = pytest.mark.requirement("LOT-STEPS", "LOT-MATERIALS", "LOT-STORAGE", "DON-LOOKBACK")


def said(refused: Refused, field: str) -> str:
    """Everything a refusal says about one form field: its input error and the rule problems placed there."""
    return " ".join(
        [refused.errors.get(field, ""), *(p.message for p in refused.problems if p.field == field)]
    )


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def formulate(session, tech, lot, n=20, cells=1.0e6, volume=2.0, container_type="vial"):
    return f.formulate(session, tech, lot, n, container_type, cells, volume, reason=None)


def test_seed_is_idempotent_and_products_carry_their_limits(session):
    f.product(session, "AT-MSC-ALLO")
    before = count(session, ProductType)
    f.product(session, "BM-MSC-AUTO")
    assert count(session, ProductType) == before
    keys = {p.key: p for p in services.active_product_types(session)}
    assert {"BM-MSC-AUTO", "AT-MSC-ALLO", "PLACEBO-MEDIA"} <= set(keys)
    assert keys["BM-MSC-AUTO"].origin == "autologous" and keys["BM-MSC-AUTO"].source == "bone_marrow"
    assert keys["PLACEBO-MEDIA"].origin == "placebo" and keys["AT-MSC-ALLO"].isbt_code.startswith("S")


def test_harvest_of_signed_eligible_donor_opens_a_lot_with_a_din_and_check_character(session, tech, qa):
    d = f.signed_donor(session, tech, qa)
    lot = f.harvest(session, tech, d)
    assert validate_din(lot.din) == lot.din and lot.din.startswith("G1234")
    assert lot.check_char == check_character(lot.din)
    assert lot.status == "in_process" and not lot.quarantined and not lot.autologous_only
    history = session.scalars(
        select(StatusChange).where(StatusChange.entity == "lots", StatusChange.entity_id == str(lot.id))
    ).all()
    assert [(h.from_status, h.to_status) for h in history] == [(None, "in_process")]
    assert services.harvest_of(session, lot).mass_g == 52.0
    other = f.harvest(session, tech, d)
    assert other.din != lot.din


def test_din_is_unique_in_the_database(session, tech, qa):
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    with pytest.raises(IntegrityError):
        with unit_of_work(session, actor_for(tech)):
            session.add(
                Lot(
                    din=lot.din,
                    check_char=lot.check_char,
                    product_type_id=lot.product_type_id,
                    donor_id=lot.donor_id,
                    tier="master",
                    status="in_process",
                )
            )
            session.flush()


def test_harvest_refused_for_an_ineligible_donor_and_nothing_is_written(session, tech, qa):
    d = f.signed_donor(session, tech, qa, "ineligible", weight_kg=45.0)
    before = count(session, Lot)
    with pytest.raises(Refused) as refused:
        f.harvest(session, tech, d)
    assert "determined ineligible" in said(refused.value, "donor_id") and refused.value.status == 409
    assert count(session, Lot) == before


def test_harvest_refused_for_a_donor_under_lookback(session, tech, qa):
    d = f.signed_donor(session, tech, qa)
    with unit_of_work(session, actor_for(qa)):
        donor_services.start_lookback(session, d, "late HEV positive")
    with pytest.raises(Refused, match="look-back"):
        f.harvest(session, tech, d)


def test_donor_under_determination_gives_a_quarantined_lot(session, tech, qa):
    d = f.donor(session, tech)
    lot = f.harvest(session, tech, d)
    assert lot.quarantined
    with pytest.raises(Refused, match="stays quarantined"):
        with unit_of_work(session, actor_for(qa)):
            services.lift_quarantine(session, lot)


def test_autologous_donor_gives_an_autologous_only_bm_lot_and_no_allogeneic_product(session, tech):
    d = f.donor(session, tech, autologous=True)
    lot = f.harvest(session, tech, d, key="BM-MSC-AUTO", mass_g=None, volume_ml=60.0)
    assert lot.autologous_only and not lot.quarantined
    with pytest.raises(Refused) as refused:
        f.harvest(session, tech, d, key="AT-MSC-ALLO")
    assert "allogeneic" in said(refused.value, "product_type_id")


def test_harvest_of_impossible_input_names_every_field(session, tech, qa):
    d = f.signed_donor(session, tech, qa)
    with pytest.raises(Refused) as refused:
        f.harvest(
            session,
            tech,
            d,
            tissue="bone_marrow_aspirate",
            mass_g=-3.0,
            site=" ",
            collected_at=utcnow() + timedelta(days=2),
        )
    assert set(refused.value.errors) >= {"tissue", "mass_g", "site", "collected_at"}


def test_pd_and_cumulative_pd_match_hand_computed_values(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)  # P0: 1e6 → 1.6e7 (4 PD), P1: 2e6 → 3.2e7 (4 PD)
    p2 = f.passage(session, tech, tech2, lot, 1.0e6, 3.0e6)
    assert p2.number == 2 and p2.population_doublings == pytest.approx(math.log2(3), abs=1e-12)  # 1.58496
    assert services.cumulative_pd(session, lot) == pytest.approx(8 + 1.5849625007, abs=1e-9)
    p3 = f.passage(session, tech, None, lot, 5.0e5, 4.0e6)  # 3 PD, not verified: does not count yet
    assert p3.population_doublings == pytest.approx(3.0)
    assert services.cumulative_pd(session, lot) == pytest.approx(9.5849625007, abs=1e-9)
    lines = services.passage_lines(session, lot)
    assert [line.cumulative_pd for line in lines][-1] is None
    with unit_of_work(session, actor_for(tech2)):
        services.verify_entry(session, p3)
    assert services.cumulative_pd(session, lot) == pytest.approx(12.5849625007, abs=1e-9)


def test_passage_beyond_the_maximum_passage_is_refused(session, tech, tech2, qa):
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    f.isolate(session, tech, tech2, lot)
    for _ in range(7):  # P0…P6, 1 PD each: AT-MSC-ALLO v1 allows up to P6
        f.passage(session, tech, tech2, lot, 1.0e6, 2.0e6)
    before = count(session, Passage)
    with pytest.raises(Refused, match="P7 is beyond the validated maximum P6"):
        f.passage(session, tech, tech2, lot, 1.0e6, 2.0e6)
    assert count(session, Passage) == before


def test_passage_beyond_the_maximum_cumulative_pd_is_refused_even_if_earlier_ones_are_unverified(
    session, tech, tech2, qa
):
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    f.isolate(session, tech, tech2, lot)
    f.passage(session, tech, None, lot, 1.0e6, 2.0**14 * 1.0e6)  # 14 PD, unverified
    f.passage(session, tech, tech2, lot, 1.0e6, 2.0**14 * 1.0e6)  # 28 PD
    with pytest.raises(
        Refused, match=r"Cumulative population doublings 31.00 exceed the validated maximum 30"
    ):
        f.passage(session, tech, tech2, lot, 1.0e6, 8.0e6)


@pytest.mark.parametrize(
    "seeded, harvested, viability, field, message",
    [
        (-1.0e6, 2.0e6, 90.0, "seeded_cells", "cannot be negative"),
        (0.0, 2.0e6, 90.0, "harvested_cells", "seeded with none"),
        (1.0e6, 2.0e6, 101.0, "viability_pct", "between 0 and 100"),
    ],
)
def test_impossible_passage_is_refused_next_to_the_field_and_changes_nothing(
    session, tech, tech2, qa, seeded, harvested, viability, field, message
):
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    f.isolate(session, tech, tech2, lot)
    before = count(session, Passage)
    with pytest.raises(Refused) as refused:
        f.passage(session, tech, None, lot, seeded, harvested, viability=viability)
    assert message in refused.value.errors[field]
    assert count(session, Passage) == before


def test_unverified_critical_entry_blocks_qc_formulation_and_self_verification(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    p = f.passage(session, tech, None, lot, 1.0e6, 4.0e6)
    with pytest.raises(Refused, match="P2 is not verified"):
        formulate(session, tech, lot)
    with pytest.raises(Refused, match="a second person must verify"):
        with unit_of_work(session, actor_for(tech)):
            services.verify_entry(session, p)
    with pytest.raises(TransitionRefused) as refused:
        with unit_of_work(session, actor_for(tech)):
            services.submit_for_qc(session, lot)
    assert any("P2 not verified" in problem.message for problem in refused.value.problems)
    assert lot.status == "in_process"


def test_expired_or_rejected_material_lot_is_refused(session, tech, tech2, qa):
    lot = f.harvest(session, tech, f.signed_donor(session, tech, qa))
    f.isolate(session, tech, tech2, lot)
    expired = f.material_lot(session, tech, expiry=f.HARVEST_DAY - timedelta(days=1))
    rejected = f.material_lot(session, tech, status="rejected")
    with pytest.raises(Refused) as refused:
        f.passage(session, tech, None, lot, 1.0e6, 2.0e6, materials=[expired.id, rejected.id])
    message = said(refused.value, "material_lot_ids")
    assert f"expired on {expired.expiry}" in message and "is rejected, not approved" in message
    good = f.material_lot(session, tech, animal=True)
    f.passage(session, tech, None, lot, 1.0e6, 2.0e6, materials=[good.id])
    assert [u.material_lot_id for u in services.material_uses(session, lot)] == [good.id]


def test_twenty_containers_formulated_and_stored_in_a_box_grid(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    made = formulate(session, tech, lot)
    assert [c.division for c in made][:3] == ["A0", "B0", "C0"] and made[-1].division == "T0"
    assert made[0].product_code == "S0002VA0" and made[0].identifier == f"{lot.din} S0002VA0"
    assert made[0].expires_at == made[0].frozen_at + timedelta(days=365)
    with pytest.raises(Refused, match="more than the"):  # 3.2e7 harvested, 2e7 used
        formulate(session, tech, lot, n=20)
    b = f.box(session, tech, rows=5, cols=5)
    with unit_of_work(session, actor_for(tech)):
        assert services.store_lot_containers(session, lot, b, 1, 1) == 20
    taken = services.occupancy(session, b)
    assert len(taken) == 20 and (4, 5) in taken and (5, 1) not in taken
    assert all(c.status == "stored" for c in made)


def test_two_containers_in_one_position_are_refused_by_the_service_and_the_database(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    first, second = formulate(session, tech, lot, n=2)
    b = f.box(session, tech, rows=3, cols=3)
    with unit_of_work(session, actor_for(tech)):
        services.store_container(session, first, b, 2, 2)
    with pytest.raises(Refused, match="already holds"):
        with unit_of_work(session, actor_for(tech)):
            services.store_container(session, second, b, 2, 2)
    with pytest.raises(Refused, match="outside the 3 × 3 box") as refused:
        with unit_of_work(session, actor_for(tech)):
            services.store_container(session, second, b, 2, 4)
    assert "col" in refused.value.errors
    with pytest.raises(IntegrityError):
        with unit_of_work(session, actor_for(tech)):
            second.box_id, second.position_row, second.position_col = b.id, 2, 2
            session.flush()
    session.refresh(second)
    assert second.box_id is None and second.status == "formulated"


def test_two_concurrent_requests_for_one_position_store_exactly_one_container(
    engine, session, tech, tech2, qa
):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    ids = [c.id for c in formulate(session, tech, lot, n=2)]
    box_id = f.box(session, tech, rows=2, cols=2).id
    factory, barrier = make_session_factory(engine), threading.Barrier(2)

    def store(container_id):
        s = factory()
        try:
            from lots.models import StorageBox

            container, target = s.get(Container, container_id), s.get(StorageBox, box_id)
            s.rollback()  # release the read transaction so both writers start together
            barrier.wait()
            with unit_of_work(s, actor_for(tech)):
                services.store_container(s, container, target, 1, 1)
            return "stored"
        except Refused as e:
            return " ".join(e.messages())
        finally:
            s.close()

    outcomes = run_together(store, ids, timeout=60)
    assert sorted(outcomes, key=len)[0] == "stored" and len(outcomes) == 2
    assert "row 1, column 1" in sorted(outcomes, key=len)[1]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Container).where(Container.box_id == box_id)) == 1


def test_moves_are_append_only_storage_events(engine, session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    (c,) = formulate(session, tech, lot, n=1)
    b = f.box(session, tech)
    with unit_of_work(session, actor_for(tech)):
        services.store_container(session, c, b, 1, 1)
    with unit_of_work(session, actor_for(tech), "reorganised"):
        services.store_container(session, c, b, 3, 3, "reorganised")
    with unit_of_work(session, actor_for(tech)):
        services.remove_container(session, c, "thawed for QC sample")
    events = services.storage_events(session, c)
    assert [e.action for e in events] == ["stored", "moved", "removed"]
    assert (events[1].from_row, events[1].position_row) == (1, 3) and c.status == "removed"
    with engine.connect() as conn:
        with pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text("UPDATE storage_events SET reason = 'x'"))
        conn.rollback()


def test_donor_lookback_holds_every_lot_and_container_of_the_donor(session, tech, tech2, qa):
    d = f.signed_donor(session, tech, qa)
    master = f.grown_lot(session, tech, tech2, d=d)
    formulate(session, tech, master, n=3)
    with unit_of_work(session, actor_for(tech)):
        working = services.derive_lot(session, master, fin=f.FIN, tier="working")
    unrelated = f.grown_lot(session, tech, tech2, qa=qa)
    with unit_of_work(session, actor_for(tech), "late positive"):  # a technician enters the result
        donor_services.start_lookback(session, d, "HEV RNA positive on archived sample")
    assert master.status == working.status == "on_hold" and master.held_from == "in_process"
    assert all(c.on_hold and "look-back" in c.hold_reason for c in services.containers_of(session, master))
    assert unrelated.status == "in_process"
    with pytest.raises(TransitionRefused, match="under look-back"):
        with unit_of_work(session, actor_for(qa)):
            services.lift_hold(session, master, qa, PASSWORD, "investigated")


def test_hold_and_lift_with_signature_return_the_lot_to_where_it_was(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    with pytest.raises(TransitionRefused, match="lot.hold"):
        with unit_of_work(session, actor_for(tech)):
            services.hold_lot(session, lot, "temperature excursion in incubator")
    assert lot.status == "in_process" and lot.held_from is None
    with unit_of_work(session, actor_for(qa)):
        services.hold_lot(session, lot, "temperature excursion in incubator")
    with pytest.raises(SignatureError):
        with unit_of_work(session, actor_for(qa)):
            services.lift_hold(session, lot, qa, "wrong", "investigated")
    session.refresh(lot)
    assert lot.status == "on_hold"
    with unit_of_work(session, actor_for(qa)):
        services.lift_hold(session, lot, qa, PASSWORD, "excursion within validated range")
    assert lot.status == "in_process" and lot.held_from is None


def test_deviation_is_open_on_the_lot_until_qa_closes_it_with_a_signature(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    with unit_of_work(session, actor_for(tech)):
        dev = services.record_deviation(
            session, lot, description="Incubator CO2 alarm 2 h", impact="Possible pH shift in P1"
        )
    assert services.open_deviations(session, lot) == [
        f"{dev.number} open since {dev.recorded_at:%Y-%m-%d}: Incubator CO2 alarm 2 h"
    ]
    with pytest.raises(Refused, match="deviation.close"):
        with unit_of_work(session, actor_for(tech)):
            services.close_deviation(session, dev, tech, PASSWORD, "alarm threshold corrected")
    with unit_of_work(session, actor_for(qa)):
        sig = services.close_deviation(session, dev, qa, PASSWORD, "alarm threshold corrected")
    assert dev.status == "closed" and sig.meaning == "Deviation closed"
    assert services.open_deviations(session, lot) == []


def test_lot_goes_to_qc_when_every_entry_is_verified_and_containers_exist(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    formulate(session, tech, lot, n=4)
    with unit_of_work(session, actor_for(tech)):
        services.submit_for_qc(session, lot)
    assert lot.status == "awaiting_qc"


def test_genealogy_both_ways_and_derived_lot_carries_pd_and_passage_numbering(session, tech, tech2, qa):
    d = f.signed_donor(session, tech, qa)
    master = f.grown_lot(session, tech, tech2, d=d)
    with unit_of_work(session, actor_for(tech)):
        working = services.derive_lot(session, master, fin=f.FIN, tier="working")
    assert working.parent_lot_id == master.id and working.donor_id == d.id
    assert working.starting_pd == pytest.approx(8.0) and working.first_passage == 2
    p = f.passage(session, tech, tech2, working, 1.0e6, 4.0e6)
    assert p.number == 2 and services.cumulative_pd(session, working) == pytest.approx(10.0)
    (c,) = formulate(session, tech, working, n=1)
    trace = services.trace_container(session, c)
    assert [s.lot.id for s in trace.chain] == [working.id, master.id] and trace.donor.id == d.id
    assert trace.chain[1].harvest is not None and len(trace.chain[1].passages) == 2
    (root,) = services.donor_tree(session, d.id)
    assert root.lot.id == master.id and root.children[0].lot.id == working.id
    assert root.children[0].containers == [c]
    with pytest.raises(Refused, match="later tier"):
        with unit_of_work(session, actor_for(tech)):
            services.derive_lot(session, working, fin=f.FIN, tier="working")


def test_placebo_lot_has_no_donor_and_containers_without_cells(session, tech):
    placebo = f.product(session, "PLACEBO-MEDIA")
    with unit_of_work(session, actor_for(tech)):
        lot = services.create_placebo_lot(session, fin=f.FIN, product_type_id=placebo.id)
    assert lot.donor_id is None and lot.tier == "dose" and not lot.quarantined
    # Filled like the MSC bags of the blinded protocols the placebo serves (issue 16: matched presentation).
    made = formulate(session, tech, lot, n=3, cells=0, volume=50.0, container_type="bag")
    assert all(c.cells == 0 and c.product_code.startswith("S00030") for c in made)
    with unit_of_work(session, actor_for(tech)):
        services.submit_for_qc(session, lot)
    assert lot.status == "awaiting_qc"


def test_absurd_amounts_are_refused_not_stored(session, tech, tech2, qa):
    d = f.signed_donor(session, tech, qa)
    with pytest.raises(Refused) as refused:
        f.harvest(session, tech, d, mass_g=float("inf"), volume_ml=float("nan"))
    assert {"mass_g", "volume_ml"} <= set(refused.value.errors)
    lot = f.grown_lot(session, tech, tech2, d=d)
    with pytest.raises(Refused) as refused:
        formulate(session, tech, lot, n=1_000_000, cells=1e-9)
    assert "divisions of one lot run out" in refused.value.errors["n_containers"]


def test_container_material_lot_and_product_statuses_change_only_through_their_workflows(
    session, tech, tech2, qa
):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    (c,) = formulate(session, tech, lot, n=1)
    b = f.box(session, tech, rows=2, cols=2)
    with unit_of_work(session, actor_for(tech)):
        services.store_container(session, c, b, 1, 1)
        services.store_container(session, c, b, 1, 2)  # a move keeps the status
    with unit_of_work(session, actor_for(tech), "thawed for testing"):
        services.remove_container(session, c, "thawed for testing")
    history = [(h.from_status, h.to_status) for h in status_history(session, c)]
    assert history == [(None, "formulated"), ("formulated", "stored"), ("stored", "removed")]

    m = f.material_lot(session, tech, status="quarantined")
    with pytest.raises(TransitionRefused, match="material.manage"), unit_of_work(session, actor_for(qa)):
        services.set_material_lot_status(session, m, "approved")
    with unit_of_work(session, actor_for(tech), "certificate reviewed"):
        services.set_material_lot_status(session, m, "approved")
    assert [(h.from_status, h.to_status) for h in status_history(session, m)] == [
        (None, "quarantined"),
        ("quarantined", "approved"),
    ]

    old = f.product(session, "AT-MSC-ALLO")
    with unit_of_work(session, actor_for(qa), "new shelf life validated"):
        new = services.add_product_version(session, "AT-MSC-ALLO", shelf_life_days=400)
    assert (old.status, new.status, new.version) == ("retired", "active", old.version + 1)
    assert [h.to_status for h in status_history(session, old)][-1] == "retired"
    # The database is shared by the whole run: put the seed shelf life back, or every later placebo of
    # a blinded protocol would no longer match its active product (doses.rules.blinding).
    with unit_of_work(session, actor_for(qa), "back to the seed shelf life"):
        services.add_product_version(session, "AT-MSC-ALLO", shelf_life_days=old.shelf_life_days)
