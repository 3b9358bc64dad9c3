"""Builds the demo facility step by step through the real services, as the staff would: every record
is attributed, audited and signed. Dates are relative to today so the demo always looks current."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bank.uow import unit_of_work
from demo.people import Staff, as_
from donors import services as donor_services
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CRITERIA
from donors.services import record_answers, record_medication, record_serology, sign_determination
from donors.services.criteria import ensure_seed_criteria
from lots import services as lots
from release import services as release
from release.specs import CELLS_UNIT

# One passing QC result per test code of the seed specifications: (value, unit, markers). The
# test factories use the same table.
PASSING = {
    "IDENTITY-ISCT2006": (
        "",
        "%",
        {
            "CD73": "98.1",
            "CD90": "99.0",
            "CD105": "96.4",
            "CD45": "0.4",
            "CD34": "0.3",
            "CD14": "0.8",
            "CD19": "0.2",
            "HLA-DR": "1.1",
        },
    ),
    "IDENTITY-IFATS2013": (
        "",
        "%",
        {
            "CD90": "97.0",
            "CD73": "95.5",
            "CD105": "88.0",
            "CD44": "99.2",
            "CD45": "0.7",
            "CD31": "0.5",
            "CD235a": "0.1",
        },
    ),
    "ADHERENCE": ("adherent", "", None),
    "VIABILITY": ("91.5", "%", None),
    "STERILITY": ("no growth", "", None),
    "MYCOPLASMA": ("not detected", "", None),
    "ENDOTOXIN": ("0.12", "EU/mL", None),
    "CELLS-PER-CONTAINER": ("20", CELLS_UNIT, None),
    "KARYOTYPE": ("normal", "", None),
    "TRILINEAGE": ("osteo, adipo, chondro positive", "", None),
    "POTENCY": ("34", "%", None),
}


class Facility:
    def __init__(
        self,
        session,
        staff: Staff,
        fin: str,
        password: str,
        zone: str = "Europe/Paris",
        facility_name: str = "Cell Therapy Unit",
    ):
        self.s, self.staff, self.fin, self.password = session, staff, fin, password
        self.zone, self.facility_name = zone, facility_name
        self.today = donor_services.today()
        self.products = {}
        self.boxes = []

    def work(self, user, reason):
        return unit_of_work(self.s, as_(user), reason)

    # --- reference data -----------------------------------------------------------------------
    def reference_data(self) -> None:
        with self.work(self.staff.qa, "demo: reference data"):
            ensure_seed_criteria(self.s)
            lots.seed_product_types(self.s)
            release.ensure_seed_specifications(self.s)
            for p in lots.active_product_types(self.s):
                self.products[p.key] = p
            collagenase = lots.add_material(self.s, "Collagenase NB6", "Nordmark", "N0002779", False)
            lots.add_material_lot(
                self.s, collagenase, "C24-0117", self.today + timedelta(days=240), "approved"
            )
            lysate = lots.add_material(self.s, "Human platelet lysate", "Macopharma", "BC0190", False)
            lots.add_material_lot(self.s, lysate, "PL-2611", self.today + timedelta(days=120), "approved")
            fbs = lots.add_material(self.s, "Fetal bovine serum", "Gibco", "A5256701", True)
            lots.add_material_lot(self.s, fbs, "FBS-9981", self.today - timedelta(days=3), "approved")
        with self.work(self.staff.tech, "demo: storage"):
            for tank, box in (("LN2-Tank 1", "Box A"), ("LN2-Tank 1", "Box B"), ("LN2-Tank 2", "Box C")):
                self.boxes.append(
                    lots.create_box(
                        self.s,
                        site="Cell Therapy Unit, Toulouse",
                        tank=tank,
                        rack="Rack 3",
                        name=box,
                        row_count=9,
                        col_count=9,
                    )
                )

    # --- donors -------------------------------------------------------------------------------
    def donor(
        self,
        *,
        harvest_day: date,
        weight=68.0,
        autologous=False,
        sex="F",
        born=date(1984, 6, 12),
        answers_yes: dict | None = None,
        positive: tuple[str, ...] = (),
        skip_markers=(),
        steroid_days=0,
    ):
        tech = self.staff.tech
        with self.work(tech, "demo: donor registered"):
            d = donor_services.register_donor(
                self.s,
                sex=sex,
                birth_date=born,
                consent_version="ICF v2.1",
                consent_date=harvest_day - timedelta(days=14),
                weight_kg=weight,
                height_cm=168.0,
                is_autologous=autologous,
            )
        with self.work(tech, "demo: screening"):
            donor_services.set_harvest_date(self.s, d, harvest_day)
            answers = {q.question_id: (False, None, "") for q in CRITERIA.questions}
            for qid, when in (answers_yes or {}).items():
                answers[qid] = (True, when, "reported at the screening visit")
            record_answers(self.s, d, answers)
            if steroid_days:
                start = harvest_day - timedelta(days=30)
                record_medication(
                    self.s,
                    d,
                    "corticosteroid",
                    "prednisolone 20 mg",
                    start,
                    start + timedelta(days=steroid_days - 1),
                )
            for marker in CRITERIA.required_markers:
                if marker in skip_markers:
                    continue
                record_serology(
                    self.s,
                    d,
                    marker=marker,
                    method="CMIA",
                    kit="Architect",
                    kit_lot="K2611",
                    sample_date=harvest_day,
                    test_date=harvest_day + timedelta(days=1),
                    result="positive" if marker in positive else "negative",
                )
        return d

    def sign(self, d, decision: str, comment: str = ""):
        with self.work(self.staff.qa, "demo: determination signed"):
            sign_determination(self.s, d, self.staff.qa, self.password, decision, comment)

    # --- lots ---------------------------------------------------------------------------------
    def harvest(self, d, key: str, harvest_day: date, tier="dose"):
        p = self.products[key]
        amount = (
            {"mass_g": None, "volume_ml": 30.0}
            if p.tissue == "bone_marrow_aspirate"
            else {"mass_g": 52.0, "volume_ml": None}
        )
        with self.work(self.staff.tech, "demo: harvest recorded"):
            return lots.record_harvest(
                self.s,
                fin=self.fin,
                donor_id=d.id,
                product_type_id=p.id,
                tissue=p.tissue,
                collected_at=datetime.combine(harvest_day, time(8, 30), tzinfo=UTC),
                site="Clinique Pasteur, Toulouse",
                operator="Dr Martin",
                tier=tier,
                **amount,
            )

    def grow(self, lot, harvest_day: date, passages=((1.0e6, 1.6e7), (1.0e7, 6.4e8))):
        tech, verifier = self.staff.tech, self.staff.tech2
        with self.work(tech, "demo: isolation"):
            iso = lots.record_isolation(
                self.s,
                lot,
                cell_count=2.4e7,
                viability_pct=93.0,
                isolated_on=harvest_day,
                operator="A. Moreau",
            )
        with self.work(verifier, "demo: isolation verified"):
            lots.verify_entry(self.s, iso)
        for i, (seeded, harvested) in enumerate(passages):
            with self.work(tech, "demo: passage"):
                p = lots.record_passage(
                    self.s,
                    lot,
                    seeded_cells=seeded,
                    harvested_cells=harvested,
                    viability_pct=94.0,
                    vessels=4,
                    seeded_on=harvest_day + timedelta(days=1 + 7 * i),
                    harvested_on=harvest_day + timedelta(days=7 + 7 * i),
                    operator="A. Moreau",
                )
            with self.work(verifier, "demo: passage verified"):
                lots.verify_entry(self.s, p)

    def freeze(self, lot, n: int, cells: float, volume_ml: float, box_index: int, row: int):
        with self.work(self.staff.tech, "demo: formulation"):
            lots.formulate_containers(
                self.s,
                lot,
                n_containers=n,
                container_type="bag",
                cells_per_container=cells,
                volume_ml=volume_ml,
                cryoprotectant="10 % DMSO in Plasma-Lyte",
                frozen_at=datetime.now(UTC) - timedelta(hours=2),
            )
        with self.work(self.staff.tech, "demo: storage"):
            lots.store_lot_containers(self.s, lot, self.boxes[box_index], row, 1)

    def test_and_decide(
        self,
        lot,
        overrides: dict | None = None,
        decision: str = "release",
        reason: str = "",
        cells: float | None = None,
    ):
        with self.work(self.staff.tech, "demo: submitted for QC"):
            lots.submit_for_qc(self.s, lot)
        with self.work(self.staff.tech, "demo: release record"):
            spec = release.open_release_record(self.s, lot).specification.spec()
        overrides = dict(overrides or {})
        if cells is not None:
            overrides.setdefault("CELLS-PER-CONTAINER", (f"{cells / 1e6:g}", CELLS_UNIT, None))
        for test in spec.tests:
            value, unit, markers = overrides.get(test.code, PASSING[test.code])
            with self.work(self.staff.tech, "demo: result entered"):
                result = release.enter_result(
                    self.s,
                    lot,
                    test_code=test.code,
                    method="validated method",
                    instrument="QC laboratory",
                    performed_on=self.today - timedelta(days=2),
                    confirm_out_of_specification=True,  # the demo's failing lot is meant
                    value=value,
                    unit=unit,
                    markers=markers,
                )
            with self.work(self.staff.qa, "demo: result verified"):
                release.verify_result(self.s, result)
        with self.work(self.staff.qa2, f"demo: lot {decision}"):
            if decision == "release":
                release.release_lot(self.s, lot, self.staff.qa2, self.password)
            elif decision == "reject":
                release.reject_lot(self.s, lot, self.staff.qa2, self.password, reason)

    def placebo(self, n: int, box_index: int, row: int):
        with self.work(self.staff.tech, "demo: placebo lot"):
            lot = lots.create_placebo_lot(
                self.s, fin=self.fin, product_type_id=self.products["PLACEBO-MEDIA"].id
            )
        # Filled exactly like the MSC bags of the blinded trials it serves (50 mL bag, same storage and shelf
        # life): a placebo of another fill is refused at formulation (issue 16, matched presentation).
        self.freeze(lot, n, 0, 50.0, box_index, row)
        self.test_and_decide(lot, {"ENDOTOXIN": ("0.05", "EU/mL", None)})
        return lot
