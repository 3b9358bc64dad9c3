"""Lot, container and storage endpoints of the JSON API (same forms, services and permissions as the
screens): harvest, isolation, passages, verification, formulation, storage, genealogy."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from bank.api import PAGE_QUERY, ApiInputError, api_route, api_write, fields_of, object_schema, page_json
from bank.clock import as_utc
from bank.forms import entered
from bank.i18n import t
from bank.web import LIKE_ESCAPE, db, get_or_404, like_pattern, paginate
from lots import services
from lots.blueprint import fin
from lots.forms import FormulationForm, HarvestForm, IsolationForm, PassageForm, PositionForm
from lots.models import Container, Lot, StorageBox

LOT = object_schema(id="integer", din="string", check_char="string", status="string", product="string")


def lot_json(lot: Lot) -> dict:
    return {
        **fields_of(lot, "id", "din", "check_char", "donor_id", "parent_lot_id"),
        **fields_of(lot, "status", "tier", "quarantined", "autologous_only"),
        "product": lot.product_type.key,
        "product_version": lot.product_type.version,
    }


def container_json(c: Container) -> dict:
    return {
        **fields_of(c, "id", "lot_id", "product_code", "division", "identifier"),
        **fields_of(c, "container_type", "cells", "volume_ml", "status", "on_hold"),
        "din": c.lot.din,
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


@api_write(
    "/lots/harvests",
    form=HarvestForm,
    permission="lot.edit",
    reason="harvest recorded (API)",
    answer=lot_json,
    response=LOT,
    summary="Record a tissue harvest: opens a lot with a new ISBT 128 DIN",
)
def lots_harvest(form: HarvestForm) -> Lot:
    fields = entered(form, "donor_code", "donor_id", "collected_at")
    fields.update(fin=fin(), collected_at=as_utc(form.collected_at.data))
    if form.donor_code.data and form.donor_id.data is None:  # the donor by code, as on the screen
        return services.record_harvest_for_code(db(), donor_code=form.donor_code.data, **fields)
    return services.record_harvest(db(), donor_id=form.donor_id.data, **fields)


@api_write(
    "/lots/<int:lot_id>/isolation",
    Lot,
    form=IsolationForm,
    permission="lot.edit",
    reason="isolation recorded (API)",
    answer=lambda isolation: {"id": isolation.id},
    summary="Record the isolation (cell count, viability); counts once verified by a second person",
)
def lots_isolation(lot: Lot, form: IsolationForm):
    return services.record_isolation(db(), lot, **entered(form))


@api_write(
    "/lots/<int:lot_id>/passages",
    Lot,
    form=PassageForm,
    permission="lot.edit",
    reason="passage recorded (API)",
    answer=lambda p: fields_of(p, "id", "number", "population_doublings", "plausibility_comment"),
    summary="Record the next passage; refused beyond the product's passage or PD limit or when implausible; "
    "a negative PD or steep viability drop needs confirm_plausibility and plausibility_comment",
)
def lots_passage(lot: Lot, form: PassageForm):
    return services.record_passage(db(), lot, **entered(form))


@api_write(
    "/lots/<int:lot_id>/containers",
    Lot,
    form=FormulationForm,
    permission="lot.edit",
    reason="containers formulated (API)",
    answer=lambda made: {"items": [container_json(c) for c in made]},
    summary="Formulate and freeze N containers from the final passage",
)
def lots_formulate(lot: Lot, form: FormulationForm) -> list[Container]:
    frozen_at = as_utc(form.frozen_at.data)
    return services.formulate_containers(db(), lot, **entered(form, "frozen_at"), frozen_at=frozen_at)


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


@api_write(
    "/containers/<int:container_id>/position",
    Container,
    form=PositionForm,
    permission="storage.manage",
    reason=lambda form, _item: form.reason.data or "container stored (API)",
    answer=container_json,
    status=200,
    summary="Place or move a container (one container per position)",
)
def containers_store(item: Container, form: PositionForm) -> Container:
    box = db().get(StorageBox, form.box_id.data) if isinstance(form.box_id.data, int) else None
    if box is None:
        raise ApiInputError({"box_id": t("no such storage box")})
    services.store_container(db(), item, box, form.row.data, form.col.data, form.reason.data)
    return item


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
