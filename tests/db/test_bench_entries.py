"""Bench entries of issue 18 against the database: the QC panel stored as one unit, corrections and voids
that keep the original, decisions signed on data corrected later flagged (DOMAIN.md §2, §4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bank.refusals import Refused
from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services as donor_services
from donors.models import SerologyTest
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from release import services
from release.models import TestResult
from tests.factories import lots as lf
from tests.factories import release as fr

pytestmark = pytest.mark.requirement("ER-ENTRY-CHECKS")

DAY = fr.PERFORMED_ON


@pytest.fixture
def lot(session, tech, qa):
    return fr.qc_lot(session, tech, qa, qa)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def correct(session, user, result, value: str, reason: str):
    """`user` corrects `result` to `value` % (method "m", no instrument, performed on DAY) for `reason`."""
    with unit_of_work(session, actor_for(user), "correction"):
        return services.correct_result(
            session, result, reason=reason, method="m", instrument="", performed_on=DAY, value=value, unit="%"
        )


def row(value="", unit="", markers=None, method="validated method"):
    return services.PanelRow(method=method, performed_on=DAY, value=value, unit=unit, markers=markers or {})


# --- release: the panel ------------------------------------------------------------------------------


def test_panel_with_one_wrong_row_stores_nothing_and_names_every_error(session, tech, lot):
    before = count(session, TestResult)
    rows = {
        "VIABILITY": row("91", "%"),
        "STERILITY": row("neg"),  # not an allowed term
        "ENDOTOXIN": row("0.1", "EU/L"),  # wrong unit
        "POTENCY": row(),  # empty: not entered
    }
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech), "panel"):
            services.enter_panel(session, lot, rows)
    assert "not an allowed result" in refused.value.errors["STERILITY__value"]
    assert "EU/mL" in refused.value.errors["ENDOTOXIN__unit"]
    assert not any(k.startswith("POTENCY") for k in refused.value.errors)
    assert count(session, TestResult) == before  # VIABILITY, valid, was rolled back with the rest


def test_panel_of_valid_rows_is_stored_together_empty_rows_skipped(session, tech, lot):
    rows = {"VIABILITY": row("91", "%"), "STERILITY": row("negative"), "MYCOPLASMA": row()}
    with unit_of_work(session, actor_for(tech), "panel"):
        entered = services.enter_panel(session, lot, rows)
    assert {r.test_code: r.value for r in entered} == {"VIABILITY": "91", "STERILITY": "no growth"}


def test_panel_out_of_specification_row_needs_the_confirmation(session, tech, lot):
    rows = {"VIABILITY": row("50", "%")}
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech), "panel"):
            services.enter_panel(session, lot, rows)
    assert "out of specification" in refused.value.errors["VIABILITY__confirm_out_of_specification"]
    with unit_of_work(session, actor_for(tech), "panel"):
        (result,) = services.enter_panel(session, lot, rows, confirm_out_of_specification=True)
    assert result.verdict == "fail"


def test_unconfirmed_out_of_specification_result_is_not_stored(session, tech, lot):
    before = count(session, TestResult)
    with pytest.raises(Refused) as refused:
        fr.enter(session, tech, lot, "STERILITY", "positive", confirm_out_of_specification=False)
    assert "confirm_out_of_specification" in refused.value.errors
    assert count(session, TestResult) == before


# --- release: corrections and voids --------------------------------------------------------------


def test_author_corrects_an_unverified_result_and_the_original_is_kept(session, tech, qa, lot):
    original = fr.enter(session, tech, lot, "VIABILITY", "19.1", confirm_out_of_specification=True)
    with pytest.raises(Refused) as refused:  # someone else, before verification
        correct(session, qa, original, "91", "typo")
    assert "release.correct_not_author" in {p.rule_id for p in refused.value.problems}
    fixed = correct(session, tech, original, "91", "typed 19.1 for 91")
    assert original.superseded_by_id == fixed.id and fixed.corrects and fixed.verdict == "pass"
    assert "typed 19.1 for 91" in fixed.retest_reason
    assert services.current_result(session, lot, "VIABILITY").id == fixed.id


def test_void_only_before_verification_by_the_author(session, tech, qa, lot):
    r = fr.enter(session, tech, lot, "VIABILITY")
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech), "void"):
            services.void_result(session, r, "")
    assert "reason" in refused.value.errors
    with unit_of_work(session, actor_for(tech), "void"):
        services.void_result(session, r, "entered on the wrong lot")
    assert r.voided and r.voided_by_id == tech.id
    assert services.current_result(session, lot, "VIABILITY") is None
    verified = fr.enter(session, tech, lot, "VIABILITY")
    fr.verify(session, qa, verified)
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech), "void"):
            services.void_result(session, verified, "oops")
    assert "release.void_verified" in {p.rule_id for p in refused.value.problems}


def test_release_signed_on_a_result_corrected_later_is_flagged(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot)
    fr.release(session, qa2, lot)
    assert services.decision_rereview(session, lot) == []
    potency = services.current_result(session, lot, "POTENCY")
    correct(session, tech, potency, "35", "transcription")
    flags = services.decision_rereview(session, lot)
    assert [p.rule_id for p in flags] == ["release.rereview"] and f"#{potency.id}" in flags[0].message


# --- donors ---------------------------------------------------------------------------------------


def test_determination_signed_on_serology_corrected_later_is_flagged(session, tech, qa):
    donor = lf.signed_donor(session, tech, qa)
    record = donor_services.determinations(session, donor)[0]
    assert donor_services.rereview(session, donor, record) == []
    hiv = next(t for t in donor_services.active_serology(session, donor) if t.marker == "HIV")
    with unit_of_work(session, actor_for(tech), "correction"):
        fixed = donor_services.correct_serology(
            session,
            hiv,
            "kit lot typed wrongly",
            marker="HIV",
            method="CMIA",
            kit="Architect",
            kit_lot="K2",
            sample_date=hiv.sample_date,
            test_date=hiv.test_date,
            result="negative",
        )
    assert hiv.voided_at is not None and hiv.voided_by_id == tech.id and fixed.replaces_id == hiv.id
    flags = donor_services.rereview(session, donor, record)
    assert [p.rule_id for p in flags] == ["donor.rereview"]
    assert f"serology #{hiv.id}" in flags[0].message and "kit lot typed wrongly" in flags[0].evidence
    assert donor.status == "eligible"  # still negative: no look-back, but the signature is flagged


def test_changed_answer_voids_and_replaces_the_original_with_the_reason(session, tech):
    donor = lf.screened_donor(session, tech)
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech)):
            donor_services.record_answer(session, donor, "Q-CANCER", True, detail="basal cell 2019")
    assert "reason" in refused.value.errors
    with unit_of_work(session, actor_for(tech)):
        donor_services.record_answer(
            session, donor, "Q-CANCER", True, detail="basal cell 2019", reason="recall"
        )
    answers = [a for a in donor_services.active_answers(session, donor) if a.question_id == "Q-CANCER"]
    assert len(answers) == 1 and answers[0].answer and answers[0].replaces_id is not None


def test_serology_panel_skips_empty_rows_defaults_to_the_first_and_checks_the_window(session, tech):
    donor = lf.donor(session, tech)
    with unit_of_work(session, actor_for(tech)):
        donor_services.set_harvest_date(session, donor, lf.HARVEST_DAY)
    first = donor_services.SerologyRow(
        "HIV", "negative", "CMIA", "Architect", "K1", lf.HARVEST_DAY, lf.HARVEST_DAY + timedelta(days=1)
    )
    rows = [first, donor_services.SerologyRow("HBSAG", "negative"), donor_services.SerologyRow("HCV")]
    with unit_of_work(session, actor_for(tech)):
        made = donor_services.record_serology_panel(session, donor, rows)
    assert [(t.marker, t.kit_lot, t.sample_date) for t in made] == [
        ("HIV", "K1", lf.HARVEST_DAY),
        ("HBSAG", "K1", lf.HARVEST_DAY),
    ]
    before = count(session, SerologyTest)
    late = donor_services.SerologyRow(
        "HCV",
        "negative",
        "CMIA",
        "Architect",
        "K1",
        lf.HARVEST_DAY + timedelta(days=30),
        lf.HARVEST_DAY + timedelta(days=31),
    )
    blank = donor_services.SerologyRow("", "negative")
    with pytest.raises(Refused) as refused:
        with unit_of_work(session, actor_for(tech)):
            donor_services.record_serology_panel(session, donor, [late, blank])
    assert "outside the window" in refused.value.errors["HCV__sample_date"]
    assert refused.value.errors["row__marker"] == "choose a marker"
    assert "unknown marker" not in str(refused.value.errors)
    assert count(session, SerologyTest) == before
    assert {m.marker for m in CS.markers} >= {"HIV", "HBSAG", "HCV"}
