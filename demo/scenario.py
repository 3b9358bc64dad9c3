"""The demo story: who did what, in the order a facility would. Each part names what it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bank.i18n import t
from demo.custody import custody_stories
from demo.facility import Facility
from donors import services as donor_services
from doses import services as doses
from doses.reference import get_protocol
from doses.rules.protocol import CriterionKind

# The demo's phases, in order: `flask demo` says each one as it starts, with a step counter.
PHASES = (
    t("reference data: donor criteria, specifications, product types, materials"),
    t("donors registered, screened and their eligibility signed"),
    t("lots at every stage: harvests, passages, containers stored, QC results, release and rejection"),
    t("a look-back, a deviation, autologous lots and placebo"),
    t("trial patients enrolled and their first doses allocated"),
    t("labels printed and chains of custody recorded"),
)


def _no_progress(step: int, total: int, phase: str) -> None:
    pass


def build(f: Facility, progress=_no_progress) -> dict:
    """Donors, lots at every stage, released doses in storage, enrolled patients with allocations.
    `progress(step, total, phase)` is told each phase of PHASES as it starts. Returns a short summary for
    the command line."""

    def phase(n: int) -> None:
        progress(n + 1, len(PHASES), PHASES[n])

    phase(0)
    f.reference_data()
    day = f.today - timedelta(days=24)
    phase(1)

    # Donors for the allogeneic adipose bank (SSc programme and MAESTRO-4MS).
    bank_donor = f.donor(harvest_day=day)
    f.sign(bank_donor, "eligible")
    second_donor = f.donor(harvest_day=day - timedelta(days=3), sex="M", born=date(1979, 1, 23), weight=81.0)
    f.sign(second_donor, "eligible")
    hiv = f.donor(harvest_day=day, positive=("HIV",), born=date(1990, 9, 9))
    f.sign(hiv, "ineligible")
    several = f.donor(
        harvest_day=day, weight=47.5, steroid_days=6, answers_yes={"Q-STEROID": None}, born=date(1972, 2, 2)
    )
    f.sign(several, "ineligible")
    incomplete = f.donor(harvest_day=day, skip_markers=("HEV", "CMV_IGM"), born=date(1995, 4, 4))
    f.sign(incomplete, "incomplete")  # QA signs that the file is incomplete: quarantine continues
    lookback_donor = f.donor(harvest_day=day - timedelta(days=5), born=date(1988, 8, 8))
    f.sign(lookback_donor, "eligible")

    # Autologous bone-marrow donors: MESEMS patients give their own marrow.
    auto = [
        f.donor(harvest_day=day, autologous=True, born=date(1986, 3, 3 + i), sex="FM"[i % 2], weight=70.0)
        for i in range(2)
    ]

    # Lots at each stage.
    phase(2)
    in_process = f.harvest(bank_donor, "AT-MSC-ALLO", day, tier="working")
    with f.work(f.staff.tech, "demo: isolation"):
        from lots import services as lots

        lots.record_isolation(
            f.s, in_process, cell_count=1.8e7, viability_pct=91.0, isolated_on=day, operator="B. Laurent"
        )
    ssc_lot = f.harvest(bank_donor, "AT-MSC-ALLO", day)
    f.grow(ssc_lot, day)
    f.freeze(ssc_lot, 6, 6.5e7, 50.0, 0, 1)
    f.test_and_decide(ssc_lot, cells=6.5e7)
    maestro_lot = f.harvest(second_donor, "AT-MSC-ALLO", day - timedelta(days=3))
    f.grow(maestro_lot, day - timedelta(days=3))
    f.freeze(maestro_lot, 6, 5.0e7, 5.0, 1, 1)
    f.test_and_decide(maestro_lot, cells=5.0e7)
    awaiting = f.harvest(second_donor, "AT-MSC-ALLO", day - timedelta(days=3))
    f.grow(awaiting, day - timedelta(days=3))
    f.freeze(awaiting, 4, 5.0e7, 5.0, 1, 3)
    with f.work(f.staff.tech, "demo: submitted for QC"):
        lots.submit_for_qc(f.s, awaiting)
    rejected = f.harvest(second_donor, "AT-MSC-ALLO", day - timedelta(days=3))
    f.grow(rejected, day - timedelta(days=3))
    f.freeze(rejected, 2, 5.0e7, 5.0, 1, 5)
    f.test_and_decide(
        rejected,
        {"STERILITY": ("growth detected", "", None)},
        decision="reject",
        reason="Sterility: Staphylococcus epidermidis in the aerobic bottle",
        cells=5.0e7,
    )
    phase(3)
    lookback_lot = f.harvest(lookback_donor, "AT-MSC-ALLO", day - timedelta(days=5))
    f.grow(lookback_lot, day - timedelta(days=5))
    f.freeze(lookback_lot, 3, 5.0e7, 5.0, 1, 6)
    f.test_and_decide(lookback_lot, cells=5.0e7)
    with f.work(f.staff.qa, "demo: late positive HEV result reported by the reference laboratory"):
        donor_services.start_lookback(f.s, lookback_donor, "HEV RNA positive on the retained sample")
    with f.work(f.staff.tech, "demo: deviation"):
        lots.record_deviation(
            f.s,
            in_process,
            description="Incubator door alarm for 6 minutes during P0",
            impact="Temperature stayed at 36.1 °C; no impact expected",
            corrective_action="Door seal replaced",
        )
    auto_lots = []
    for i, d in enumerate(auto):
        lot = f.harvest(d, "BM-MSC-AUTO", day)
        f.grow(lot, day)
        f.freeze(lot, 2, 1.0e8, 50.0, 2, 1 + i)
        f.test_and_decide(lot, cells=1.0e8)
        auto_lots.append(lot)
    f.placebo(6, 2, 4)

    # Trials: patients enrolled, randomised, allocated; labels printed; custody chains.
    phase(4)
    allocations = enrol_patients(f, auto)
    phase(5)
    custody_stories(f, allocations, f.zone, f.facility_name)
    return summary(f.s)


def summary(session) -> dict:
    """What the database now holds, counted (not assumed)."""
    from sqlalchemy import func, select

    from donors.models import Donor
    from doses.custody.models import CustodyEvent
    from doses.models import Allocation, Patient
    from lots.models import Container, Lot

    def by_status(model):
        return dict(session.execute(select(model.status, func.count()).group_by(model.status)).all())

    return {
        "donors": by_status(Donor),
        "lots": by_status(Lot),
        "containers": session.scalar(select(func.count()).select_from(Container)),
        "patients": session.scalar(select(func.count()).select_from(Patient)),
        "allocations": by_status(Allocation),
        "custody events": session.scalar(select(func.count()).select_from(CustodyEvent)),
    }


def _yes(code: str) -> dict[str, str]:
    return {
        c.id: "yes" if c.kind is CriterionKind.INCLUSION else "no"
        for c in get_protocol(code).checklist
        if not c.computed
    }


def enrol_patients(f: Facility, auto_donors) -> dict:
    """Patients of the three trials, each with dose 1 allocated; the last allocation per protocol."""
    clin, pharm = f.staff.clinician, f.staff.pharmacist
    with f.work(clin, "demo: protocols"):
        doses.ensure_seed_protocols(f.s)
    rows = {r.code: r for r in doses.active_protocols(f.s)}
    plans = [
        ("MESEMS", f"MESEMS-01-{i + 1:03d}", auto_donors[i], 70.0, seq)
        for i, seq in enumerate(("MSC-PLACEBO", "PLACEBO-MSC"))
    ]
    plans += [
        ("MAESTRO-4MS", "MAESTRO-4MS-01-001", None, 72.0, None),
        ("MSC-AT-SSc", "MSC-AT-SSC-01-001", None, 65.0, "MSC-PLACEBO"),
    ]
    allocations = {}
    for code, subject, donor, weight, sequence in plans:
        row = rows[code]
        with f.work(clin, "demo: patient registered"):
            p = doses.register_patient(
                f.s,
                protocol_version_id=row.id,
                subject_id=subject,
                site=row.protocol().sites[0],
                sex="F",
                date_of_birth=date(1980, 5, 1),
                first_dose_on=f.today,
                donor_code=donor.code if donor else None,
                weight_kg=weight,
                weight_measured_on=f.today,
            )
        with f.work(clin, "demo: eligibility attested"):
            doses.attest_eligibility(
                f.s,
                p,
                clin,
                f.password,
                evaluation_date=f.today,
                edss="4.0",
                diagnosis_date=f.today - timedelta(days=5 * 365),
                answers=_yes(code),
            )
        if sequence:
            with f.work(pharm, "demo: randomisation list"):
                doses.import_randomisation(
                    f.s, row, f"{subject}.csv", f"subject_id,sequence\n{p.subject_id},{sequence}\n".encode()
                )
        with f.work(pharm, "demo: dose 1 allocated"):
            allocations[code] = doses.allocate_dose(
                f.s, p, 1, datetime.combine(f.today, time(10), tzinfo=UTC)
            )
    return allocations
