"""Lot, container and storage endpoints of the JSON API (same forms, services and permissions as the
screens): harvest, isolation, passages, verification, formulation, storage, genealogy."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from bank.api import PAGE_QUERY, ApiInputError, api_route, form_from_json, page_json
from bank.clock import as_utc
from bank.forms import entered
from bank.i18n import t
from bank.web import LIKE_ESCAPE, db, get_or_404, like_pattern, paginate, work
from lots import services
from lots.blueprint import fin
from lots.forms import FormulationForm, HarvestForm, IsolationForm, PassageForm, PositionForm
from lots.models import Container, Lot, StorageBox

LOT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "din": {"type": "string"},
        "check_char": {"type": "string"},
        "status": {"type": "string"},
        "product": {"type": "string"},
    },
}


def lot_json(lot: Lot) -> dict:
    return {
        "id": lot.id,
        "din": lot.din,
        "check_char": lot.check_char,
        "status": lot.status,
        "product": lot.product_type.key,
        "product_version": lot.product_type.version,
        "tier": lot.tier,
        "donor_id": lot.donor_id,
        "parent_lot_id": lot.parent_lot_id,
        "quarantined": lot.quarantined,
        "autologous_only": lot.autologous_only,
    }


def container_json(c: Container) -> dict:
    return {
        "id": c.id,
        "lot_id": c.lot_id,
        "din": c.lot.din,
        "product_code": c.product_code,
        "division": c.division,
        "identifier": c.identifier,
        "container_type": c.container_type,
        "cells": c.cells,
        "volume_ml": c.volume_ml,
        "status": c.status,
        "on_hold": c.on_hold,
        "expires_at": c.expires_at.isoformat() if c.expires_at else None,
        "position": None
        if c.box_id is None
        else {"box_id": c.box_id, "row": c.position_row, "col": c.position_col},
    }


@api_route(
    "/lots",
    permission="lot.view",
    summary="List lots (search by DIN, filter by status)",
    query={**PAGE_QUERY, "q": {"type": "string", "maxLength": 20}, "status": {"type": "string"}},
)
def lots_list():
    stmt = select(Lot).order_by(Lot.id.desc())
    q = request.args.get("q", "").strip().upper()[:20]
    if q:
        stmt = stmt.where(Lot.din.like(like_pattern(q), escape=LIKE_ESCAPE))
    if request.args.get("status"):
        stmt = stmt.where(Lot.status == request.args["status"][:20])
    return jsonify(page_json(paginate(stmt), lot_json))


@api_route(
    "/lots/<int:lot_id>", permission="lot.view", summary="One lot with its steps and containers", response=LOT
)
def lots_show(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    session = db()
    iso = services.isolation_of(session, lot)
    data = lot_json(lot)
    data["isolation"] = (
        None
        if iso is None
        else {
            "id": iso.id,
            "cell_count": iso.cell_count,
            "viability_pct": iso.viability_pct,
            "verified": iso.verified_by_id is not None,
        }
    )
    data["passages"] = [
        {
            "id": p.id,
            "number": p.number,
            "seeded_cells": p.seeded_cells,
            "harvested_cells": p.harvested_cells,
            "population_doublings": p.population_doublings,
            "viability_pct": p.viability_pct,
            "verified": p.verified_by_id is not None,
            "plausibility_comment": p.plausibility_comment,
        }
        for p in services.passages(session, lot)
    ]
    data["cumulative_pd"] = services.cumulative_pd(session, lot)
    data["open_deviations"] = services.open_deviations(session, lot)
    data["containers"] = [container_json(c) for c in services.containers_of(session, lot)]
    return jsonify(data)


@api_route(
    "/lots/harvests",
    methods=("POST",),
    permission="lot.edit",
    form=HarvestForm,
    response=LOT,
    summary="Record a tissue harvest: opens a lot with a new ISBT 128 DIN",
)
def lots_harvest():
    form = form_from_json(HarvestForm)
    fields = dict(
        fin=fin(),
        product_type_id=form.product_type_id.data,
        tissue=form.tissue.data,
        mass_g=form.mass_g.data,
        volume_ml=form.volume_ml.data,
        collected_at=as_utc(form.collected_at.data),
        site=form.site.data or "",
        operator=form.operator.data or "",
        tier=form.tier.data,
        material_lot_ids=form.material_lot_ids.data,
    )
    with work("harvest recorded (API)"):
        if form.donor_code.data and form.donor_id.data is None:  # the donor by code, as on the screen
            lot = services.record_harvest_for_code(db(), donor_code=form.donor_code.data, **fields)
        else:
            lot = services.record_harvest(db(), donor_id=form.donor_id.data, **fields)
    return jsonify(lot_json(lot)), 201


@api_route(
    "/lots/<int:lot_id>/isolation",
    methods=("POST",),
    permission="lot.edit",
    form=IsolationForm,
    summary="Record the isolation (cell count, viability); counts once verified by a second person",
)
def lots_isolation(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = form_from_json(IsolationForm)
    with work("isolation recorded (API)"):
        iso = services.record_isolation(db(), lot, **entered(form))
    return jsonify({"id": iso.id}), 201


@api_route(
    "/lots/<int:lot_id>/passages",
    methods=("POST",),
    permission="lot.edit",
    form=PassageForm,
    summary="Record the next passage; refused beyond the product's passage or PD limit or when implausible; "
    "a negative PD or steep viability drop needs confirm_plausibility and plausibility_comment",
)
def lots_passage(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = form_from_json(PassageForm)
    with work("passage recorded (API)"):
        p = services.record_passage(db(), lot, **entered(form))
    return jsonify(
        {
            "id": p.id,
            "number": p.number,
            "population_doublings": p.population_doublings,
            "plausibility_comment": p.plausibility_comment,
        }
    ), 201


@api_route(
    "/lots/<int:lot_id>/containers",
    methods=("POST",),
    permission="lot.edit",
    form=FormulationForm,
    summary="Formulate and freeze N containers from the final passage",
)
def lots_formulate(lot_id: int):
    lot = get_or_404(Lot, lot_id)
    form = form_from_json(FormulationForm)
    with work("containers formulated (API)"):
        made = services.formulate_containers(
            db(),
            lot,
            n_containers=form.n_containers.data,
            container_type=form.container_type.data,
            cells_per_container=form.cells_per_container.data,
            volume_ml=form.volume_ml.data,
            cryoprotectant=form.cryoprotectant.data or "",
            frozen_at=as_utc(form.frozen_at.data),
            material_lot_ids=form.material_lot_ids.data,
        )
    return jsonify({"items": [container_json(c) for c in made]}), 201


@api_route(
    "/containers",
    permission="storage.view",
    summary="Find containers by DIN",
    query={**PAGE_QUERY, "din": {"type": "string", "maxLength": 20}},
)
def containers_list():
    stmt = select(Container).join(Lot).order_by(Container.id.desc())
    din = request.args.get("din", "").strip().upper()[:20]
    if din:
        stmt = stmt.where(Lot.din == din)
    return jsonify(page_json(paginate(stmt), container_json))


@api_route(
    "/containers/<int:container_id>",
    permission="storage.view",
    summary="One container with its genealogy back to the donor",
)
def containers_show(container_id: int):
    item = get_or_404(Container, container_id)
    trace = services.trace_container(db(), item)
    data = container_json(item)
    data["genealogy"] = {
        "donor": trace.donor.code if trace.donor else None,
        "lots": [
            {
                "id": s.lot.id,
                "din": s.lot.din,
                "tier": s.lot.tier,
                "passages": [p.number for p in s.passages],
                "materials": [u.material_lot.label for u in s.materials],
            }
            for s in trace.chain
        ],
    }
    return jsonify(data)


@api_route(
    "/containers/<int:container_id>/position",
    methods=("POST",),
    permission="storage.manage",
    form=PositionForm,
    summary="Place or move a container (one container per position)",
)
def containers_store(container_id: int):
    item = get_or_404(Container, container_id)
    form = form_from_json(PositionForm)
    box = db().get(StorageBox, form.box_id.data) if isinstance(form.box_id.data, int) else None
    if box is None:
        raise ApiInputError({"box_id": t("no such storage box")})
    with work(form.reason.data or "container stored (API)"):
        services.store_container(db(), item, box, form.row.data, form.col.data, form.reason.data)
    return jsonify(container_json(item))


@api_route(
    "/storage/boxes/<int:box_id>",
    permission="storage.view",
    summary="A storage box as a grid of positions (container identifiers or null)",
)
def boxes_show(box_id: int):
    box = get_or_404(StorageBox, box_id)
    taken = services.occupancy(db(), box)
    grid = [
        [taken[(r, c)].identifier if (r, c) in taken else None for c in range(1, box.col_count + 1)]
        for r in range(1, box.row_count + 1)
    ]
    return jsonify(
        {"id": box.id, "location": box.location, "rows": box.row_count, "cols": box.col_count, "grid": grid}
    )
