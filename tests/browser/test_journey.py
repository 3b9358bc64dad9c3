"""Issue 8 item 2: the full journey through the real pages, by different people, each in their own browser
context, on a fresh installation (its own live server and database, so it starts with the first start).

The administrator changes the first-start password and creates the staff; each person changes the one-time
password at first sign-in. A technician registers and screens a donor (every questionnaire answer chosen,
nothing preselected; the serology panel on one form); QA signs the eligibility determination; a technician
records the harvest for the typed donor code, the isolation and two passages in date order, which a second
technician verifies on the signed confirmation page, formulates the containers and stores them; the analyst
enters every QC result of the lot's specification on the QC panel (qualitative results as controlled terms), a
QA person verifies them on the signed confirmation page and is then not offered the release (four eyes, the
reason said), a second QA person releases with an e-signature; a clinical user registers a MAESTRO-4MS
(open-label) patient, signs the enrolment checklist and allocates dose 1; its label is printed from the POST
form of the custody page (PDF: text read back, bar codes decoded); the dose goes from the cryostore to the
patient through custody hand-offs, each signed by two people, with the DIN typed with its check character (a
mistyped one is refused) and the label's Data Matrix scanned at the bedside; the custody report (PDF) is
downloaded and its digest checked on screen.
Screenshots of every step, the label and the report: test-artifacts/screenshots/<test name>/."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bank import isbt128
from donors.reference import SSC_ADIPOSE_DONOR_V1
from donors.services import today
from lots.states import RELEASE_MEANING
from tests.factories.release import PASSING
from tests.support import decoded, fill, first_started, raster, served, sign_in

pytestmark = pytest.mark.browser

FIRST_PASSWORD = "First-start-2026"
ADMIN_PASSWORD = "Keeper-of-cells-7"
PASSWORD_CHANGED = "Your password is changed. Your other sessions are ended."

TODAY = today()
HARVEST = TODAY - timedelta(days=12)  # tissue collected, serology sampled the same day
DAY = timedelta(days=1)
QC_DAY = TODAY - DAY

STEP_TIMEOUT_MS = 15_000  # fail fast on a missing element instead of Playwright's 30 s
CELLS_PER_BAG = "50"  # typed in millions (× 10⁶): MAESTRO-4MS gives 45–55 × 10⁶ viable cells per dose
QC_METHODS = {
    "IDENTITY-IFATS2013": "flow cytometry",
    "STERILITY": "Ph. Eur. 2.6.27 (BacT/ALERT)",
    "MYCOPLASMA": "Ph. Eur. 2.6.7 (NAT)",
    "ENDOTOXIN": "Ph. Eur. 2.6.14 (kinetic chromogenic LAL)",
    "VIABILITY": "7-AAD flow cytometry",
    "KARYOTYPE": "G-banding",
    "POTENCY": "IDO activity",
}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """This journey's own installation: a fresh database whose administrator has not signed in yet (the
    session-wide server of conftest.py is shared with tests that change the first-start password)."""
    db_path = tmp_path_factory.mktemp("journey") / "bank.sqlite3"
    config = {"DATABASE_URL": f"sqlite:///{db_path}", "SECRET_KEY": "browser-journey"}
    app, result = first_started(config, FIRST_PASSWORD)
    assert "administrator account 'admin' created" in result.output, result.output + repr(result.exception)
    with served(app) as server:
        yield server


@dataclass
class Person:
    username: str
    full_name: str
    role: str
    password: str
    page: object = None


STAFF = [
    Person("tech.lina", "Lina Moreau", "technician", "Bench-work-2026"),
    Person("tech.omar", "Omar Haddad", "technician", "Second-pair-of-eyes-9"),
    Person("qa.ines", "Inès Laurent", "qa", "Quality-first-2026"),
    Person("qa.marc", "Marc Dubois", "qa", "Release-desk-2026"),
    Person("clin.sara", "Sara Lefèvre", "clinical", "Ward-round-2026"),
    Person("clin.yann", "Dr Yann Kerboul", "clinical", "Intrathecal-2026"),
]


# --- small helpers: every action waits for the page it leads to -----------------------------------


def submit(page, button):
    """Click a submit button (a selector or a locator) and wait for the page the form leads to."""
    locator = page.locator(button) if isinstance(button, str) else button
    with page.expect_navigation(wait_until="load"):
        locator.click()


def follow(page, link_text: str):
    """Click a link or button-styled link in the page body by its visible text."""
    with page.expect_navigation(wait_until="load"):
        page.locator("main").get_by_role("link", name=link_text, exact=True).first.click()


def nav(page, label: str):
    with page.expect_navigation(wait_until="load"):
        page.locator("nav.navbar").get_by_role("link", name=label, exact=True).click()


def flash(page) -> str:
    return " ".join(page.locator("main > .alert").all_inner_texts())


def field_errors(page) -> str:
    return " | ".join(page.locator(".invalid-feedback, main .alert-danger").all_inner_texts())


def choose_option(page, select: str, containing: str):
    """Select the option of `select` whose visible text contains `containing` (as a person picks it)."""
    value = page.locator(f"{select} option", has_text=containing).first.get_attribute("value")
    page.select_option(select, value)


def first_sign_in(page, person: Person, one_time: str):
    sign_in(page, person.username, one_time)
    page.wait_for_url("**/account/password")
    fill(page, current_password=one_time, new_password=person.password, confirm=person.password)
    submit(page, "main button[type=submit]")
    assert PASSWORD_CHANGED in flash(page)
    assert person.full_name in page.get_by_test_id("current-user").inner_text()


# --- the journey ---------------------------------------------------------------------------------


def test_full_journey_from_first_start_to_an_administered_dose(new_page, shots):
    create_staff(new_page, shots)
    lina, omar, ines, marc, sara, yann = STAFF
    donor_url, donor_code = screen_donor(lina.page, shots)
    sign_eligibility(ines, donor_url, donor_code, shots)
    _, din = make_lot(lina.page, omar, donor_code, shots)
    qc_and_release(lina, ines, marc, din, shots)
    subject = allocate_dose(sara, din, shots)
    label_and_custody(lina, sara, yann, subject, din, shots)


def create_staff(new_page, shots):
    """Step 1: first start — the admin must change the password, then creates the staff; each person
    signs in with the one-time password and must change it."""
    admin = new_page()
    admin.set_default_timeout(STEP_TIMEOUT_MS)
    admin.goto("/")
    assert "/login" in admin.url
    sign_in(admin, "admin", FIRST_PASSWORD)
    admin.wait_for_url("**/account/password")
    shots(admin, "admin first start must change password")
    admin.fill("input[name=current_password]", FIRST_PASSWORD)
    admin.fill("input[name=new_password]", ADMIN_PASSWORD)
    admin.fill("input[name=confirm]", ADMIN_PASSWORD)
    submit(admin, "main button[type=submit]")
    assert PASSWORD_CHANGED in flash(admin)
    one_time = {}
    for person in STAFF:
        nav(admin, "Users")
        follow(admin, "New user")
        admin.fill("input[name=username]", person.username)
        admin.fill("input[name=full_name]", person.full_name)
        admin.check(f"input[name=roles][value={person.role}]")  # roles are checkboxes (issue 24)
        if person is STAFF[0]:
            shots(admin, "admin creates a technician")
        submit(admin, "main button[type=submit]")
        one_time[person.username] = admin.get_by_test_id("one-time-password").inner_text().strip()
        assert one_time[person.username]
    shots(admin, "one-time password shown once")
    nav(admin, "Users")
    for person in STAFF:
        assert admin.locator("main table", has_text=person.full_name).count() == 1
    shots(admin, "users list")
    for person in STAFF:
        person.page = new_page()
        person.page.set_default_timeout(STEP_TIMEOUT_MS)
        first_sign_in(person.page, person, one_time[person.username])
    shots(STAFF[-1].page, "clinical user signed in after changing the one-time password")
    return admin


def screen_donor(page, shots) -> tuple[str, str]:
    """Step 2: a technician registers a donor and records harvest date, questionnaire (yes/no/unknown radio
    buttons, nothing preselected) and every required serology marker on the panel form; the rules then find
    the donor eligible (QA has not signed yet)."""
    nav(page, "Donors")
    follow(page, "Register a donor")
    page.select_option("select[name=sex]", "F")
    fill(
        page,
        birth_date="1986-03-14",
        weight_kg="64",
        height_cm="167",
        consent_version="ICF-AT-MSC v3",
        consent_date=(HARVEST - 10 * DAY).isoformat(),
        full_name="Camille Girard",
    )
    shots(page, "technician registers a donor")
    submit(page, "main button[type=submit]")
    assert "registered" in flash(page)
    donor_code = page.locator("main h1 .mono").inner_text().strip()
    assert donor_code.startswith("DN-")
    donor_url = page.url

    follow(page, "Harvest date")
    page.fill("input[name=harvest_date]", HARVEST.isoformat())
    submit(page, "main button[type=submit]")

    follow(page, "Fill in / correct")
    questions = page.get_by_test_id("questionnaire-table").locator("tbody tr[data-question]")
    assert questions.count() == len(SSC_ADIPOSE_DONOR_V1.questions)
    # Nothing is preselected: every question is answered explicitly, here "no" on each row.
    assert page.locator("main input[type=radio][name^=a_]:checked").count() == 0
    for i in range(questions.count()):
        questions.nth(i).locator("input[type=radio][value=no]").check()
    shots(page, "screening questionnaire answered")
    submit(page, "main button[type=submit]")
    assert "Questionnaire saved" in flash(page), field_errors(page)

    # Every required marker on the one serology panel form: a result and a method per row; an empty kit,
    # kit lot or date takes the first filled row's, so the person types those once.
    follow(page, "Enter the panel")
    panel = page.get_by_test_id("serology-panel")
    for i, marker in enumerate(SSC_ADIPOSE_DONOR_V1.required_markers):
        row = panel.locator(f"tr[data-marker='{marker}']")
        row.locator(f"select[name='{marker}__result']").select_option("negative")
        method = "NAT" if marker in ("HIV", "HCV", "HEV") else "CMIA"
        row.locator(f"input[name='{marker}__method']").fill(method)
        if i == 0:
            row.locator(f"input[name='{marker}__kit']").fill("Alinity s")
            row.locator(f"input[name='{marker}__kit_lot']").fill("L2026-031")
            row.locator(f"input[name='{marker}__sample_date']").fill(HARVEST.isoformat())
            row.locator(f"input[name='{marker}__test_date']").fill((HARVEST + DAY).isoformat())
    assert page.locator("[data-window-warning]:visible").count() == 0  # the sample is in the window
    shots(page, "serology panel filled in")
    submit(page, panel.locator("button[type=submit]"))
    assert page.url.startswith(donor_url), field_errors(page)
    n = len(SSC_ADIPOSE_DONOR_V1.required_markers)
    assert f"{n} serology result(s) recorded." in flash(page)
    rows = page.get_by_test_id("serology-table").locator("tbody tr")
    assert rows.count() == len(SSC_ADIPOSE_DONOR_V1.required_markers)
    outcome = page.get_by_test_id("determination-panel").get_by_test_id("outcome")
    assert outcome.locator("[data-status]").get_attribute("data-status") == "eligible", page.get_by_test_id(
        "determination-panel"
    ).inner_text()
    shots(page, "donor screened rules find eligible")
    return donor_url, donor_code


def sign_eligibility(qa: Person, donor_url: str, donor_code: str, shots):
    """Step 3: QA reviews the evidence and signs the determination (password re-entry + confirmation)."""
    page = qa.page
    nav(page, "Donors")
    with page.expect_navigation(wait_until="load"):
        page.locator("main table").get_by_role("link", name=donor_code).click()
    assert page.url == donor_url
    follow(page, "Sign determination")
    page.select_option("select[name=decision]", "eligible")
    page.fill("input[name=signature_password]", qa.password)
    page.check("input[name=confirm]")
    shots(page, "QA signs the eligibility determination")
    submit(page, "main button[type=submit]")
    assert f"Determination signed: donor {donor_code} is eligible." in flash(page)
    signature = page.locator("#signatures").get_by_test_id("signature")
    assert qa.full_name in signature.inner_text() and "eligibility" in signature.inner_text().lower()
    shots(page, "donor signed eligible")


def make_lot(tech, checker, donor_code: str, shots) -> tuple[str, str]:
    """Step 4: harvest (opens the lot with its DIN), isolation, two passages verified by a second
    technician, a storage box, formulation into four bags, storage, submission for QC."""
    page = tech
    nav(page, "Lots")
    follow(page, "Record a harvest")
    # The donor code is typed (or scanned) from the donor's file; the page says whether it may be harvested.
    page.locator("input[name=donor_code]").type(donor_code)
    page.get_by_test_id("donor-hint").filter(has_text=f"{donor_code}: eligible").wait_for()
    choose_option(page, "select[name=product_type_id]", "AT-MSC-ALLO")
    page.select_option("select[name=tissue]", "lipoaspirate")
    fill(
        page,
        mass_g="52.5",
        collected_at=f"{HARVEST.isoformat()}T09:30",
        site="Rennes University Hospital, plastic surgery",
        operator="Dr Le Goff",
    )
    page.select_option("select[name=tier]", "dose")
    shots(page, "technician records the harvest")
    submit(page, "main button[type=submit]")
    assert "Harvest recorded: lot" in flash(page), field_errors(page)
    assert "quarantined" not in flash(page)  # the donor was signed eligible before the harvest
    lot_url = page.url
    din = page.locator("main h1 .mono").inner_text().replace(" ", "")

    follow(page, "Record isolation")
    # cell_count: × 10⁶ beside the field (issue 24)
    fill(page, cell_count="21", viability_pct="92", isolated_on=HARVEST.isoformat(), operator="L. Moreau")
    submit(page, "main button[type=submit]")
    assert page.url == lot_url, field_errors(page)
    for seeded, harvested, start, end in (("1", "16", 1, 5), ("10", "640", 5, 9)):
        follow(page, "Record passage")
        fill(
            page,
            seeded_cells=seeded,
            harvested_cells=harvested,
            viability_pct="95",
            vessels="4",
            seeded_on=(HARVEST + start * DAY).isoformat(),
            harvested_on=(HARVEST + end * DAY).isoformat(),
            operator="L. Moreau",
        )
        submit(page, "main button[type=submit]")
        assert page.url == lot_url, field_errors(page)
    # The person who entered them sees no Verify link on their own entries.
    assert page.locator("main a", has_text="Verify").count() == 0
    assert "not verified" in page.locator("tr[data-entry=P1]").inner_text()
    shots(page, "passages entered waiting for a second person")

    # The second technician reviews the three entries side by side and verifies them with one signature.
    verifier = checker.page
    verifier.goto(lot_url)
    assert verifier.locator("main a", has_text="Verify").count() == 3  # isolation, P0, P1
    nav(verifier, "Entries to verify")
    verifier.fill("input[name=subject]", din)
    submit(verifier, "form.filter button")
    assert verifier.get_by_test_id("entries-to-verify").locator("tbody tr").count() == 3
    follow(verifier, "Review all 3 on this page and sign")
    assert verifier.get_by_test_id("entries-to-sign").locator(".card").count() == 3
    verifier.locator("input[name=confirm]").check()
    verifier.locator("input[name=signature_password]").fill(checker.password)
    shots(verifier, "second technician reviews three entries before signing")
    submit(verifier, "main form button[type=submit]")
    assert "3 entries verified" in flash(verifier), field_errors(verifier)
    verifier.goto(lot_url)
    assert verifier.get_by_test_id("cumulative-pd").inner_text() == "10.00"
    assert verifier.locator("main").get_by_test_id("verification").count() == 3
    shots(verifier, "second technician verified isolation and passages")

    nav(page, "Storage")
    follow(page, "New box")
    fill(page, site="Rennes CTU", tank="LN2-03", rack="R4", name="B12", row_count="9", col_count="9")
    submit(page, "main button[type=submit]")
    assert "created" in flash(page), field_errors(page)

    page.goto(lot_url)
    follow(page, "Formulate containers")
    page.fill("input[name=n_containers]", "4")
    page.select_option("select[name=container_type]", "bag")
    fill(
        page,
        cells_per_container=CELLS_PER_BAG,
        volume_ml="5",
        cryoprotectant="10 % DMSO",
        frozen_at=f"{(HARVEST + 10 * DAY).isoformat()}T14:00",
    )
    shots(page, "formulation into four bags")
    submit(page, "main button[type=submit]")
    assert "4 containers formulated" in flash(page), field_errors(page)
    page.goto(lot_url)
    follow(page, "Store containers")
    choose_option(page, "select[name=box_id]", "B12")
    fill(page, row="1", col="1")
    submit(page, "main button[type=submit]")
    assert "4 containers of lot" in flash(page), field_errors(page)
    shots(page, "containers in the box grid")

    page.goto(lot_url)
    submit(page, page.locator("main button", has_text="Submit for QC"))
    assert page.locator("main h1 [data-status]").first.get_attribute("data-status") == "awaiting_qc", (
        field_errors(page)
    )
    assert page.locator("tr[data-container]").count() == 4
    shots(page, "lot submitted for QC")
    return lot_url, din


def open_qc_page(page, din: str):
    nav(page, "Release")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("queue").locator(f"a[data-din='{din}']").click()


def qc_and_release(analyst: Person, qa: Person, qa2: Person, din: str, shots):
    """Step 5: every QC result of the specification entered by the analyst on the QC panel, verified by one
    QA person (signed confirmation page) who is then not offered the release (four eyes), released by a
    second QA person with an e-signature."""
    # A fresh installation has no specification stored yet: QA stores the seed ones.
    open_qc_page(qa.page, din)
    shots(qa.page, "QC page before any specification is stored")
    nav(qa.page, "Release")
    follow(qa.page, "Specifications")
    submit(qa.page, qa.page.locator("main button", has_text="Store missing seed specifications"))
    assert "seed specification(s) stored" in flash(qa.page)

    page = analyst.page
    open_qc_page(page, din)
    assert "AT-MSC-ALLO" in page.get_by_test_id("spec-version").inner_text()
    rows = page.get_by_test_id("results").locator("tbody tr[data-test]")
    codes = [rows.nth(i).get_attribute("data-test") for i in range(rows.count())]
    assert codes, "the lot's specification lists no test"
    # Every result on the QC panel: one row per test of the specification, the date typed once; the
    # qualitative results are the specification's controlled terms ("no growth", "not detected", …).
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("panel-link").click()
    panel = page.get_by_test_id("panel-form")
    assert sorted(
        panel.locator("tr[data-row]").evaluate_all("rows => rows.map(r => r.dataset.row)")
    ) == sorted(codes)
    panel.locator("input[name=performed_on]").fill(QC_DAY.isoformat())
    panel.locator("input[name=method]").fill("validated method (SOP QC-general)")
    for code in codes:
        row = panel.locator(f"tr[data-row='{code}']")
        value, unit, markers = PASSING[code]
        if code == "CELLS-PER-CONTAINER":
            value = CELLS_PER_BAG  # the QC result is in 10⁶ cells too
        if markers:
            for marker, pct in markers.items():
                row.locator(f"input[name='{code}__m_{marker}']").fill(pct)
        else:
            row.locator(f"input[name='{code}__value']").fill(value)
        if row.locator(f"input[name='{code}__unit']").count():
            row.locator(f"input[name='{code}__unit']").fill(unit)
        if code in QC_METHODS:
            row.locator(f"input[name='{code}__method']").fill(QC_METHODS[code])
    shots(page, "analyst enters the QC panel")
    submit(page, panel.locator("button[type=submit]"))
    assert f"{len(codes)} result(s) recorded" in flash(page), field_errors(page)
    verdicts = page.get_by_test_id("results").locator("[data-verdict]")
    assert verdicts.count() == len(codes)
    assert page.get_by_test_id("results").locator("[data-verdict=pass]").count() == len(codes)
    # The analyst has no release permission: no release form on the analyst's screen.
    assert page.get_by_test_id("release-form").count() == 0
    shots(page, "analyst entered every result none verified")

    verifier = qa.page
    verifier.goto(page.url)
    buttons = verifier.locator("[data-testid^=verify-]")
    assert buttons.count() == len(codes)
    while buttons.count():  # each Verify… opens the confirmation: the entry shown, the password asked
        submit(verifier, buttons.first)
        verifier.locator("input[name=confirm]").check()
        verifier.locator("input[name=signature_password]").fill(qa.password)
        submit(verifier, "main form button[type=submit]")
        assert "1 entry verified" in flash(verifier), field_errors(verifier)
    # Having verified the results, this QA person cannot release: the release is not offered (the button
    # is disabled, no signature is asked) and the four-eyes reason is said.
    blockers = verifier.get_by_test_id("blockers").inner_text()
    assert "verified" in blockers and "(four eyes)" in blockers, blockers
    form = verifier.get_by_test_id("release-form")
    assert form.get_by_test_id("release-disabled").is_visible()
    assert form.get_by_role("button", name=f"Sign: {RELEASE_MEANING}").is_disabled()
    assert form.locator("input[name=signature_password]").count() == 0
    assert verifier.locator("main h1 [data-status]").first.get_attribute("data-status") == "awaiting_qc"
    shots(verifier, "QA who verified the results cannot release four eyes")

    releaser = qa2.page
    open_qc_page(releaser, din)
    assert releaser.get_by_test_id("no-blockers").is_visible()
    form = releaser.get_by_test_id("release-form")
    form.locator("input[name=signature_password]").fill(qa2.password)
    form.locator("input[name=confirm]").check()
    shots(releaser, "second QA person signs the release")
    submit(releaser, form.get_by_role("button", name=f"Sign: {RELEASE_MEANING}"))
    assert "released for clinical use" in flash(releaser), field_errors(releaser)
    assert releaser.get_by_test_id("usable").is_visible()
    signature = releaser.locator("main").get_by_test_id("signature").first.inner_text()
    assert qa2.full_name in signature and RELEASE_MEANING in signature, signature
    shots(releaser, "lot released with e-signature")


def allocate_dose(clinician: Person, din: str, shots):
    """Step 6: a clinical user registers a MAESTRO-4MS (open-label) patient, signs the enrolment checklist
    and allocates dose 1 from the released lot."""
    page = clinician.page
    today_site = TODAY  # the services judge dates on the UTC calendar day
    nav(page, "Patients")
    follow(page, "Register a patient")
    choose_option(page, "select[name=protocol_version_id]", "MAESTRO-4MS")
    page.fill("input[name=subject_id]", "MAESTRO-4MS-REN-001")
    page.select_option("select[name=site]", "Rennes University Hospital")
    page.select_option("select[name=sex]", "F")
    page.fill("input[name=date_of_birth]", "1979-09-23")
    page.fill("input[name=first_dose_on]", today_site.isoformat())
    page.fill("input[name=weight_kg]", "68")
    page.fill("input[name=weight_measured_on]", today_site.isoformat())
    shots(page, "clinical user registers a MAESTRO-4MS patient")
    submit(page, "main button[type=submit]")
    assert "registered" in flash(page), field_errors(page)
    assert "open-label" in page.get_by_test_id("patient-facts").inner_text()

    follow(page, "Enrolment checklist")
    page.fill("input[name=evaluation_date]", today_site.isoformat())
    page.fill("input[name=edss]", "4.5")
    page.fill("input[name=diagnosis_date]", (today_site - timedelta(days=6 * 365)).isoformat())
    items = page.locator("main table tbody tr")
    for i in range(items.count()):
        row = items.nth(i)
        if row.locator("input[type=radio]").count() == 0:
            continue  # computed from the data (age)
        kind = row.locator("td").nth(1).inner_text().strip().lower()
        # Inclusion criteria are met; exclusion criteria do not apply.
        row.locator(f"input[type=radio][value={'yes' if kind == 'inclusion' else 'no'}]").check()
    page.fill("input[name=signature_password]", clinician.password)
    shots(page, "investigator attests the enrolment checklist")
    submit(page, page.locator("main button", has_text="Sign the checklist"))
    assert "Checklist signed: enrolled." in flash(page), field_errors(page)
    assert page.locator("main h1 [data-status]").get_attribute("data-status") == "enrolled"

    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("doses").locator("tbody tr").first.get_by_role("link", name="Allocate").click()
    page.fill("input[name=planned_time]", "16:00")
    submit(page, page.locator("main button", has_text="Propose containers"))
    proposal = page.get_by_test_id("proposal")
    assert proposal.locator("tbody tr").count() == 1, field_errors(page)
    assert din in proposal.inner_text().replace(" ", "")
    shots(page, "FEFO proposal for dose 1")
    submit(page, page.locator("main button", has_text="Allocate these containers"))
    assert "Dose 1 allocated." in flash(page), field_errors(page)
    assert din in page.get_by_test_id("containers").inner_text().replace(" ", "")
    shots(page, "dose 1 allocated")
    return "MAESTRO-4MS-REN-001"


def download(page, url: str, shots, name: str) -> bytes:
    """GET `url` with the person's session (what the browser fetches when the button is clicked), keep
    the file with the screenshots, and return its bytes."""
    response = page.request.get(url)
    assert response.ok, (url, response.status, response.text()[:2000])
    assert response.headers["content-type"].startswith("application/pdf"), response.headers
    body = response.body()
    assert body.startswith(b"%PDF-"), body[:40]
    (shots.dir / name).write_bytes(body)
    return body


def click_for_pdf(page, button, shots, name: str) -> bytes:
    """Click a button whose form answers a PDF, keep the PDF with the screenshots, come back to the page,
    and return the PDF's bytes. The browser's own request is passed through and its answer kept on the way
    (Chromium's PDF viewer would otherwise stand in for the bytes), so the label is printed once."""
    back, answers = page.url, []

    def keep(route):
        response = route.fetch()
        answers.append((response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.route(lambda url: url.startswith(back.split("?")[0].rstrip("/") + "/labels"), keep)
    try:
        with page.expect_navigation(wait_until="commit"):
            button.click()
    finally:
        page.unroute_all()
    assert len(answers) == 1, answers
    status, headers, body = answers[0]
    assert status == 200 and headers["content-type"].startswith("application/pdf"), (status, body[:2000])
    assert body.startswith(b"%PDF-"), body[:40]
    (shots.dir / name).write_bytes(body)
    page.goto(back)
    return body


def bar_codes(pdf: bytes, dpi: int = 300) -> dict[str, list[str]]:
    """Format name → text of every bar code zxing-cpp decodes on the PDF's pages, rasterised as
    `pdftoppm -r <dpi>` draws them."""
    found: dict[str, list[str]] = {}
    for image in raster(pdf, dpi):
        for name, texts in decoded(image).items():
            found.setdefault(name, []).extend(texts)
    return found


def pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(body)).pages)


def record_event(page, event: str, scanned: str, place: str, receiver: Person, signer: Person, **extra):
    form = page.get_by_test_id("custody-form")
    form.locator("input[name=scanned_code]").fill(scanned)
    form.locator("select[name=event]").select_option(event)
    form.locator("input[name=place]").fill(place)
    for name, value in extra.items():
        form.locator(f"input[name={name}]").fill(value)
    form.locator("input[name=signature_password]").fill(signer.password)
    form.locator("input[name=receiver_username]").fill(receiver.username)
    form.locator("input[name=receiver_password]").fill(receiver.password)
    submit(page, form.locator("button[type=submit]"))


def label_and_custody(tech: Person, nurse: Person, doctor: Person, subject: str, din: str, shots):
    """Step 7: the dose label (PDF, printed from the custody page's POST form; text and bar codes read
    back); the chain of custody from the cryostore to the patient, each hand-off signed by the person
    handing over and the person receiving, the DIN typed with its check character (a mistyped check
    character is refused on the way), the label's Data Matrix scanned at the bedside; the custody report
    (PDF) and its digest check."""
    page = nurse.page
    nav(page, "Custody")
    with page.expect_navigation(wait_until="load"):
        page.get_by_test_id("custody-list").locator("tr", has_text=subject).get_by_role("link").first.click()
    dose_url = page.url
    assert page.get_by_test_id("custody-state").inner_text().startswith("in storage")
    shots(page, "custody page of dose 1 before any event")
    # Labels are printed from the form on the dose's custody page (a POST: printing is logged).
    form = page.get_by_test_id("label-form")
    form.locator("select[name=size]").select_option("100x100")
    form.locator("input[name=copies]").fill("1")
    form.locator("select[name=output]").select_option("pdf")
    shots(page, "label print form")
    label = click_for_pdf(page, form.get_by_role("button", name="Print labels"), shots, "dose-label.pdf")
    printed = pdf_text(label)
    check_char = page.get_by_test_id("dose-facts").locator(".din-check").first.inner_text().strip()
    assert subject in printed.replace("\n", "") and din in printed.replace(" ", "").replace("\n", ""), printed
    assert f" 00 {check_char}" in " ".join(printed.split()), printed  # the DIN's flags and boxed check
    # The bar codes as a scanner reads them from the printed label (rasterised at 300 dpi).
    codes = bar_codes(label)
    assert isbt128.encode_din(din, "00") in codes.get("Code128", []), codes
    assert len(codes.get("DataMatrix", [])) == 1, codes
    scanned = codes["DataMatrix"][0]
    assert isbt128.parse_scan(scanned).din == din, scanned

    # In the cryostore the technician types the DIN from the label, with its boxed check character.
    din_typed = f"{din} {check_char}"
    wrong_check = din_typed[:-1] + ("0" if din_typed[-1] != "0" else "1")
    cryostore = tech.page
    cryostore.goto(dose_url)
    issue_from_storage = dict(
        page=cryostore,
        event="issued_from_storage",
        place="Cell Therapy Unit, cryostore tank LN2-03",
        receiver=nurse,
        signer=tech,
        logger_id="TL-0457",
        temperature_min_c="-190",
        temperature_max_c="-178",
    )
    record_event(scanned=wrong_check, **issue_from_storage)
    error = cryostore.locator("[data-field=scanned_code]").inner_text()
    assert "check character" in error, error
    assert (
        cryostore.get_by_test_id("custody-events").locator("tr[data-event]").count() == 0
    )  # nothing recorded
    shots(cryostore, "mistyped DIN check character refused")
    record_event(scanned=din_typed, **issue_from_storage)
    assert "Issued from storage recorded and signed by both people." in flash(cryostore), field_errors(
        cryostore
    )

    page.goto(dose_url)
    record_event(page, "thawed", din_typed, "Clinical pharmacy, thaw station 2", doctor, nurse)
    assert "Thawed recorded" in flash(page), field_errors(page)
    # At the bedside the label's Data Matrix is scanned.
    record_event(
        page,
        "administered",
        scanned,
        "Neurology day unit, room 4",
        doctor,
        nurse,
        subject_id_checked=subject,
    )
    assert "Administered recorded" in flash(page), field_errors(page)
    events = page.get_by_test_id("custody-events").locator("tr[data-event]")
    assert [events.nth(i).get_attribute("data-event") for i in range(events.count())] == [
        "issued_from_storage",
        "thawed",
        "administered",
    ]
    signatures = page.get_by_test_id("custody-events").get_by_test_id("signature")
    assert signatures.count() == 6
    # Each hand-off's two signature manifestations: the meaning, then who signed it.
    for i, (meaning, person) in enumerate(
        [
            ("Issued from storage", tech),
            ("Received from storage", nurse),
            ("Thawed", nurse),
            ("Thaw witnessed", doctor),
            ("Handed over for administration", nurse),
            ("Administered", doctor),
        ]
    ):
        shown = " ".join(signatures.nth(i).inner_text().split())
        assert shown.startswith(f"{meaning} — signed by {person.full_name} on "), shown
    # The bedside scan is kept as read: the label's Data Matrix message.
    assert scanned in events.nth(2).inner_text(), events.nth(2).inner_text()
    assert page.get_by_test_id("chain-closed").is_visible()
    shots(page, "custody chain to administration")

    href = page.locator("main").get_by_role("link", name="Custody report (PDF)").get_attribute("href")
    report = pdf_text(download(page, href, shots, "custody-report.pdf"))
    assert "Administered" in report and "Dr Yann Kerboul" in report, report[:2000]
    digest = re.search(r"Content SHA-256: ([0-9a-f]{64})", report).group(1)
    check = page.get_by_test_id("digest-form")
    check.locator("input[name=digest]").fill(digest)
    submit(page, check.locator("button[type=submit]"))
    assert "matches" in page.get_by_test_id("digest-result").inner_text()
    shots(page, "printed custody report digest checked")
