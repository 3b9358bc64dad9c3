"""Factories for lots tests: they drive the real donor and lot services, never fake a status."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from bank.uow import unit_of_work
from bank.users import actor_for
from donors import services as donor_services
from donors.reference import SSC_ADIPOSE_DONOR_V1 as CS
from donors.services import record_answers, record_serology, sign_determination
from donors.services.criteria import ensure_seed_criteria
from lots import services
from lots.models import ProductType
from tests.support import PASSWORD, unique

FIN = "G1234"
TODAY = donor_services.today()
HARVEST_DAY = TODAY - timedelta(days=10)
COLLECTED_AT = datetime.combine(HARVEST_DAY, time(9, 0), tzinfo=UTC)
# How the factories' donors' serology is tested unless a test says otherwise: sampled on the harvest day,
# tested the next day by CMIA on the Architect.
SEROLOGY = dict(
    method="CMIA",
    kit="Architect",
    kit_lot="K1",
    sample_date=HARVEST_DAY,
    test_date=HARVEST_DAY + timedelta(days=1),
)


def product(session, key: str) -> ProductType:
    with unit_of_work(session, _system()):
        services.seed_product_types(session)
    return next(p for p in services.active_product_types(session) if p.key == key)


def _system():
    from bank.uow import Actor

    return Actor(None, "test setup")


def donor(session, tech, *, autologous: bool = False, weight_kg: float = 68.0, **registry):
    """A registered donor, status pending (the seed criteria set active, as `flask init` leaves it);
    `registry` overrides any other field of the registration form."""
    with unit_of_work(session, _system(), "seed criteria set"):
        ensure_seed_criteria(session)
    fields = dict(
        sex="F",
        birth_date=date(1985, 3, 2),
        consent_version="ICF v2.1",
        consent_date=HARVEST_DAY,
        weight_kg=weight_kg,
        height_cm=165.0,
        is_autologous=autologous,
    )
    fields.update(registry)
    with unit_of_work(session, actor_for(tech), "donor registered"):
        return donor_services.register_donor(session, **fields)


def screened_donor(session, tech, **kw):
    """Every question answered no, harvest date set, every required marker negative (not signed)."""
    d = donor(session, tech, **kw)
    with unit_of_work(session, actor_for(tech)):
        donor_services.set_harvest_date(session, d, HARVEST_DAY)
        record_answers(session, d, {q.question_id: (False, None, "") for q in CS.questions})
        for marker in CS.required_markers:
            record_serology(session, d, marker=marker, result="negative", **SEROLOGY)
    return d


def serology(session, tech, d, marker: str, result: str, reason: str | None = None, **entry):
    """One serology result of donor `d` entered by `tech` (tested as SEROLOGY says unless `entry` says
    otherwise)."""
    with unit_of_work(session, actor_for(tech), reason):
        return record_serology(session, d, marker=marker, result=result, **{**SEROLOGY, **entry})


def signed_donor(session, tech, qa, decision: str = "eligible", comment: str = "", **kw):
    d = screened_donor(session, tech, **kw)
    with unit_of_work(session, actor_for(qa)):
        sign_determination(session, d, qa, PASSWORD, decision, comment)
    return d


def material_lot(
    session, tech, *, expiry: date | None = None, status: str = "approved", animal: bool = False
):
    with unit_of_work(session, actor_for(tech)):
        m = services.add_material(session, unique("Collagenase NB6 "), "Nordmark", "N0002779", animal)
        return services.add_material_lot(
            session, m, unique("L"), expiry or TODAY + timedelta(days=200), status
        )


def harvest(session, tech, d, key: str = "AT-MSC-ALLO", **kw):
    p = product(session, key)
    fields = dict(
        fin=FIN,
        donor_id=d.id,
        product_type_id=p.id,
        tissue=p.tissue,
        mass_g=52.0,
        volume_ml=None,
        collected_at=COLLECTED_AT,
        site="Clinique Pasteur, Toulouse",
        operator="Dr Martin",
        tier="master",
    )
    fields.update(kw)
    with unit_of_work(session, actor_for(tech), "harvest recorded"):
        return services.record_harvest(session, **fields)


def _bench_entry(session, tech, verifier, record, lot, fields: dict):
    """A bench entry made by `record(session, lot, **fields)` as `tech` (operator A. Tech), verified by
    `verifier` unless None."""
    with unit_of_work(session, actor_for(tech)):
        entry = record(session, lot, operator="A. Tech", **fields)
    if verifier is not None:
        with unit_of_work(session, actor_for(verifier)):
            services.verify_entry(session, entry)
    return entry


def isolate(session, tech, verifier, lot, cells: float = 2.0e7, viability: float = 92.0):
    fields = dict(cell_count=cells, viability_pct=viability, isolated_on=HARVEST_DAY)
    return _bench_entry(session, tech, verifier, services.record_isolation, lot, fields)


def next_passage_dates(session, lot, seeded: float, harvested: float) -> tuple[date, date]:
    """Dates in the order the work is done: seeded the day the step before ended (the harvest day for a
    lot without one), harvested after the fewest days the product finds the growth plausible in."""
    done = services.passages(session, lot)
    isolation = services.isolation_of(session, lot)
    start = done[-1].harvested_on if done else isolation.isolated_on if isolation else HARVEST_DAY
    fold = max(harvested / seeded, 1.0) if seeded > 0 and harvested > 0 else 1.0
    days = max(1, math.ceil(math.log(fold) / math.log(lot.product_type.max_fold_per_day) - 1e-9))
    return start, max(start, min(start + timedelta(days=days), TODAY))  # never in the future


def passage(session, tech, verifier, lot, seeded: float, harvested: float, **kw):
    seeded_on, harvested_on = next_passage_dates(session, lot, seeded, harvested)
    fields = dict(
        seeded_cells=seeded,
        harvested_cells=harvested,
        viability_pct=kw.get("viability", 95.0),
        vessels=kw.get("vessels", 4),
        seeded_on=kw.get("seeded_on", seeded_on),
        harvested_on=kw.get("harvested_on", harvested_on),
        material_lot_ids=kw.get("materials", ()),
        confirm_plausibility=kw.get("confirm", False),
        plausibility_comment=kw.get("comment"),
    )
    return _bench_entry(session, tech, verifier, services.record_passage, lot, fields)


def formulate(
    session,
    tech,
    lot,
    n: int,
    container_type: str,
    cells: float,
    volume_ml: float,
    *,
    frozen_at: datetime | None = None,
    reason: str | None = "formulation",
):
    """`n` containers (bags or vials) filled from `lot` by `tech`, `cells` viable cells in `volume_ml` each,
    in 10 % DMSO, frozen an hour ago unless `frozen_at` says when."""
    with unit_of_work(session, actor_for(tech), reason):
        return services.formulate_containers(
            session,
            lot,
            n_containers=n,
            container_type=container_type,
            cells_per_container=cells,
            volume_ml=volume_ml,
            cryoprotectant="10 % DMSO",
            frozen_at=frozen_at or datetime.now(UTC) - timedelta(hours=1),
        )


def box(session, tech, rows: int = 9, cols: int = 9):
    with unit_of_work(session, actor_for(tech)):
        return services.create_box(
            session,
            site="Toulouse CTU",
            tank=unique("T"),
            rack="R1",
            name="B1",
            row_count=rows,
            col_count=cols,
        )


def grown_lot(session, tech, verifier, d=None, qa=None):
    """A harvest lot isolated and expanded over P0 and P1 (8 PD), every entry verified."""
    d = d or signed_donor(session, tech, qa or verifier)
    lot = harvest(session, tech, d)
    isolate(session, tech, verifier, lot)
    passage(session, tech, verifier, lot, 1.0e6, 1.6e7)  # 4 PD
    passage(session, tech, verifier, lot, 2.0e6, 3.2e7)  # 4 PD
    return lot


def unverified_bench(session, tech, qa):
    """A lot of a signed donor with its isolation and two passages entered by `tech`, none verified:
    the lot and its three entries."""
    lot = harvest(session, tech, signed_donor(session, tech, qa))
    entries = [
        isolate(session, tech, None, lot),
        passage(session, tech, None, lot, 1.0e6, 1.6e7),
        passage(session, tech, None, lot, 2.0e6, 3.2e7),
    ]
    return lot, entries


# --- what a technician types on the lots pages (the http tests post these) ---------------------------


def harvest_form(session, donor_id, **kw) -> dict:
    """The harvest page's fields for the donor `donor_id` (none when falsy): an adipose lipoaspirate collected on
    the harvest day; `kw` overrides any field."""
    from donors.models import Donor

    p = product(session, "AT-MSC-ALLO")
    donor_code = ""
    if donor_id:
        session.rollback()  # see what the app's requests committed
        donor_code = session.get(Donor, donor_id).code
    data = {
        "donor_code": donor_code,
        "product_type_id": p.id,
        "tissue": "lipoaspirate",
        "mass_g": "48.5",
        "collected_at": f"{HARVEST_DAY.isoformat()}T09:30",
        "site": "Hôpital Saint-Louis",
        "operator": "Dr Roux",
        "tier": "master",
    }
    data.update(kw)
    return data


def passage_form(seeded, harvested, viability="95", start=4, days=5, **kw) -> dict:
    """The passage page's fields, cell counts typed in millions as the screen asks (× 10⁶, issue 24): a passage
    seeded `start` days after the harvest (a grown lot's P1 is harvested on day 4) and harvested `days` later."""
    return {
        "seeded_cells": seeded,
        "harvested_cells": harvested,
        "viability_pct": viability,
        "vessels": "4",
        "seeded_on": (HARVEST_DAY + timedelta(days=start)).isoformat(),
        "harvested_on": (HARVEST_DAY + timedelta(days=start + days)).isoformat(),
        "operator": "A. Tech",
        **kw,
    }


def latest_lot(session):
    """The lot made last, as the app's requests committed it."""
    from lots.models import Lot

    session.rollback()
    return session.scalar(select(Lot).order_by(Lot.id.desc()).limit(1))
