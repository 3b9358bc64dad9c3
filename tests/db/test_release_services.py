"""Release services on a real database: specifications as versioned data, results and verdicts, four-eyes
verification, retests, QA release refused for every reason, conditional release and late alerts, CoA digest."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError, IntegrityError

from bank.esign import SignatureError
from bank.refusals import Refused
from bank.signals import late_result_found
from bank.status import TransitionRefused, status_history
from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services as donor_services
from donors.models import Donor
from lots import services as lot_services
from release import services
from release.models import LateResultAlert, ResultAttachment, SpecificationVersion, TestResult
from release.reports import coa_digest, digest_matches
from release.rules import lot_verdict
from tests.factories import lots as lf
from tests.factories import release as fr
from tests.support import PASSWORD

pytestmark = pytest.mark.requirement("REL-DECISION", "REL-SPECIFICATIONS")


@pytest.fixture
def lot(session, tech, qa):
    return fr.qc_lot(session, tech, qa, qa)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def rule_ids(session, lot, signer, conditional=False) -> set[str]:
    return {p.rule_id for p in services.release_problems(session, lot, signer.id, conditional)}


# --- specifications -------------------------------------------------------------------------------


def test_seed_is_idempotent_with_one_effective_version_per_product(session, qa):
    with unit_of_work(session, actor_for(qa)):
        services.ensure_seed_specifications(session)
    before = count(session, SpecificationVersion)
    with unit_of_work(session, actor_for(qa)):
        assert services.ensure_seed_specifications(session) == []
    assert count(session, SpecificationVersion) == before
    for key in ("BM-MSC-AUTO", "AT-MSC-ALLO", "PLACEBO-MEDIA"):
        versions = services.versions_of(session, key)
        assert [v.seeded for v in versions].count(True) == 1  # (other tests may add later versions)
        assert [v.status for v in versions].count("effective") == 1
        assert services.effective_specification(session, key).spec().product_key == key


def test_new_version_is_drafted_edited_approved_by_a_second_qa_and_supersedes(own_database):
    session, staff = own_database  # its own: the shared database keeps the seed specifications
    tech, qa, qa2 = staff.tech, staff.qa, staff.qa2
    lot = fr.qc_lot(session, tech, qa, qa)
    fr.enter(session, tech, lot, "VIABILITY")  # the lot's record now holds the seed version
    old = services.effective_specification(session, "AT-MSC-ALLO")
    with unit_of_work(session, actor_for(qa)):
        draft = services.draft_new_version(session, "AT-MSC-ALLO")
        edits = {
            name: current
            for _, fields in services.editable_fields(draft.spec())
            for name, _, current in fields
        }
        edits.update({"VIABILITY__min": "80", "IDENTITY-IFATS2013__r0": "90"})
        services.update_draft(
            session, draft, draft.version, edits, "Viability floor 80 %, CD90 ≥ 90 % (validation)"
        )
    with pytest.raises(Refused, match="second QA"), unit_of_work(session, actor_for(qa)):
        services.approve_specification(session, draft, qa, PASSWORD)
    with unit_of_work(session, actor_for(qa2)):
        services.approve_specification(session, draft, qa2, PASSWORD)
        services.make_effective(session, draft)
    assert (draft.status, old.status) == ("effective", "superseded")
    spec = draft.spec()
    assert (
        spec.get_test("VIABILITY").min == 80.0
        and spec.get_test("IDENTITY-IFATS2013").rules[0].threshold_pct == 90
    )
    assert services.approval_signature(session, draft)[1] is True
    # The lot under test keeps the version on its release record; a new lot takes the new one.
    assert services.lot_specification(session, lot).id == old.id


def seeded_by_qa(own_database):
    """The session and QA person of a database of its own (the shared one keeps the seed specifications for
    every other test), the seed specifications stored there by that QA person."""
    session, staff = own_database
    with unit_of_work(session, actor_for(staff.qa)):
        services.ensure_seed_specifications(session)
    return session, staff.qa


def test_draft_edit_refuses_impossible_limits_and_changes_nothing(own_database):
    session, qa = seeded_by_qa(own_database)
    with unit_of_work(session, actor_for(qa)):
        draft = services.draft_new_version(session, "BM-MSC-AUTO")
    content = draft.content
    edits = {
        "VIABILITY__min": "120",
        "ENDOTOXIN__max": "abc",
        "POTENCY__min": "30",
        "IDENTITY-ISCT2006__r3": "-1",
    }
    with pytest.raises(Refused) as e, unit_of_work(session, actor_for(qa)):
        services.update_draft(session, draft, draft.version, edits, "")
    assert {"VIABILITY__min", "ENDOTOXIN__max", "IDENTITY-ISCT2006__r3", "change_note"} <= set(e.value.errors)
    session.refresh(draft)
    assert draft.content == content


# --- lot cases: result sets as an analyst enters them, with the lot verdict expected ----------------

CASES = [
    pytest.param({}, "pass", set(), id="all-passing"),
    pytest.param({"VIABILITY": ("70.0", "%", None)}, "pass", set(), id="viability-at-70-floor"),
    pytest.param(
        {"VIABILITY": ("69.9", "%", None)}, "fail", {"release.out_of_specification"}, id="viability-69.9"
    ),
    pytest.param({"ENDOTOXIN": ("0.5", "EU/mL", None)}, "pass", set(), id="endotoxin-at-limit"),
    pytest.param(
        {"ENDOTOXIN": ("0.51", "EU/mL", None)}, "fail", {"release.out_of_specification"}, id="endotoxin-over"
    ),
    pytest.param(
        {"IDENTITY-IFATS2013": ("", "%", {**fr.PASSING["IDENTITY-IFATS2013"][2], "CD31": "2.1"})},
        "fail",
        {"release.out_of_specification"},
        id="cd31-2.1-over-negative-limit",
    ),
    pytest.param(
        {"IDENTITY-IFATS2013": ("", "%", {**fr.PASSING["IDENTITY-IFATS2013"][2], "CD44": "80.0"})},
        "pass",
        set(),
        id="cd44-at-80",
    ),
    pytest.param(
        {"STERILITY": ("growth", "", None)},
        "fail",
        {"release.out_of_specification"},
        id="sterility-positive",
    ),
    pytest.param(
        {"STERILITY": ("no growth to date", "", None)},
        "incomplete",
        {"release.conditional_not_allowed"},
        id="sterility-interim-without-conditional",
    ),
    pytest.param(
        {"MYCOPLASMA": ("detected", "", None)}, "fail", {"release.out_of_specification"}, id="mycoplasma"
    ),
    pytest.param(
        {"CELLS-PER-CONTAINER": ("9.9", fr.CELLS_UNIT, None)},
        "fail",
        {"release.out_of_specification"},
        id="cells-under-range",
    ),
    pytest.param(
        {"POTENCY": ("19.9", "%", None)}, "fail", {"release.out_of_specification"}, id="potency-19.9"
    ),
]


@pytest.mark.parametrize(("overrides", "expected", "blockers"), CASES)
def test_lot_cases_entered_by_an_analyst(session, tech, qa, qa2, lot, overrides, expected, blockers):
    fr.complete_results(session, tech, qa, lot, overrides)
    spec = services.lot_specification(session, lot).spec()
    assert lot_verdict(spec, services.result_facts(services.results_of(session, lot))) == expected
    assert rule_ids(session, lot, qa2) == blockers


def test_bm_msc_either_or_markers(session, tech, qa, qa2):
    d = lf.screened_donor(session, tech, autologous=True)  # autologous: no determination (1271.90)
    lot = lf.harvest(session, tech, d, key="BM-MSC-AUTO")
    assert lot.autologous_only
    markers = {**fr.PASSING["IDENTITY-ISCT2006"][2]}
    del markers["CD14"]
    markers["CD11b"] = "1.9"  # the alternative of the pair is enough
    r = fr.enter(session, tech, lot, "IDENTITY-ISCT2006", markers=markers)
    assert r.verdict == "pass"
    del markers["CD11b"]
    with pytest.raises(Refused) as e:
        fr.enter(
            session, tech, lot, "IDENTITY-ISCT2006", markers=markers, retest_of_id=r.id, retest_reason="x"
        )
    assert "CD14 or CD11b" in e.value.errors["markers"]


# --- impossible input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "value", "unit", "field"),
    [
        ("VIABILITY", "100.1", "%", "value"),
        ("VIABILITY", "85", "fraction", "unit"),
        ("ENDOTOXIN", "0.2", "EU/kg", "unit"),
        ("VIABILITY", "eighty", "%", "value"),
        ("STERILITY", "no growth", "%", "unit"),
        ("NOT-A-TEST", "1", "%", "test_code"),
        ("IDENTITY-ISCT2006", "", "%", "test_code"),  # a BM-MSC test on an adipose lot's specification
    ],
)
def test_impossible_result_is_refused_by_field_and_changes_nothing(
    session, tech, lot, code, value, unit, field
):
    before = count(session, TestResult)
    with pytest.raises(Refused) as e, unit_of_work(session, actor_for(tech)):
        services.enter_result(
            session,
            lot,
            test_code=code,
            method="m",
            instrument="",
            performed_on=fr.PERFORMED_ON,
            value=value,
            unit=unit,
        )
    assert field in e.value.errors
    assert count(session, TestResult) == before


def test_panel_percentage_over_100_is_refused(session, tech, lot):
    markers = {**fr.PASSING["IDENTITY-IFATS2013"][2], "CD90": "101"}
    with pytest.raises(Refused) as e:
        fr.enter(session, tech, lot, "IDENTITY-IFATS2013", markers=markers)
    assert "CD90" in e.value.errors["markers"]


def test_attachment_is_kept_with_its_digest_and_size_limited(session, tech, lot):
    data = b"time,EU/mL\n0,0.12\n"
    r = fr.enter(
        session, tech, lot, "ENDOTOXIN", attachment=services.Upload("kinetic LAL.csv", "text/csv", data)
    )
    att = session.get(ResultAttachment, r.attachment_id)
    assert (att.data, att.sha256, att.filename) == (data, hashlib.sha256(data).hexdigest(), "kinetic_LAL.csv")
    big = services.Upload("big.bin", "application/octet-stream", b"x" * (services.MAX_ATTACHMENT_BYTES + 1))
    with pytest.raises(Refused) as e:
        fr.enter(session, tech, lot, "VIABILITY", attachment=big)
    assert "attachment" in e.value.errors
    with pytest.raises(DatabaseError), session.begin_nested():  # raw data is append-only
        session.execute(text("UPDATE release_attachments SET sha256 = 'x'"))


# --- verification and retests -------------------------------------------------------------------------


def test_result_cannot_be_verified_by_the_person_who_entered_it(session, tech, qa, lot):
    r = fr.enter(session, tech, lot, "VIABILITY")
    with pytest.raises(Refused, match="second person"):
        fr.verify(session, tech, r)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "UPDATE release_results SET verified_by_id = entered_by_id, verified_at = entered_at "
                "WHERE id = :i"
            ),
            {"i": r.id},
        )
    fr.verify(session, qa, r)
    assert r.verified and r.verified_by_id == qa.id


def test_retest_keeps_the_original_and_needs_a_reason(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot, {"VIABILITY": ("65", "%", None)})
    original = services.current_result(session, lot, "VIABILITY")
    assert original.out_of_specification
    with pytest.raises(Refused) as e:
        fr.enter(session, tech, lot, "VIABILITY", "88")
    assert e.value.status == 409 and e.value.rule_ids == {"release.result_exists"}
    assert "retest" in e.value.problems[0].message and e.value.problems[0].field == "test_code"
    with pytest.raises(Refused) as e:
        fr.enter(session, tech, lot, "VIABILITY", "88", retest_of_id=original.id, retest_reason="")
    assert "retest_reason" in e.value.errors
    retest = fr.enter(
        session,
        tech,
        lot,
        "VIABILITY",
        "88",
        retest_of_id=original.id,
        retest_reason="OOS-2026-014: counting chamber error confirmed",
    )
    session.refresh(original)
    assert original.superseded_by_id == retest.id and retest.retest_of_id == original.id
    assert rule_ids(session, lot, qa2) == {"release.unverified"}
    fr.verify(session, qa, retest)
    assert rule_ids(session, lot, qa2) == set()


# --- QA release: every reason, four eyes ----------------------------------------------------------------


def test_release_refused_naming_every_reason_then_released_by_a_second_qa(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot, {"POTENCY": ("12", "%", None)}, skip=("KARYOTYPE",))
    unverified = fr.enter(session, qa, lot, "KARYOTYPE")  # entered by QA 1, not verified yet
    with unit_of_work(session, actor_for(tech)):
        lot_services.record_deviation(session, lot, description="Incubator alarm 2 h", impact="under review")
    with pytest.raises(TransitionRefused) as e, unit_of_work(session, actor_for(qa)):
        services.release_lot(session, lot, qa, PASSWORD)
    text_ = " | ".join(p.message for p in e.value.problems)
    for expected in (
        "Potency",
        "out of specification",
        "Karyotype result is not verified",
        "Deviation DEV-",
        "You entered KARYOTYPE and verified",
        "VIABILITY",
        "(four eyes)",
    ):
        assert expected in text_, expected
    assert lot.status == "awaiting_qc"
    assert rule_ids(session, lot, qa2) == {
        "release.out_of_specification",
        "release.unverified",
        "release.deviation_open",
    }
    # Put things right: retest potency, verify karyotype, close the deviation.
    pot = services.current_result(session, lot, "POTENCY")
    fr.verify(
        session,
        tech,
        fr.enter(
            session,
            qa,
            lot,
            "POTENCY",
            "31",
            retest_of_id=pot.id,
            retest_reason="OOS investigation: PBMC donor failure",
        ),
    )
    fr.verify(session, tech, unverified)
    deviation = lot_services.deviations_of(session, lot)[0]
    with unit_of_work(session, actor_for(qa)):
        lot_services.close_deviation(session, deviation, qa, PASSWORD, "Alarm investigated, no impact")
    # QA 1 still entered or verified results of this lot: never the releaser (four eyes).
    assert rule_ids(session, lot, qa) == {"release.four_eyes"}
    with pytest.raises(SignatureError), unit_of_work(session, actor_for(qa2)):
        services.release_lot(session, lot, qa2, "wrong password")
    assert lot.status == "awaiting_qc"
    fr.release(session, qa2, lot)
    assert lot.status == "released" and services.lot_is_released(session, lot)
    sig, valid = services.decision_signature(session, lot)
    assert valid and sig.meaning == "Released for clinical use" and sig.user_id == qa2.id


def test_release_refused_while_donor_not_signed_eligible(session, tech, qa, qa2):
    d = lf.screened_donor(session, tech)  # screened, never signed
    lot = fr.qc_lot(session, tech, qa, qa, donor=d)
    fr.complete_results(session, tech, qa, lot)
    assert {"release.donor_not_eligible", "release.quarantined"} <= rule_ids(session, lot, qa2)


def test_release_refused_while_donor_under_lookback(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot)
    with unit_of_work(session, actor_for(qa)):
        donor_services.start_lookback(session, session.get(Donor, lot.donor_id), "late HEV positive")
    ids = rule_ids(session, lot, qa2)
    assert {"release.donor_lookback", "release.lot_status"} <= ids


def test_rejection_needs_a_reason_and_a_signature(session, tech, qa, qa2, lot):
    with pytest.raises(TransitionRefused, match="reason"), unit_of_work(session, actor_for(qa2)):
        services.reject_lot(session, lot, qa2, PASSWORD, "")
    with unit_of_work(session, actor_for(qa2), "mycoplasma detected"):
        services.reject_lot(session, lot, qa2, PASSWORD, "Mycoplasma detected")
    assert lot.status == "rejected" and not services.lot_is_released(session, lot)
    assert services.decision_signature(session, lot)[0].meaning == "Rejected"


# --- conditional release and the late result ---------------------------------------------------------


def test_conditional_release_then_late_positive_alerts_with_containers_and_patients(
    session, tech, qa, qa2, lot
):
    seen = []

    def doses_listener(s, lot):
        seen.append(lot.id)
        return [f"Patient MS-007 (dose 1 of lot {lot.din})"]

    fr.complete_results(session, tech, qa, lot, {"STERILITY": ("no growth to date", "", None)})
    assert rule_ids(session, lot, qa2) == {"release.conditional_not_allowed"}
    assert rule_ids(session, lot, qa2, conditional=True) == set()
    fr.release(session, qa2, lot, conditional=True)
    assert services.release_record(session, lot).conditional and services.lot_is_released(session, lot)
    interim = services.current_result(session, lot, "STERILITY")
    with late_result_found.connected_to(doses_listener):
        final = fr.enter(session, tech, lot, "STERILITY", "growth")
    session.refresh(interim)
    assert interim.superseded_by_id == final.id and final.out_of_specification
    alert = session.scalar(select(LateResultAlert).where(LateResultAlert.lot_id == lot.id))
    assert alert is not None and seen == [lot.id]
    assert len(alert.container_list) == 2 and lot.din in alert.container_list[0]
    assert alert.patient_list == [f"Patient MS-007 (dose 1 of lot {lot.din})"] and "clinician" in alert.notify
    assert not services.lot_is_released(session, lot)
    # The release signature still matches what it was given on: the interim result, kept.
    assert services.decision_signature(session, lot)[1] is True


def test_conditional_release_then_final_no_growth_raises_no_alert(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot, {"STERILITY": ("no growth to date", "", None)})
    fr.release(session, qa2, lot, conditional=True)
    fr.verify(session, qa, fr.enter(session, tech, lot, "STERILITY", "no growth"))
    assert session.scalar(select(func.count()).where(LateResultAlert.lot_id == lot.id)) == 0
    assert services.lot_is_released(session, lot)


def test_released_lot_takes_no_more_results(session, tech, qa, qa2):
    lot = fr.released_lot(session, tech, qa, qa, qa2)
    with pytest.raises(Refused, match="released"):
        fr.enter(
            session,
            tech,
            lot,
            "VIABILITY",
            retest_of_id=services.current_result(session, lot, "VIABILITY").id,
            retest_reason="late recount",
        )


# --- what the doses module reads ------------------------------------------------------------------------


def test_endotoxin_comes_from_the_verified_current_result(session, tech, qa, lot):
    assert services.lot_endotoxin_eu_per_ml(session, lot) is None
    r = fr.enter(session, tech, lot, "ENDOTOXIN", "0.125")
    assert services.lot_endotoxin_eu_per_ml(session, lot) is None  # not verified yet
    fr.verify(session, qa, r)
    assert services.lot_endotoxin_eu_per_ml(session, lot) == Decimal("0.125")


def test_changed_result_behind_the_application_invalidates_release_and_digest(session, tech, qa, qa2):
    lot = fr.released_lot(session, tech, qa, qa, qa2)
    digest = coa_digest(session, lot)
    assert digest_matches(session, lot, digest)
    r = services.current_result(session, lot, "VIABILITY")
    session.execute(text("UPDATE release_results SET value = '99.9' WHERE id = :i"), {"i": r.id})
    session.expire_all()
    assert not digest_matches(session, lot, digest)
    assert services.decision_signature(session, lot)[1] is False
    assert not services.lot_is_released(session, lot)
    assert json.loads(services.release_record(session, lot).signed_results)


# --- statuses through their workflows ---------------------------------------------------------------------


def test_seed_versions_take_the_workflow_seed_step_and_a_draft_never_takes_effect_unapproved(own_database):
    session, qa = seeded_by_qa(own_database)
    seed = services.effective_specification(session, "PLACEBO-MEDIA")
    steps = [(c.from_status, c.to_status) for c in status_history(session, seed)]
    assert steps == [(None, "draft"), ("draft", "effective")] and seed.seeded and seed.signature_id is None
    with unit_of_work(session, actor_for(qa)):
        draft = services.draft_new_version(session, "PLACEBO-MEDIA")
    with pytest.raises(TransitionRefused), unit_of_work(session, actor_for(qa)):
        services.make_effective(session, draft)
    session.refresh(seed)
    session.refresh(draft)
    assert (seed.status, draft.status) == ("effective", "draft")


def test_verification_refusals_are_rule_problems_naming_every_reason(session, tech, qa, lot):
    r = fr.enter(session, tech, lot, "VIABILITY")
    fr.verify(session, qa, r)
    with pytest.raises(Refused) as e:
        fr.verify(session, tech, r)
    assert e.value.status == 409
    assert e.value.rule_ids == {"release.already_verified", "release.self_verification"}


def test_late_result_alert_is_acknowledged_through_its_workflow_once(session, tech, qa, qa2, lot):
    fr.complete_results(session, tech, qa, lot, {"STERILITY": ("no growth to date", "", None)})
    fr.release(session, qa2, lot, conditional=True)
    fr.enter(session, tech, lot, "STERILITY", "growth")
    alert = services.alerts_of(session, lot)[0]
    with pytest.raises(Refused) as e, unit_of_work(session, actor_for(qa2)):
        services.acknowledge_alert(session, alert, "  ")
    assert e.value.status == 422 and "note" in e.value.errors
    with unit_of_work(session, actor_for(qa2)):
        services.acknowledge_alert(session, alert, "Clinician informed; doses held")
    assert alert.status == "acknowledged" and alert.acknowledgement == "Clinician informed; doses held"
    assert [(c.from_status, c.to_status, c.reason) for c in status_history(session, alert)] == [
        (None, "open", "result entered"),
        ("open", "acknowledged", "Clinician informed; doses held"),
    ]
    with pytest.raises(TransitionRefused), unit_of_work(session, actor_for(qa2)):
        services.acknowledge_alert(session, alert, "again")
