"""Donor services on a real database: registry, entries, signed determination, look-back, audit rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bank.esign import SignatureError
from bank.models import AuditEntry, Signature, StatusChange
from bank.refusals import Refused
from bank.signals import donor_lookback_started
from bank.status import TransitionRefused
from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services
from donors.models import Donor
from donors.services import (
    activate_version,
    active_answers,
    active_version,
    draft_new_version,
    ensure_seed_criteria,
    parse,
    record_answer,
    record_medication,
    record_serology,
    reevaluate_all,
    review_version,
    sign_determination,
    void_entry,
)
from tests.factories import lots as lf
from tests.support import PASSWORD

pytestmark = pytest.mark.requirement("DON-DETERMINATION", "DON-LOOKBACK")

TODAY = services.today()
HARVEST = TODAY - timedelta(days=10)


def sign(session, user, donor, decision, comment=""):
    with unit_of_work(session, actor_for(user)):
        return sign_determination(session, donor, user, PASSWORD, decision, comment)


def test_register_donor_issues_code_and_writes_audit_and_history(session, tech):
    donor = lf.donor(session, tech, full_name="Jeanne Martin")
    assert donor.code.startswith(f"DN-{TODAY.year}-") and len(donor.code) == 12
    assert donor.status == "pending" and donor.bmi == 25.0
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "donors", AuditEntry.entity_id == str(donor.id))
    ).all()
    assert audit and audit[0].action == "insert" and audit[0].reason == "donor registered"
    name_rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "donor_identities")).all()
    assert all("Jeanne" not in row.changes for row in name_rows)
    assert services.identity_of(session, donor).full_name == "Jeanne Martin"
    history = session.scalars(
        select(StatusChange).where(StatusChange.entity == "donors", StatusChange.entity_id == str(donor.id))
    ).all()
    assert [h.to_status for h in history] == ["pending"]


@pytest.mark.parametrize(
    "field, value",
    [
        ("weight_kg", 0.0),
        ("weight_kg", 900.0),
        ("height_cm", 400.0),
        ("birth_date", TODAY + timedelta(days=1)),
        ("sex", "X"),
    ],
)
def test_impossible_registry_input_is_refused(session, tech, field, value):
    before = session.scalar(select(Donor.id).order_by(Donor.id.desc()).limit(1))
    with pytest.raises(Refused) as exc:
        lf.donor(session, tech, **{field: value})
    assert field in exc.value.errors
    assert session.scalar(select(Donor.id).order_by(Donor.id.desc()).limit(1)) == before


def test_screened_donor_is_eligible_and_qa_signature_records_the_criteria_version(session, tech, qa):
    donor = lf.screened_donor(session, tech)
    assert services.evaluate(session, donor).outcome == "eligible"
    assert not services.donor_use_facts(session, donor.id).eligible_signed
    record = sign(session, qa, donor, "eligible")
    assert donor.status == "eligible"
    assert (
        record.criteria_label == "SSc adipose donor v1"
        and record.criteria_set_id == active_version(session).id
    )
    sig = session.get(Signature, record.signature_id)
    # The signature sits on the donor whose status it changes; what it signs names the determination.
    assert sig.meaning == "Donor eligibility determination" and (sig.entity, sig.entity_id) == (
        "donors",
        str(donor.id),
    )
    assert services.signatures_with_validity(session, donor, [record]) == [(record, sig, True)]
    use = services.donor_use_facts(session, donor.id)
    assert use == services.DonorUse("eligible", False, False, True, donor.code)


def test_technician_cannot_sign_and_wrong_password_writes_nothing(session, tech, qa):
    donor = lf.screened_donor(session, tech)
    with pytest.raises(TransitionRefused) as exc:
        sign(session, tech, donor, "eligible")
    assert any("donor.determine" in p.message for p in exc.value.problems)
    with pytest.raises(SignatureError), unit_of_work(session, actor_for(qa)):
        sign_determination(session, donor, qa, "wrong password", "eligible")
    session.refresh(donor)
    assert donor.status == "pending" and services.latest_signed(session, donor) is None


def test_incomplete_and_ineligible_donors_cannot_be_signed_eligible(session, tech, qa):
    incomplete = lf.donor(session, tech)
    with pytest.raises(TransitionRefused, match="cannot be signed eligible"):
        sign(session, qa, incomplete, "eligible")
    sign(session, qa, incomplete, "incomplete")
    assert incomplete.status == "incomplete"
    light = lf.screened_donor(session, tech, weight_kg=48.0)
    det = services.evaluate(session, light)
    assert det.outcome == "ineligible" and [r.rule_id for r in det.reasons] == ["DON-WEIGHT"]
    with pytest.raises(TransitionRefused):
        sign(session, qa, light, "eligible")
    record = sign(session, qa, light, "ineligible")
    assert json.loads(record.reasons)[0]["rule_id"] == "DON-WEIGHT"
    assert not services.donor_use_facts(session, light.id).eligible_signed


def test_late_positive_starts_lookback_and_calls_listeners(session, tech, qa):
    calls = []

    def receiver(s, donor):
        calls.append((donor.code, donor.under_lookback, donor.status))

    donor = lf.screened_donor(session, tech)
    sign(session, qa, donor, "eligible")
    with (
        donor_lookback_started.connected_to(receiver),
        unit_of_work(session, actor_for(tech), "late result from the reference lab"),
    ):
        record_serology(
            session,
            donor,
            marker="HEV",
            method="NAT",
            kit="cobas HEV",
            kit_lot="N7",
            sample_date=HARVEST + timedelta(days=2),
            test_date=TODAY,
            result="positive",
        )
    assert (donor.code, True, "ineligible") in calls
    assert donor.status == "ineligible" and donor.under_lookback
    use = services.donor_use_facts(session, donor.id)
    assert use.under_lookback and not use.eligible_signed
    last = session.scalars(
        select(StatusChange)
        .where(StatusChange.entity == "donors", StatusChange.entity_id == str(donor.id))
        .order_by(StatusChange.id.desc())
    ).first()
    assert last.to_status == "ineligible" and "Look-back" in last.reason and "DON-SER-HEV" in last.reason


def test_incomplete_after_eligible_does_not_start_lookback(session, tech, qa):
    donor = lf.screened_donor(session, tech)
    sign(session, qa, donor, "eligible")
    lf.serology(
        session,
        tech,
        donor,
        "CMV_IGM",
        "indeterminate",
        method="CLIA",
        kit="Liaison",
        kit_lot="C2",
        test_date=TODAY,
    )
    assert donor.status == "eligible" and not donor.under_lookback


def test_void_needs_a_reason_and_removes_the_entry_from_the_evaluation(session, tech):
    donor = lf.screened_donor(session, tech)
    with unit_of_work(session, actor_for(tech)):  # a recorded answer changes only with a reason (issue 18)
        record_answer(session, donor, "Q-CANCER", True, detail="basal cell carcinoma 2019", reason="recall")
    assert services.evaluate(session, donor).outcome == "ineligible"
    answer = next(a for a in active_answers(session, donor) if a.question_id == "Q-CANCER")
    with pytest.raises(Refused), unit_of_work(session, actor_for(tech)):
        void_entry(session, answer, "  ")
    with unit_of_work(session, actor_for(tech)):
        void_entry(session, answer, "entered for the wrong donor")
    assert (
        services.evaluate(session, donor).missing[0].message.startswith("Do you have, or have you ever had")
    )
    row = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "donor_answers").order_by(AuditEntry.id.desc())
    ).first()
    assert row.action == "void"


def test_medication_stop_before_start_is_refused(session, tech):
    donor = lf.donor(session, tech)
    with pytest.raises(Refused) as exc, unit_of_work(session, actor_for(tech)):
        record_medication(
            session,
            donor,
            "corticosteroid",
            "prednisolone",
            TODAY - timedelta(days=3),
            TODAY - timedelta(days=5),
        )
    assert "stop_date" in exc.value.errors


def test_autologous_donor_needs_no_determination(session, tech, qa):
    donor = lf.donor(session, tech, autologous=True)
    lf.serology(session, tech, donor, "HCV", "positive", sample_date=TODAY, test_date=TODAY)
    with pytest.raises(TransitionRefused, match="autologous"):
        sign(session, qa, donor, "ineligible", "positive HCV")
    use = services.donor_use_facts(session, donor.id)
    assert use.is_autologous and use.status == "pending" and not use.under_lookback


def test_manual_lookback_by_qa(session, tech, qa):
    donor = lf.screened_donor(session, tech)
    sign(session, qa, donor, "eligible")
    with unit_of_work(session, actor_for(qa)):
        services.start_lookback(session, donor, "recipient reported a transmitted infection")
    assert donor.status == "ineligible" and donor.under_lookback


def test_new_criteria_version_can_be_drafted_activated_and_applied(own_database):
    # Its own database: activating a new version must not change the criteria the other tests use.
    session, staff = own_database
    tech, qa, other_qa = staff.tech, staff.qa, staff.qa2
    donor = lf.screened_donor(session, tech, weight_kg=52.0)
    with unit_of_work(session, actor_for(qa)):
        seed = ensure_seed_criteria(session)
    with unit_of_work(session, actor_for(qa)):
        draft = draft_new_version(
            session, seed, {"DON-WEIGHT.min_weight_kg": 55}, 0, 7, "minimum weight raised to 55 kg", qa
        )
    assert draft.status == "draft" and parse(draft).criterion("DON-WEIGHT").param("min_weight_kg") == 55
    with pytest.raises(TransitionRefused), unit_of_work(session, actor_for(qa)):
        review_version(session, draft, qa, PASSWORD)
    with unit_of_work(session, actor_for(other_qa)):
        review_version(session, draft, other_qa, PASSWORD)
    with unit_of_work(session, actor_for(qa)):
        activate_version(session, draft, qa, PASSWORD)
    assert active_version(session).id == draft.id and seed.status == "retired"
    outcomes = dict((d.code, det.outcome) for d, det in reevaluate_all(session, draft))
    assert outcomes[donor.code] == "ineligible"
    record = sign(session, qa, donor, "ineligible")
    assert record.criteria_label == f"SSc adipose donor v{draft.number}"


@pytest.mark.parametrize("started_by", ["qa by hand", "a technician's late positive"])
def test_lookback_from_a_bare_service_call_holds_every_lot_container_and_dose_of_the_donor(
    session, make_user, started_by
):
    # Outside any request (no app, no Flask context): the look-back reaches lots and doses only through
    # the receivers bank.app.wire_domains connected (tests/conftest.py wires them, as the CLI does).
    from flask import has_app_context

    from lots import services as lot_services
    from tests.factories import doses as fd

    staff = fd.Staff(make_user)
    donor = fd.lf.signed_donor(session, staff.tech, staff.qa)
    released = fd.cell_lot(session, staff, donor=donor, n=2)
    in_process = fd.lf.harvest(session, staff.tech, donor)  # a second lot of the same donor, still in process
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    allocation = fd.allocate(
        session, staff.clinician, patient, 1, fd.planned(fd.TODAY), [fd.containers(session, released)[0].id]
    )
    assert allocation.status == "allocated" and not has_app_context()
    if started_by == "qa by hand":
        with unit_of_work(session, actor_for(staff.qa), "look-back"):
            services.start_lookback(session, donor, "recipient reported a transmitted infection")
    else:
        with unit_of_work(session, actor_for(staff.tech), "late result from the reference lab"):
            record_serology(
                session,
                donor,
                marker="HIV",
                method="NAT",
                kit="cobas HIV",
                kit_lot="N8",
                sample_date=fd.lf.HARVEST_DAY,
                test_date=TODAY,
                result="positive",
            )
    assert donor.under_lookback and donor.status == "ineligible"
    lots = lot_services.lots_of_donor(session, donor.id)
    assert {lot.id for lot in lots} >= {released.id, in_process.id}
    assert all(lot.status == "on_hold" for lot in lots), [(lot.din, lot.status) for lot in lots]
    containers = [c for lot in lots for c in lot_services.containers_of(session, lot)]
    assert len(containers) >= 2 and all(c.on_hold for c in containers)
    session.refresh(allocation)
    assert allocation.status == "on_hold" and donor.code in allocation.hold_reason
