"""Issue 8: lots through the JSON API as an instrument or a site system would use it — harvest, steps
with second-person verification, formulation, storage, box grid, genealogy; refusals are JSON."""

import pytest

from tests.factories import lots as f
from tests.support import OpenApiClient, token_for, verify_by_api

pytestmark = pytest.mark.requirement("API-SAME-RULES")


def test_from_eligible_donor_to_stored_containers_through_the_api(app, login_as, session, make_user):
    tech_web, verifier_web = login_as("technician"), login_as("technician")
    qa = make_user("qa")
    tech = OpenApiClient(app.test_client(), token_for(tech_web))
    verifier = OpenApiClient(app.test_client(), token_for(verifier_web))
    donor = f.signed_donor(session, tech_web.user, qa)
    product = f.product(session, "AT-MSC-ALLO")
    day = f.HARVEST_DAY
    resp = tech.call(
        "api_lots_harvest",
        {
            "donor_id": donor.id,
            "product_type_id": product.id,
            "tissue": "lipoaspirate",
            "mass_g": 48.5,
            "collected_at": f"{day.isoformat()}T09:15+01:00",
            "site": "Saint-Louis",
            "operator": "Dr Lambert",
            "tier": "dose",
        },
    )
    assert resp.status_code == 201, resp.json
    lot = resp.json
    assert len(lot["din"]) == 13 and lot["din"].startswith("G1234")
    iso = tech.call(
        "api_lots_isolation",
        {"cell_count": 2.0e7, "viability_pct": 93, "isolated_on": day.isoformat(), "operator": "A"},
        lot_id=lot["id"],
    )
    assert iso.status_code == 201, iso.json
    own = verify_by_api(tech, f"isolation:{iso.json['id']}")
    assert own.status_code in (409, 422) and own.is_json, "the person who entered it cannot verify it"
    assert verify_by_api(verifier, f"isolation:{iso.json['id']}").status_code == 200
    p0 = tech.call(
        "api_lots_passage",
        {
            "seeded_cells": 1e6,
            "harvested_cells": 8e6,
            "viability_pct": 95,
            "vessels": 4,
            "seeded_on": day.isoformat(),
            "harvested_on": day.isoformat(),
            "operator": "A",
        },
        lot_id=lot["id"],
    )
    assert p0.status_code == 201 and p0.json["population_doublings"] == 3.0
    assert verify_by_api(verifier, f"passage:{p0.json['id']}").status_code == 200
    made = tech.call(
        "api_lots_formulate",
        {
            "n_containers": 3,
            "container_type": "bag",
            "cells_per_container": 2e6,
            "volume_ml": 10,
            "cryoprotectant": "DMSO 10 %",
            "frozen_at": f"{day.isoformat()}T16:00Z",
        },
        lot_id=lot["id"],
    )
    assert made.status_code == 201, made.json
    containers = made.json["items"]
    box = f.box(session, tech_web.user, rows=2, cols=2)
    assert (
        tech.call(
            "api_containers_store", {"box_id": box.id, "row": 1, "col": 1}, container_id=containers[0]["id"]
        ).status_code
        == 200
    )
    clash = tech.call(
        "api_containers_store", {"box_id": box.id, "row": 1, "col": 1}, container_id=containers[1]["id"]
    )
    assert clash.status_code == 409 and [p["rule_id"] for p in clash.json["problems"]] == [
        "lots.storage.occupied"
    ]
    outside = tech.call(
        "api_containers_store", {"box_id": box.id, "row": 3, "col": 1}, container_id=containers[1]["id"]
    )
    assert outside.status_code == 422 and outside.json["errors"]
    grid = tech.call("api_boxes_show", box_id=box.id).json["grid"]
    assert grid[0][0] == containers[0]["identifier"] and grid[0][1] is None
    found = tech.call("api_containers_list", {"din": lot["din"]}).json
    assert found["total"] == 3
    trace = tech.call("api_containers_show", container_id=containers[0]["id"]).json["genealogy"]
    assert trace["donor"] == donor.code and trace["lots"][0]["passages"] == [0]


def test_harvest_refused_for_an_ineligible_donor_names_the_reason(app, login_as, session, make_user):
    tech_web = login_as("technician")
    api = OpenApiClient(app.test_client(), token_for(tech_web))
    donor = f.signed_donor(
        session, tech_web.user, make_user("qa"), decision="ineligible", comment="positive CMV IgM on repeat"
    )
    product = f.product(session, "AT-MSC-ALLO")
    resp = api.call(
        "api_lots_harvest",
        {
            "donor_id": donor.id,
            "product_type_id": product.id,
            "tissue": "lipoaspirate",
            "mass_g": 40,
            "collected_at": f"{f.HARVEST_DAY.isoformat()}T09:00+02:00",
            "site": "S",
            "operator": "O",
            "tier": "dose",
        },
    )
    assert resp.status_code == 409 and resp.json["problems"][0]["field"] == "donor_id"
    assert "ineligible" in resp.json["message"].lower()
