"""Times are typed and read on the facility's clock (Europe/Paris) and stored in UTC (issue 19): a
harvest typed at 09:00 reads back as 09:00 with its zone; the hour the clocks repeat in autumn is
refused next to the field until the person picks first or second; the skipped hour is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from lots.models import Harvest
from tests.factories import lots as f
from tests.support import field_error, fresh, token_for

pytestmark = pytest.mark.requirement("ER-TIME")

DAY = f.HARVEST_DAY
PARIS = ZoneInfo("Europe/Paris")


def _signed_donor(db_session, make_user):  # noqa: F811
    return f.signed_donor(db_session, make_user("technician"), make_user("qa"), "eligible")


def test_a_harvest_typed_at_nine_paris_time_reads_back_at_nine_with_its_zone(login_as, make_user, db_session):  # noqa: F811
    tech = login_as("technician")
    donor = _signed_donor(db_session, make_user)
    form = tech.get("/lots/harvest").get_data(as_text=True)
    assert "Collected at (Europe/Paris)" in form and "(UTC)" not in form
    resp = tech.post(
        "/lots/harvest", f.harvest_form(db_session, donor.id, collected_at=f"{DAY.isoformat()}T09:00")
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    harvest = fresh(db_session).scalars(select(Harvest).order_by(Harvest.id.desc())).first()
    local = datetime.combine(DAY, time(9, 0), tzinfo=PARIS)
    assert harvest.collected_at == local.astimezone(UTC)
    assert harvest.collected_at.hour == (8 if local.tzname() == "CET" else 7)  # winter UTC+1, summer UTC+2
    page = tech.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"{DAY.isoformat()} 09:00 {local.tzname()}" in page


def test_the_repeated_autumn_hour_is_refused_until_first_or_second_is_chosen(login_as, make_user, db_session):  # noqa: F811
    tech = login_as("technician")
    donor = _signed_donor(db_session, make_user)
    tech.get("/lots/harvest")
    data = f.harvest_form(db_session, donor.id, collected_at="2026-10-25T02:30")
    resp = tech.post("/lots/harvest", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "happens twice" in field_error(html, "collected_at")
    assert re.search(r'name="collected_at_fold"[^>]*value="0"', html) and "second (CET)" in html
    resp = tech.post("/lots/harvest", {**data, "collected_at_fold": "1"})
    assert field_error(resp.get_data(as_text=True), "collected_at") == ""


def test_the_skipped_spring_hour_is_refused_next_to_the_field(login_as, make_user, db_session):  # noqa: F811
    tech = login_as("technician")
    donor = _signed_donor(db_session, make_user)
    tech.get("/lots/harvest")
    resp = tech.post("/lots/harvest", f.harvest_form(db_session, donor.id, collected_at="2026-03-29T02:30"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "does not exist in Europe/Paris" in field_error(html, "collected_at")
    assert "collected_at_fold" not in html


def test_the_api_refuses_a_time_without_its_offset(app, login_as, make_user, db_session):  # noqa: F811
    tech = login_as("technician")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(tech)}"}
    data = f.harvest_form(db_session, None, collected_at=f"{DAY.isoformat()}T09:00")
    data.pop("donor_code")
    resp = client.post("/api/v1/lots/harvests", json=data, headers=headers)
    assert resp.status_code == 422 and "offset" in resp.json["errors"]["collected_at"], resp.json
