"""Bench entries that are hard to get wrong (issue 18, lots): soft limits confirmed with a stored comment,
implausible entries refused with nothing written, corrections and voids that keep the original, passage
numbers and cumulative PD recomputed from the entries in force, a corrected released lot flagged for
re-review."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bank.clock import utcnow
from bank.models import AuditEntry
from bank.refusals import Refused
from bank.uow import unit_of_work
from bank.users import actor_for
from lots import services
from lots.models import EntryCorrection, Passage
from tests.factories import lots as f
from tests.factories import release as fr

pytestmark = pytest.mark.requirement("ER-CORRECTIONS")


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def correct(session, user, entry, reason="haemocytometer recount", **values):
    p = entry
    fields = dict(
        seeded_cells=p.seeded_cells,
        harvested_cells=p.harvested_cells,
        viability_pct=p.viability_pct,
        vessels=p.vessels,
        seeded_on=p.seeded_on,
        harvested_on=p.harvested_on,
        operator=p.operator,
    )
    fields.update(values)
    with unit_of_work(session, actor_for(user), reason):
        return services.correct_passage(session, entry, reason=reason, **fields)


def confirm(session, user, correction):
    with unit_of_work(session, actor_for(user), "correction confirmed"):
        services.confirm_correction(session, correction)


def test_negative_pd_is_refused_until_confirmed_with_a_comment_which_is_stored_and_audited(
    session, tech, tech2, qa
):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    before = count(session, Passage)
    with pytest.raises(Refused) as refused:
        f.passage(session, tech, None, lot, 2.0e6, 1.0e6)  # PD −1.00
    assert {"confirm_plausibility", "plausibility_comment"} <= set(refused.value.errors)
    assert [(p.rule_id, p.field) for p in refused.value.problems] == [
        ("lots.plausibility.negative_pd", "harvested_cells")
    ]
    assert count(session, Passage) == before
    p = f.passage(
        session, tech, None, lot, 2.0e6, 1.0e6, confirm=True, comment="cells lost at trypsinisation"
    )
    assert p.population_doublings == pytest.approx(-1.0)
    assert p.plausibility_comment == "cells lost at trypsinisation"
    assert p.plausibility_rules == "lots.plausibility.negative_pd"
    audited = session.scalar(
        select(AuditEntry.changes).where(AuditEntry.entity == "passages", AuditEntry.entity_id == str(p.id))
    )
    assert "cells lost at trypsinisation" in audited


def test_impossible_growth_and_dates_out_of_order_are_refused_and_nothing_is_written(
    session, tech, tech2, qa
):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    last = services.passages(session, lot)[-1]
    before = count(session, Passage)
    day, p1 = timedelta(days=1), last.harvested_on
    for seeded, harvested, seeded_on, harvested_on, rule in (
        # 10⁶ → 10¹² in a day
        (1.0e6, 1.0e12, p1, p1 + day, "lots.plausibility.fold_increase"),
        # P2 seeded before P1 was harvested
        (1.0e6, 2.0e6, p1 - day, p1, "lots.plausibility.seeded_before_previous"),
    ):
        with pytest.raises(Refused) as refused:
            f.passage(
                session, tech, None, lot, seeded, harvested, seeded_on=seeded_on, harvested_on=harvested_on
            )
        assert rule in refused.value.rule_ids
    assert count(session, Passage) == before
    with pytest.raises(Refused) as refused:
        f.formulate(
            session, tech, lot, 1, "bag", 1e6, 5.0, frozen_at=utcnow() - timedelta(days=9), reason=None
        )
    assert "lots.plausibility.frozen_before_harvest" in refused.value.rule_ids


def test_a_corrected_passage_shows_its_original_and_the_cumulative_pd_is_recomputed(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)  # P0 4 PD, P1 4 PD, both verified by tech2
    p1 = services.passages(session, lot)[1]
    assert services.cumulative_pd(session, lot) == pytest.approx(8.0)
    correction = correct(session, tech, p1, harvested_cells=6.4e7)  # P1 really 5 PD
    assert correction.status == "pending" and correction.second_person
    assert services.cumulative_pd(session, lot) == pytest.approx(8.0), (
        "a verified entry waits for a second person"
    )
    with pytest.raises(Refused, match="second person must confirm"):
        confirm(session, tech, correction)
    confirm(session, tech2, correction)
    assert correction.status == "applied" and correction.confirmed_by_id == tech2.id
    assert services.cumulative_pd(session, lot) == pytest.approx(4.0 + math.log2(32))
    history = services.passage_history(session, lot)
    original = next(p for p in history if p.id == p1.id)
    assert not original.in_force and original.harvested_cells == 3.2e7, "the original stays as it was"
    replacement = next(p for p in history if p.id == correction.replacement_id)
    assert replacement.in_force and replacement.number == 1 and replacement.verified_by_id == tech2.id
    assert [p.number for p in services.passages(session, lot)] == [0, 1]


def test_an_unverified_entry_is_corrected_at_once_by_its_author_only(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    p2 = f.passage(session, tech, None, lot, 1.0e6, 4.0e6)
    with pytest.raises(Refused, match="only the person who entered it"):
        correct(session, tech2, p2, harvested_cells=3.0e6)
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech)):
            services.void_entry(session, p2, reason="  ")
    assert "reason" in refused.value.errors
    correction = correct(session, tech, p2, harvested_cells=3.0e6)
    assert correction.status == "applied" and not correction.second_person
    now = services.passages(session, lot)[-1]
    assert now.id == correction.replacement_id and not now.verified and now.harvested_cells == 3.0e6


def test_voiding_a_passage_renumbers_the_later_ones_and_their_pd(session, tech, tech2, qa):
    lot = f.grown_lot(session, tech, tech2, qa=qa)
    p2 = f.passage(session, tech, tech2, lot, 1.0e6, 2.0e6)  # 1 PD
    p1 = services.passages(session, lot)[1]
    with unit_of_work(session, actor_for(tech)):
        correction = services.void_entry(session, p1, reason="entered twice")
    confirm(session, tech2, correction)
    assert [(p.id, p.number) for p in services.passages(session, lot)][-1] == (p2.id, 1)
    assert services.cumulative_pd(session, lot) == pytest.approx(5.0)
    assert session.get(EntryCorrection, correction.id).action == "void"


def test_correcting_a_released_lot_flags_it_for_re_review(session, tech, qa, make_user):
    releaser = make_user("qa")
    lot = fr.released_lot(session, tech, qa, qa, releaser)
    p0 = services.passages(session, lot)[0]
    correction = correct(session, tech, p0, viability_pct=94.0, reason="viability typed from the wrong sheet")
    assert lot.rereview_since is None
    confirm(session, qa, correction)
    assert lot.rereview_since is not None and "P0 corrected" in lot.rereview_reason
    assert correction.rereview
    with unit_of_work(session, actor_for(releaser), "re-review"):
        services.close_rereview(session, lot, "values re-checked; release stands")
    assert lot.rereview_since is None
