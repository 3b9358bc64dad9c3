"""Bench entry screens of issue 18: the QC panel and the donor serology panel on one page (every error next
to its row, nothing stored on an error), the confirmation of an out-of-specification result, corrections
that keep the original on screen, the questionnaire with every item answered explicitly, and actions
offered only when they can succeed (DOMAIN.md §2, §4)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services as donor_services
from donors.models import SerologyTest
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from release import services
from release.models import TestResult
from tests.factories import lots as lf
from tests.factories import release as fr

DAY = fr.PERFORMED_ON.isoformat()


@pytest.fixture
def lot(session, tech, qa):
    return fr.qc_lot(session, tech.user, qa.user, qa.user)


def count(session, model) -> int:
    session.rollback()
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def row_errors(html: str, code: str) -> str:
    return " ".join(re.findall(rf'data-row-error="{re.escape(code)}">([^<]*)<', html))


def test_qc_panel_shows_every_row_error_at_once_and_stores_nothing_then_everything(session, tech, lot):
    page = tech.get(f"/release/lots/{lot.id}/panel").get_data(as_text=True)
    assert 'data-row="STERILITY"' in page and 'data-row="IDENTITY-IFATS2013"' in page
    assert "no growth to date" in page  # the allowed terms are listed on the row
    before = count(session, TestResult)
    data = {
        "performed_on": DAY,
        "method": "validated method",
        "VIABILITY__value": "91",
        "VIABILITY__unit": "%",
        "STERILITY__value": "neg",
        "ENDOTOXIN__value": "0.1",
        "ENDOTOXIN__unit": "EU/L",
    }
    resp = tech.post(f"/release/lots/{lot.id}/panel", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "not an allowed result" in row_errors(html, "STERILITY")
    assert "EU/mL" in row_errors(html, "ENDOTOXIN")
    assert row_errors(html, "POTENCY") == ""  # left empty: not entered, no error
    assert count(session, TestResult) == before
    resp = tech.post(
        f"/release/lots/{lot.id}/panel", {**data, "STERILITY__value": "negative", "ENDOTOXIN__unit": "EU/mL"}
    )
    assert resp.status_code == 302
    assert count(session, TestResult) == before + 3
    assert services.current_result(session, lot, "STERILITY").value == "no growth"


def test_qc_panel_out_of_specification_round_trip(session, tech, lot):
    data = {"performed_on": DAY, "method": "m", "POTENCY__value": "5", "POTENCY__unit": "%"}
    html = tech.post(f"/release/lots/{lot.id}/panel", data).get_data(as_text=True)
    assert 'data-testid="oos-warning"' in html and "out of specification" in row_errors(html, "POTENCY")
    before = count(session, TestResult)
    resp = tech.post(f"/release/lots/{lot.id}/panel", {**data, "confirm_out_of_specification": "y"})
    assert resp.status_code == 302 and count(session, TestResult) == before + 1


def test_single_result_form_refuses_a_free_text_sterility_next_to_the_value(session, tech, lot):
    tech.get(f"/release/lots/{lot.id}/results/new?test=STERILITY")
    before = count(session, TestResult)
    resp = tech.post(
        f"/release/lots/{lot.id}/results/new",
        {"test_code": "STERILITY", "method": "BacT", "performed_on": DAY, "value": "neg"},
        content_type="multipart/form-data",
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert re.search(r'data-field="value">[^<]*not an allowed result[^<]*no growth', html)
    assert 'data-testid="oos-warning"' not in html  # refused, not judged a failure
    assert count(session, TestResult) == before


def test_correction_keeps_the_original_struck_through_with_who_and_why(session, tech, lot):
    original = fr.enter(session, tech.user, lot, "VIABILITY", "19.1", confirm_out_of_specification=True)
    lot_page = tech.get(f"/release/lots/{lot.id}").get_data(as_text=True)
    assert (
        f'data-testid="correct-{original.id}"' in lot_page and f'data-testid="void-{original.id}"' in lot_page
    )
    form = tech.get(f"/release/results/{original.id}/correct").get_data(as_text=True)
    assert 'value="19.1"' in form
    fields = {"method": "validated method", "performed_on": DAY, "value": "91", "unit": "%"}
    missing = tech.post(f"/release/results/{original.id}/correct", fields).get_data(as_text=True)
    assert "Say why the result is corrected." in missing
    resp = tech.post(f"/release/results/{original.id}/correct", {**fields, "reason": "typed 19.1 for 91"})
    assert resp.status_code == 302
    page = tech.get(f"/release/lots/{lot.id}").get_data(as_text=True)
    kept = page.split(f'data-result="{original.id}"')[1].split("</tr>")[0]
    assert (
        "text-decoration-line-through" in kept and "typed 19.1 for 91" in kept and tech.user.full_name in kept
    )


def test_void_form_keeps_the_result_on_record(session, tech, lot):
    r = fr.enter(session, tech.user, lot, "VIABILITY")
    tech.get(f"/release/results/{r.id}/void")
    assert tech.post(f"/release/results/{r.id}/void", {"reason": "wrong lot"}).status_code == 302
    page = tech.get(f"/release/lots/{lot.id}").get_data(as_text=True)
    assert f'data-testid="voided-{r.id}"' in page and "wrong lot" in page


def test_release_button_offered_only_when_the_rules_allow_it(session, tech, qa, login_as, lot):
    qa2 = login_as("qa")
    page = qa2.get(f"/release/lots/{lot.id}").get_data(as_text=True)
    assert (
        'data-testid="release-disabled"' in page and "disabled" in page.split('data-testid="release-form"')[1]
    )
    fr.complete_results(session, tech.user, qa.user, lot)
    page = qa2.get(f"/release/lots/{lot.id}").get_data(as_text=True)
    assert 'data-testid="release-disabled"' not in page and 'data-testid="no-blockers"' in page


# --- donors ---------------------------------------------------------------------------------------


def test_serology_panel_rows_errors_and_window_bounds(session, tech):
    donor = lf.donor(session, tech.user)
    with unit_of_work(session, actor_for(tech.user)):
        donor_services.set_harvest_date(session, donor, lf.HARVEST_DAY)
    page = tech.get(f"/donors/{donor.id}/serology/panel").get_data(as_text=True)
    assert f'data-first="{lf.HARVEST_DAY}"' in page and "serology_window.js" in page
    assert all(f'data-marker="{m.marker}"' in page for m in CS.markers)
    before = count(session, SerologyTest)
    data = {
        "HIV__result": "negative",
        "HIV__method": "CMIA",
        "HIV__kit": "Architect",
        "HIV__kit_lot": "K1",
        "HIV__sample_date": str(lf.HARVEST_DAY),
        "HIV__test_date": str(lf.HARVEST_DAY),
        "HCV__result": "negative",
        "HCV__sample_date": "2001-01-01",
    }
    html = tech.post(f"/donors/{donor.id}/serology/panel", data).get_data(as_text=True)
    assert re.search(r'data-field="HCV__sample_date">[^<]*outside the window', html)
    assert "unknown marker" not in html
    assert count(session, SerologyTest) == before
    data.pop("HCV__sample_date")
    assert tech.post(f"/donors/{donor.id}/serology/panel", data).status_code == 302
    assert count(session, SerologyTest) == before + 2


def test_single_serology_form_without_a_marker_says_choose_a_marker(session, tech):
    donor = lf.donor(session, tech.user)
    tech.get(f"/donors/{donor.id}/serology/new")
    html = tech.post(
        f"/donors/{donor.id}/serology/new",
        {
            "marker": "",
            "method": "CMIA",
            "kit": "A",
            "kit_lot": "K",
            "sample_date": DAY,
            "test_date": DAY,
            "result": "negative",
        },
    ).get_data(as_text=True)
    assert "unknown marker" not in html and "choose a marker" in html


def test_questionnaire_has_nothing_preselected_and_flags_missing_answers(session, tech):
    donor = lf.donor(session, tech.user)
    page = tech.get(f"/donors/{donor.id}/questionnaire").get_data(as_text=True)
    assert page.count('type="radio"') == 3 * len(CS.questions) and "checked" not in page
    first, *rest = CS.questions
    answers = {f"a_{q.question_id.lower().replace('-', '_')}": "no" for q in rest}
    html = tech.post(f"/donors/{donor.id}/questionnaire", answers).get_data(as_text=True)
    row = html.split(f'data-question="{first.question_id}"')[1].split("</tr>")[0]
    assert "answer yes, no or unknown" in row
    assert (
        "answer yes, no or unknown"
        not in html.split(f'data-question="{rest[0].question_id}"')[1].split("</tr>")[0]
    )


def test_sign_determination_not_offered_after_signing_and_flag_shown_after_a_correction(
    session, tech, login_as
):
    qa = login_as("qa")
    donor = lf.signed_donor(session, tech.user, qa.user)
    page = qa.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert 'data-testid="sign-link"' not in page
    course_form = tech.get(f"/donors/{donor.id}").get_data(as_text=True)
    hiv = next(t for t in donor_services.active_serology(session, donor) if t.marker == "HIV")
    assert f'data-testid="correct-serology-{hiv.id}"' in course_form
    tech.get(f"/donors/{donor.id}/correct/serology/{hiv.id}")
    resp = tech.post(
        f"/donors/{donor.id}/correct/serology/{hiv.id}",
        {
            "marker": "HIV",
            "method": "CMIA",
            "kit": "Architect",
            "kit_lot": "K9",
            "sample_date": str(hiv.sample_date),
            "test_date": str(hiv.test_date),
            "result": "negative",
            "reason": "kit lot typed wrongly",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    page = qa.get(f"/donors/{donor.id}").get_data(as_text=True)
    assert 'data-testid="rereview-' in page and "kit lot typed wrongly" in page
    assert f'data-testid="voided-serology-{hiv.id}"' in page
    assert 'data-testid="sign-link"' in page  # a re-review can be signed
