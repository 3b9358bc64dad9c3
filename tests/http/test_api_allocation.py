"""Allocation through the API as on screen (issue 18): chosen containers (checked by the same rules as
the screen's choice), and a refusal that names every reason with its rule id — the endotoxin or dose
reason behind "no eligible containers", not that message alone — masked for blinded tokens."""

from __future__ import annotations

import pytest

from doses.models import Allocation
from tests.factories import doses as fd
from tests.support import api_for

pytestmark = pytest.mark.requirement("API-SAME-RULES", "DOS-ALLOCATION")


@pytest.fixture
def staff(make_user):
    return fd.Staff(make_user)


def body(**kw):
    return {"dose_number": 1, "planned_date": fd.TODAY.isoformat(), "planned_time": "10:00", **kw}


def test_the_api_allocates_the_containers_chosen(app, session, staff):
    lot = fd.cell_lot(session, staff, n=3)
    chosen = fd.containers(session, lot)[2]
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    api = api_for(app, staff.clinician)
    resp = api.call("api_patients_allocate", body(container_ids=[chosen.id]), patient_id=patient.id)
    assert resp.status_code == 201, resp.json
    allocation = session.get(Allocation, resp.json["id"])
    assert [c.id for c in allocation.containers] == [chosen.id]
    # The same container again, for another patient: refused by the rule the screen applies.
    other = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    again = api.call("api_patients_allocate", body(container_ids=[chosen.id]), patient_id=other.id)
    assert again.status_code == 409
    assert "container.allocated" in {p["rule_id"] for p in again.json["problems"]}


def test_chosen_containers_over_the_endotoxin_limit_are_refused_with_the_reason(app, session, staff):
    # MAESTRO-4MS is intrathecal: 0.2 EU/kg × 70 kg = 14 EU; 50 mL at 0.5 EU/mL carries 25 EU.
    lot = fd.cell_lot(session, staff, n=1, endotoxin="0.5")
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS", weight=70.0)
    ids = [c.id for c in fd.containers(session, lot)]
    resp = api_for(app, staff.clinician).call(
        "api_patients_allocate", body(container_ids=ids), patient_id=patient.id
    )
    assert resp.status_code == 409
    problem = next(p for p in resp.json["problems"] if p["rule_id"] == "endotoxin.over_limit")
    assert "limit 14 EU" in problem["evidence"]  # plain words (issue 24), was "limit=14"
    assert session.get(Allocation, 0) is None


def test_a_fefo_refusal_names_the_reason_behind_none_fit(app, session, staff):
    # A 3 kg subject: the intrathecal limit is 0.6 EU, which no 50 mL container on the shelf meets.
    fd.cell_lot(session, staff, n=1)
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS", weight=3.0)
    resp = api_for(app, staff.clinician).call("api_patients_allocate", body(), patient_id=patient.id)
    assert resp.status_code == 409, resp.json
    rules = {p["rule_id"] for p in resp.json["problems"]}
    assert {"selection.none_fit", "endotoxin.over_limit"} <= rules
    assert all(p["rule_id"] and p["message"] for p in resp.json["problems"])


@pytest.mark.parametrize("ids,says", [(["x"], "could not be coerced"), (list(range(1, 30)), "At most 20")])
def test_impossible_container_choices_are_input_errors(app, session, staff, ids, says):
    patient = fd.enrolled_patient(session, staff.clinician, "MAESTRO-4MS")
    resp = api_for(app, staff.clinician).call(
        "api_patients_allocate", body(container_ids=ids), patient_id=patient.id
    )
    assert resp.status_code == 422 and says in resp.json["errors"]["container_ids"]
