"""Factories for doses tests: released containers, enrolled patients and randomisation lists made through
the real donor, lot, release and doses services (never by setting a status)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from bank.uow import unit_of_work
from bank.users import actor_for
from doses import services
from doses.models import ProtocolVersion
from doses.reference import get_protocol
from doses.rules.protocol import CriterionKind
from lots import services as lot_services
from release import services as release_services
from release.specs import CELLS_UNIT
from tests.factories import lots as lf
from tests.factories import release as fr
from tests.support import PASSWORD

TODAY = lf.TODAY


class Staff:
    """The people a dose needs: technician, QA verifier, a second QA who releases, an investigator."""

    def __init__(self, make_user):
        self.tech = make_user("technician")
        self.qa = make_user("qa")
        self.qa2 = make_user("qa")
        self.clinician = make_user("clinical")
        self.pharmacist = make_user("clinical", unblinded=True)


def _store(session, tech, lot):
    box = lf.box(session, tech, rows=9, cols=9)
    with unit_of_work(session, actor_for(tech), "stored"):
        lot_services.store_lot_containers(session, lot, box, 1, 1)


# The dose scenarios run trial schedules over the past year (doses given 24 weeks ago and today); no
# dose may be given before its lot's release, so the factories' lots count as released this long ago.
RELEASED_DAYS_AGO = 400


def _release(session, staff, lot, overrides, conditional=False):
    with unit_of_work(session, actor_for(staff.tech), "submitted for QC"):
        lot_services.submit_for_qc(session, lot)
    fr.complete_results(session, staff.tech, staff.qa, lot, overrides)
    fr.release(session, staff.qa2, lot, conditional=conditional)
    record = release_services.release_record(session, lot)
    with unit_of_work(
        session, actor_for(staff.qa2), "test scenario: the lot was released before the schedule"
    ):
        record.decided_at = record.decided_at - timedelta(days=RELEASED_DAYS_AGO)


def _grown(session, staff, donor, key, tissue_amount):
    lot = lf.harvest(session, staff.tech, donor, key=key, **tissue_amount)
    lf.isolate(session, staff.tech, staff.qa, lot)
    lf.passage(session, staff.tech, staff.qa, lot, 1.0e6, 1.6e7)  # P0: 4 PD
    lf.passage(session, staff.tech, staff.qa, lot, 1.0e7, 6.4e8)  # P1: 6 PD, 640 × 10⁶ cells
    return lot


def cell_lot(
    session,
    staff,
    *,
    key="AT-MSC-ALLO",
    donor=None,
    n=3,
    cells=5.0e7,
    volume_ml=50.0,
    endotoxin="0.12",
    frozen_at=None,
    release=True,
    conditional=False,
):
    """A lot of `key` formulated into n containers of `cells` viable cells, stored, and (by default)
    released with every seed test passing and the given endotoxin result in EU/mL."""
    if donor is None:
        donor = (
            lf.screened_donor(session, staff.tech, autologous=True)
            if key == "BM-MSC-AUTO"
            else lf.signed_donor(session, staff.tech, staff.qa)
        )
    amount = {"mass_g": None, "volume_ml": 30.0} if key == "BM-MSC-AUTO" else {}
    lot = _grown(session, staff, donor, key, amount)
    lf.formulate(session, staff.tech, lot, n, "bag", cells, volume_ml, frozen_at=frozen_at)
    _store(session, staff.tech, lot)
    if release:
        overrides = {
            "ENDOTOXIN": (endotoxin, "EU/mL", None),
            "CELLS-PER-CONTAINER": (f"{cells / 1e6:g}", CELLS_UNIT, None),
        }
        if conditional:
            overrides["STERILITY"] = ("no growth to date", "", None)
        _release(session, staff, lot, overrides, conditional)
    return lot


def placebo_lot(session, staff, *, n=3, volume_ml=50.0, endotoxin="0.05", frozen_at=None):
    """Suspension media for blinded trials: no donor, 0 cells, released on its safety tests; frozen an
    hour ago unless `frozen_at` says when."""
    placebo = lf.product(session, "PLACEBO-MEDIA")
    with unit_of_work(session, actor_for(staff.tech), "placebo lot"):
        lot = lot_services.create_placebo_lot(session, fin=lf.FIN, product_type_id=placebo.id)
        lot_services.formulate_containers(
            session,
            lot,
            n_containers=n,
            container_type="bag",
            cells_per_container=0,
            volume_ml=volume_ml,
            cryoprotectant="10 % DMSO",
            frozen_at=frozen_at or datetime.now(UTC) - timedelta(hours=1),
        )
    _store(session, staff.tech, lot)
    _release(session, staff, lot, {"ENDOTOXIN": (endotoxin, "EU/mL", None)})
    return lot


def containers(session, lot):
    return lot_services.containers_of(session, lot)


def protocol_row(session, code: str) -> ProtocolVersion:
    with unit_of_work(session, lf._system(), "seed protocols"):
        services.ensure_seed_protocols(session)
    return next(r for r in services.active_protocols(session) if r.code == code)


def subject_id(code: str) -> str:
    return f"{code.upper()}-S{uuid.uuid4().hex[:6].upper()}-001"


def yes_answers(code: str) -> dict[str, str]:
    """Every attested inclusion item met, every exclusion item absent."""
    return {
        c.id: "yes" if c.kind is CriterionKind.INCLUSION else "no"
        for c in get_protocol(code).checklist
        if not c.computed
    }


def registered_patient(
    session,
    user,
    code: str,
    *,
    donor=None,
    dob=date(1980, 5, 1),
    weight=70.0,
    weighed_on=None,
    first_dose_on=None,
    sex="F",
):
    row = protocol_row(session, code)
    with unit_of_work(session, actor_for(user), "patient registered"):
        return services.register_patient(
            session,
            protocol_version_id=row.id,
            subject_id=subject_id(code),
            site=row.protocol().sites[0],
            sex=sex,
            date_of_birth=dob,
            first_dose_on=first_dose_on or TODAY,
            donor_code=donor.code if donor else None,
            weight_kg=weight,
            weight_measured_on=weighed_on or TODAY,
        )


def attest(session, user, patient, answers=None, edss="4.0", diagnosis=None, evaluation=None):
    with unit_of_work(session, actor_for(user), "eligibility"):
        return services.attest_eligibility(
            session,
            patient,
            user,
            PASSWORD,
            evaluation_date=evaluation or TODAY,
            edss=edss,
            diagnosis_date=diagnosis or TODAY - timedelta(days=5 * 365),
            answers=answers or yes_answers(patient.protocol_version.code),
        )


def enrolled_patient(session, user, code: str, **kw):
    patient = registered_patient(session, user, code, **kw)
    attest(session, user, patient)
    return patient


def randomise(session, user, patient, sequence: str):
    row = patient.protocol_version
    data = f"subject_id,sequence\n{patient.subject_id},{sequence}\n".encode()
    with unit_of_work(session, actor_for(user), "randomisation list"):
        return services.import_randomisation(session, row, "list.csv", data)


def planned(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def weigh(session, user, patient, kg: float, on: date):
    with unit_of_work(session, actor_for(user), "weight"):
        return services.record_weight(session, patient, kg, on)


def allocate(session, user, patient, dose: int, when: datetime, container_ids=None):
    with unit_of_work(session, actor_for(user), "allocation"):
        return services.allocate_dose(session, patient, dose, when, container_ids)


def administer(session, user, allocation, when: datetime):
    with unit_of_work(session, actor_for(user), "administered"):
        services.record_administration(session, allocation, when)


def maestro_dose(session, staff, lot, days_ago: int = 30, give: bool = True):
    """A MAESTRO-4MS patient allocated dose 1 `days_ago` days ago from the first free container of `lot`
    (stored, not on hold), and given it unless `give` is false: the patient and the allocation."""
    patient = enrolled_patient(
        session,
        staff.clinician,
        "MAESTRO-4MS",
        first_dose_on=TODAY - timedelta(days=days_ago),
        weighed_on=TODAY - timedelta(days=days_ago + 1),
    )
    when = planned(TODAY - timedelta(days=days_ago))
    free = [c for c in containers(session, lot) if c.status == "stored" and not c.on_hold]
    allocation = allocate(session, staff.clinician, patient, 1, when, [free[0].id])
    if give:
        administer(session, staff.clinician, allocation, when)
    return patient, allocation
