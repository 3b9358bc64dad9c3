"""A ten-year facility for the benchmark (issue 9): donors, serology, lots (master → working → dose and
placebo), harvests, isolations, passages, containers, storage boxes and events, status history, and the
hash-chained audit rows all of that produces — written in bulk (COPY on PostgreSQL, multi-row Core
inserts on SQLite) with the same columns, states and constraints the real services give.

    python -m bench.generate --db URL [--scale 1.0|0.1]

The database is recreated: a SQLite file, or a PostgreSQL database whose name starts with "bench"
(anything else is refused, so the tests' and the production databases can never be wiped by mistake).
The audit rows are keyed with the benchmark's audit key (AUDIT_KEY when set, else BENCH_AUDIT_KEY) and a
checkpoint of the chain is written under AUDIT_ANCHOR_DIR (else /tmp/bench/anchors); check a dataset with

    AUDIT_KEY=<that key> AUDIT_ANCHOR_DIR=<that folder> DATABASE_URL=URL flask --app wsgi audit verify
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

import bank.models  # noqa: F401  (registers the core tables)
import donors.models  # noqa: F401
import lots.models  # noqa: F401
from bank import anchors, auditkey
from bank.audit import genesis, row_hash
from bank.db import Base, make_engine, make_session_factory
from bank.digest import canonical, plain
from bank.isbt128 import check_character, make_din
from bank.migrate import upgrade
from bank.models import AuditChainTip, AuditEntry, IdentifierCounter
from bank.uow import SYSTEM, unit_of_work
from bank.users import create_user
from bench.generate_doses import generate_doses
from doses.services.protocols import ensure_seed_protocols
from lots.models import ProductType
from lots.services.products import seed_product_types
from lots.services.storage import division_code

BENCH_USER, BENCH_PASSWORD = "bench", "Load-test-2026-pw"
# The benchmark's own keys (never a site's): the audit key keys the generated chain and must be the one
# the served app and `audit verify` are given; SECRET_KEY signs the benchmark server's cookies.
BENCH_AUDIT_KEY = "benchmark-audit-key-not-for-production-0123456789"
BENCH_SECRET_KEY = "benchmark-secret-key-not-for-production"
BENCH_ANCHOR_DIR = Path(os.environ.get("BENCH_DIR", "/tmp/bench")) / "anchors"
FIN = "G1234"
YEARS = 10
# Insertion order respects the foreign keys: a flush writes every buffer in this order.
TABLES = (
    "donors",
    "donor_serology",
    "storage_boxes",
    "lots",
    "harvests",
    "isolations",
    "passages",
    "containers",
    "storage_events",
    "status_changes",
    "audit_entries",
)
MARKERS = ("HIV_1_2_AB", "HBSAG", "ANTI_HBC", "HCV_AB", "SYPHILIS", "CMV_IGM")
BOX_SIDE = 9  # 9 × 9 cryo boxes
FLUSH_ROWS = 40_000


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database or ""
    if not name.startswith("bench"):
        sys.exit(f"refusing to recreate PostgreSQL database {name!r}: its name must start with 'bench'")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


class Writer:
    """Buffers rows per table and writes them in bulk; appends audit rows to the hash chain in the
    order they are emitted (so id order = chain order = time order, as the listener would write them)."""

    def __init__(self, engine, tables=TABLES):
        self.engine = engine
        self.key = auditkey.current()
        self.pg = engine.dialect.name == "postgresql"
        self.tables = {name: Base.metadata.tables[name] for name in tables}
        self.columns = {name: [c.name for c in t.columns] for name, t in self.tables.items()}
        # Columns added since the generator was written (in_force, plausibility_rules…) take the model's
        # plain default, as the services' rows do, instead of NULL.
        self.defaults = {
            name: {
                c.name: c.default.arg
                for c in t.columns
                if c.default is not None and c.default.is_scalar and c.name != "version"
            }
            for name, t in self.tables.items()
        }
        self.buffers: dict[str, list[dict]] = {name: [] for name in tables}
        with engine.connect() as conn:
            self.next_ids = {
                name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for name, t in self.tables.items()
            }
            chain_id = conn.scalar(select(AuditChainTip.chain_id).where(AuditChainTip.id == 1))
            self.prev_hash = conn.scalar(
                select(AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1)
            ) or genesis(self.key, chain_id)
        self.pending = 0
        self.written = dict.fromkeys(tables, 0)

    def new_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] += 1
        return value

    def row(self, table: str, values: dict) -> dict:
        full = dict.fromkeys(self.columns[table])
        full.update(self.defaults[table])
        full.update(values)
        if full["id"] is None:
            full["id"] = self.new_id(table)
        self.buffers[table].append(full)
        self.pending += 1
        return full

    def audit(
        self,
        at: datetime,
        actor: tuple[int, str],
        action: str,
        entity: str,
        entity_id,
        changes: dict,
        reason: str | None,
    ) -> None:
        row = {
            "at": at.isoformat(),
            "actor_id": actor[0],
            "actor_name": actor[1],
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "changes": canonical(changes),
            "reason": reason,
        }
        row["prev_hash"] = self.prev_hash
        row["row_hash"] = self.prev_hash = row_hash(self.key, self.prev_hash, row)
        row["key_id"] = self.key.id
        row["at"] = at
        self.row("audit_entries", row)

    def flush(self) -> None:
        with self.engine.begin() as conn:
            for name in self.tables:
                rows = self.buffers[name]
                if not rows:
                    continue
                if self.pg:
                    cols = self.columns[name]
                    with (
                        conn.connection.cursor() as cur,
                        cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy,
                    ):
                        for r in rows:
                            copy.write_row([r[c] for c in cols])
                else:
                    conn.execute(insert(self.tables[name]), rows)
                self.written[name] += len(rows)
                self.buffers[name] = []
        self.pending = 0


def inserted(values: dict, excluded=("version",)) -> dict:
    """The audit listener's changes for an insert: every non-null column, hidden ones as [set]."""
    return {k: [None, "[set]" if k in excluded else plain(v)] for k, v in values.items() if v is not None}


class Facility:
    """Drives the generation: one donor after another through ten years, events replayed in time order."""

    def __init__(self, writer: Writer, scale: float, users: dict, products: dict, rng: random.Random):
        self.w, self.rng, self.users, self.products = writer, rng, users, products
        self.n_donors = round(5000 * scale)
        self.n_placebo = round(700 * scale)  # with ~4,825 donors × 4 lots: 20,000 lots, 300,000 containers
        self.end = datetime.now(UTC) - timedelta(days=1)
        self.start = self.end - timedelta(days=365 * YEARS)
        self.events: list = []
        self.seq = itertools.count()
        self.din_counters: dict[int, int] = {}
        self.donor_counters: dict[int, int] = {}
        self.box = None
        self.now = self.start  # registration time of the donor being generated
        self.slot = BOX_SIDE * BOX_SIDE

    # --- event queue: generation runs donor by donor, the rows are written in time order -------------

    def at(self, when: datetime, fn) -> None:
        heapq.heappush(self.events, (when, next(self.seq), fn))

    def drain(self, before: datetime | None) -> None:
        while self.events and (before is None or self.events[0][0] < before):
            _, _, fn = heapq.heappop(self.events)
            fn()
            if self.w.pending >= FLUSH_ROWS:
                self.w.flush()

    def tech(self):
        return self.rng.choice(self.users["technician"])

    # --- records ----------------------------------------------------------------------------------

    def status(self, when, actor, entity, values, target, reason):
        source = values["status"]
        self.w.audit(when, actor, "update", entity, values["id"], {"status": [source, target]}, reason)
        self.w.row(
            "status_changes",
            {
                "entity": entity,
                "entity_id": str(values["id"]),
                "from_status": source,
                "to_status": target,
                "at": when,
                "actor_id": actor[0],
                "actor_name": actor[1],
                "reason": reason,
            },
        )
        values["status"] = target

    def donor(self, i: int, when: datetime) -> dict | None:
        rng, w = self.rng, self.w
        year = when.year
        self.donor_counters[year] = number = self.donor_counters.get(year, 0) + 1
        autologous = rng.random() < 0.3
        ineligible = not autologous and i % 20 == 19
        row = {
            "id": w.new_id("donors"),
            "code": f"DN-{year}-{number:04d}",
            "sex": rng.choice("FM"),
            "birth_date": (when - timedelta(days=rng.randint(20 * 365, 65 * 365))).date(),
            "weight_kg": round(rng.uniform(50, 110), 1),
            "height_cm": round(rng.uniform(150, 195), 1),
            "consent_version": "ICF v3",
            "consent_date": when.date(),
            "consent_recorded_by_id": None,
            "is_autologous": autologous,
            "status": "pending",
            "under_lookback": False,
            "created_at": when,
            "version": 1,
        }
        tech = self.tech()
        row["consent_recorded_by_id"] = tech[0]
        final = dict(row)
        final["version"] = 2
        if not autologous:
            final["status"] = "ineligible" if ineligible else "eligible"
        harvest_at = when + timedelta(days=7, hours=rng.randint(0, 8))
        if not ineligible:
            final["harvest_date"] = harvest_at.date()
            final["version"] += 1
        # The row is written in its final state; the audit rows replay how it got there.

        def register():
            w.row("donors", final)
            w.audit(when, tech, "insert", "donors", row["id"], inserted(row), "donor registered")
            w.row(
                "status_changes",
                {
                    "entity": "donors",
                    "entity_id": str(row["id"]),
                    "from_status": None,
                    "to_status": "pending",
                    "at": when,
                    "actor_id": tech[0],
                    "actor_name": tech[1],
                    "reason": "donor registered",
                },
            )

        self.at(when, register)
        for k, marker in enumerate(MARKERS):
            sample = when + timedelta(hours=1 + k)
            sero = {
                "id": w.new_id("donor_serology"),
                "donor_id": row["id"],
                "marker": marker,
                "method": "CMIA",
                "kit": "Architect",
                "kit_lot": f"K{rng.randint(1000, 9999)}",
                "sample_date": sample.date(),
                "test_date": (sample + timedelta(days=1)).date(),
                "result": "positive" if ineligible and k == 0 else "negative",
                "recorded_at": sample + timedelta(days=1),
                "recorded_by_id": tech[0],
            }
            self.at(
                sero["recorded_at"],
                lambda sero=sero: (
                    w.row("donor_serology", sero),
                    w.audit(
                        sero["recorded_at"],
                        tech,
                        "insert",
                        "donor_serology",
                        sero["id"],
                        inserted(sero),
                        None,
                    ),
                ),
            )
        if not autologous:
            qa = rng.choice(self.users["qa"])
            decided = when + timedelta(days=3)
            self.at(
                decided,
                lambda: self.status(
                    decided, qa, "donors", dict(row), final["status"], "eligibility determination"
                ),
            )
        if ineligible:
            return None
        self.at(
            harvest_at,
            lambda: w.audit(
                harvest_at,
                tech,
                "update",
                "donors",
                row["id"],
                {"harvest_date": [None, harvest_at.date().isoformat()]},
                "harvest recorded",
            ),
        )
        return final

    def derived_lot(self, parent, tier, when, product, donor, starting_pd, first_passage) -> dict:
        """A working lot from a master or a dose lot from a working one: it continues the parent's passage
        numbering and cumulative PD."""
        return self.lot(
            when,
            product,
            donor,
            tier,
            parent=parent,
            starting_pd=starting_pd,
            first_passage=first_passage,
            reason=f"lot derived from {parent['din']}",
        )

    def lot(
        self, when, product, donor, tier, parent=None, starting_pd=0.0, first_passage=0, reason=""
    ) -> dict:
        w = self.w
        year = when.year
        self.din_counters[year] = seq = self.din_counters.get(year, 0) + 1
        din = make_din(FIN, year, seq)
        row = {
            "id": w.new_id("lots"),
            "din": din,
            "check_char": check_character(din),
            "product_type_id": product["id"],
            "donor_id": donor["id"] if donor else None,
            "parent_lot_id": parent["id"] if parent else None,
            "tier": tier,
            "status": "in_process",
            "quarantined": False,
            "autologous_only": bool(donor and donor["is_autologous"]),
            "starting_pd": starting_pd,
            "first_passage": first_passage,
            "created_at": when,
            "version": 1,
        }
        tech = self.tech()
        opened = dict(row)

        def open_lot():
            w.row("lots", row)  # final state; `row` is updated below before this runs
            w.audit(when, tech, "insert", "lots", row["id"], inserted(opened), reason)
            w.row(
                "status_changes",
                {
                    "entity": "lots",
                    "entity_id": str(row["id"]),
                    "from_status": None,
                    "to_status": "in_process",
                    "at": when,
                    "actor_id": tech[0],
                    "actor_name": tech[1],
                    "reason": reason,
                },
            )

        self.at(when, open_lot)
        return row

    def steps(self, lot, start, numbers, tech) -> tuple[datetime, float]:
        """Passages `numbers`, each verified by a second person; returns the end time and PD sum."""
        w, rng = self.w, self.rng
        when, pd_sum, cells = start, 0.0, 1e6
        for number in numbers:
            seeded = round(cells * rng.uniform(0.8, 1.2), -3)
            harvested = round(seeded * rng.uniform(4, 8), -3)
            done = when + timedelta(days=rng.randint(5, 9))
            pd = math.log2(harvested / seeded)
            pd_sum += pd
            verifier = self.other(tech)
            row = {
                "id": w.new_id("passages"),
                "lot_id": lot["id"],
                "number": number,
                "seeded_cells": seeded,
                "harvested_cells": harvested,
                "viability_pct": round(rng.uniform(88, 98), 1),
                "vessels": rng.randint(2, 10),
                "seeded_on": when.date(),
                "harvested_on": done.date(),
                "operator": tech[1],
                "population_doublings": pd,
                "entered_by_id": tech[0],
                "entered_at": done,
            }
            verified_at = done + timedelta(hours=2)
            final = dict(row, verified_by_id=verifier[0], verified_at=verified_at)
            self.at(
                done,
                lambda row=row, final=final, done=done: (
                    w.row("passages", final),
                    w.audit(done, tech, "insert", "passages", row["id"], inserted(row), None),
                ),
            )
            self.at(
                verified_at,
                lambda row=row, verifier=verifier, verified_at=verified_at: w.audit(
                    verified_at,
                    verifier,
                    "update",
                    "passages",
                    row["id"],
                    {"verified_at": [None, verified_at.isoformat()], "verified_by_id": [None, verifier[0]]},
                    None,
                ),
            )
            cells = harvested
            when = done
        return when, pd_sum

    def other(self, person):
        return self.rng.choice([u for u in self.users["technician"] if u != person])

    def position(self):
        """Next free position; when a box fills up a new one is registered the day before the current
        donor (every container that will use it is frozen later than that)."""
        if self.slot >= BOX_SIDE * BOX_SIDE:
            n = self.w.next_ids["storage_boxes"] - 1
            box = {
                "id": self.w.new_id("storage_boxes"),
                "site": "Cryostore A",
                "tank": f"T{n // 400 + 1:02d}",
                "rack": f"R{n // 20 % 20 + 1:02d}",
                "name": f"B{n % 20 + 1:02d}",
                "row_count": BOX_SIDE,
                "col_count": BOX_SIDE,
                "created_at": self.now - timedelta(days=1),
            }
            actor = self.tech()
            self.at(
                box["created_at"],
                lambda box=box: (
                    self.w.row("storage_boxes", box),
                    self.w.audit(
                        box["created_at"],
                        actor,
                        "insert",
                        "storage_boxes",
                        box["id"],
                        inserted(box),
                        "storage box created",
                    ),
                ),
            )
            self.box, self.slot = box, 0
        row, col = divmod(self.slot, BOX_SIDE)
        self.slot += 1
        return self.box["id"], row + 1, col + 1

    def containers(self, lot, product, n, frozen, kind, cells, volume) -> None:
        w, rng = self.w, self.rng
        tech = self.tech()
        expires = frozen + timedelta(days=product["shelf_life_days"])
        for index in range(n):
            division = division_code(index)
            row = {
                "id": w.new_id("containers"),
                "lot_id": lot["id"],
                "division": division,
                "product_code": f"{product['isbt_code']}{product['donation_type']}{division}",
                "container_type": kind,
                "cells": cells,
                "volume_ml": volume,
                "cryoprotectant": "10 % DMSO",
                "frozen_at": frozen,
                "expires_at": expires,
                "status": "formulated",
                "on_hold": False,
                "version": 1,
            }
            final = dict(row)
            box_id, r, c = self.position()
            stored_at = frozen + timedelta(hours=1, seconds=index)
            removed_at = None
            if rng.random() < 0.4:  # ten years on, 40 % have left storage (thawed, shipped, destroyed)
                removed_at = stored_at + timedelta(days=rng.randint(30, 400))
                if removed_at > self.end:
                    removed_at = None
            final.update(version=3, status="removed") if removed_at else final.update(
                version=2, status="stored", box_id=box_id, position_row=r, position_col=c
            )

            def formulate(row=row, final=final):
                w.row("containers", final)
                w.audit(
                    frozen, tech, "insert", "containers", row["id"], inserted(row), "containers formulated"
                )

            def store(row=row, place=(box_id, r, c), stored_at=stored_at):
                storage_move(w, tech, row["id"], stored_at, "stored", place, None)

            def remove(row=row, place=(box_id, r, c), removed_at=removed_at):
                storage_move(w, tech, row["id"], removed_at, "removed", place, "thawed for administration")

            self.at(frozen, formulate)
            self.at(stored_at, store)
            if removed_at:
                self.at(removed_at, remove)

    def release(self, lot, when) -> None:
        """in process → awaiting QC → released (the last few weeks' lots are still awaiting QC)."""
        tech, qa = self.tech(), self.rng.choice(self.users["qa"])
        submitted, released = when, when + timedelta(days=14)
        final_status = "released" if released < self.end - timedelta(days=30) else "awaiting_qc"
        lot["status"] = final_status
        lot["version"] = 3 if final_status == "released" else 2
        state = {"id": lot["id"], "status": "in_process"}
        self.at(
            submitted, lambda: self.status(submitted, tech, "lots", state, "awaiting_qc", "submitted to QC")
        )
        if final_status == "released":
            self.at(released, lambda: self.status(released, qa, "lots", state, "released", "QA release"))

    def donor_lots(self, donor, when) -> None:
        """Harvest → master (P0–P1) → working (P2–P3) → two dose lots (P4), each formulated and stored."""
        w, rng = self.w, self.rng
        product = self.products["BM-MSC-AUTO" if donor["is_autologous"] else "AT-MSC-ALLO"]
        harvested = when + timedelta(days=7)
        master = self.lot(harvested, product, donor, "master", reason="harvest recorded")
        tech = self.tech()
        harvest = {
            "id": w.new_id("harvests"),
            "lot_id": master["id"],
            "donor_id": donor["id"],
            "tissue": "bone_marrow_aspirate" if donor["is_autologous"] else "lipoaspirate",
            "mass_g": None if donor["is_autologous"] else round(rng.uniform(50, 300), 1),
            "volume_ml": round(rng.uniform(20, 80), 1) if donor["is_autologous"] else None,
            "collected_at": harvested,
            "site": "Theatre 2",
            "operator": "Dr Surgeon",
            "recorded_by_id": tech[0],
        }
        self.at(
            harvested + timedelta(seconds=1),
            lambda: (
                w.row("harvests", harvest),
                w.audit(
                    harvested + timedelta(seconds=1),
                    tech,
                    "insert",
                    "harvests",
                    harvest["id"],
                    inserted(harvest),
                    "harvest recorded",
                ),
            ),
        )
        isolated = harvested + timedelta(days=1)
        verifier = self.other(tech)
        iso = {
            "id": w.new_id("isolations"),
            "lot_id": master["id"],
            "cell_count": round(rng.uniform(1e6, 5e7), -3),
            "viability_pct": round(rng.uniform(80, 98), 1),
            "isolated_on": isolated.date(),
            "operator": tech[1],
            "entered_by_id": tech[0],
            "entered_at": isolated,
        }
        iso_verified = isolated + timedelta(hours=3)
        self.at(
            isolated,
            lambda: (
                w.row("isolations", dict(iso, verified_by_id=verifier[0], verified_at=iso_verified)),
                w.audit(isolated, tech, "insert", "isolations", iso["id"], inserted(iso), None),
            ),
        )
        self.at(
            iso_verified,
            lambda: w.audit(
                iso_verified,
                verifier,
                "update",
                "isolations",
                iso["id"],
                {"verified_at": [None, iso_verified.isoformat()], "verified_by_id": [None, verifier[0]]},
                None,
            ),
        )
        end, pd_master = self.steps(master, isolated + timedelta(days=1), (0, 1), tech)
        self.containers(master, product, 10, end + timedelta(hours=6), "vial", 5e6, 1.0)
        self.release(master, end + timedelta(days=2))
        working = self.derived_lot(master, "working", end + timedelta(days=3), product, donor, pd_master, 2)
        end, pd_working = self.steps(working, end + timedelta(days=3, hours=1), (2, 3), tech)
        self.containers(working, product, 10, end + timedelta(hours=6), "vial", 5e6, 1.0)
        self.release(working, end + timedelta(days=2))
        for _ in range(2):
            dose = self.derived_lot(
                working, "dose", end + timedelta(days=3), product, donor, pd_master + pd_working, 4
            )
            dose_end, _pd = self.steps(dose, end + timedelta(days=3, hours=1), (4,), tech)
            self.containers(dose, product, 20, dose_end + timedelta(hours=6), "bag", 1e8, 50.0)
            self.release(dose, dose_end + timedelta(days=2))

    def placebo_lot(self, when) -> None:
        product = self.products["PLACEBO-MEDIA"]
        lot = self.lot(when, product, None, "dose", reason="placebo lot opened")
        self.containers(lot, product, 15, when + timedelta(hours=4), "bag", 0.0, 50.0)
        self.release(lot, when + timedelta(days=1))

    def run(self) -> None:
        # Everything of a donor happens within ~80 days of registration; so once donor i is generated,
        # every queued event older than donor i's registration (less a day for box creation) is final.
        span = (self.end - timedelta(days=120)) - self.start
        placebo_every = max(1, self.n_donors // max(1, self.n_placebo))
        placebos = 0
        for i in range(self.n_donors):
            when = self.start + span * i / self.n_donors
            self.now = when
            donor = self.donor(i, when)
            if donor is not None:
                self.donor_lots(donor, when)
            if i % placebo_every == 0 and placebos < self.n_placebo:
                placebos += 1
                self.placebo_lot(when + timedelta(hours=12))
            self.drain(when - timedelta(days=2))
        self.drain(None)
        self.w.flush()


def setup_core(url: str) -> tuple[dict, dict]:
    """Users and product types through the real services (the audit listener writes their rows)."""
    engine = make_engine(url)
    session = make_session_factory(engine)()
    users: dict[str, list[tuple[int, str]]] = {"technician": [], "qa": []}
    with unit_of_work(session, SYSTEM, "benchmark dataset"):
        bench = create_user(
            session,
            BENCH_USER,
            "Benchmark User",
            ["admin", "technician", "qa", "clinical"],
            BENCH_PASSWORD,
            must_change_password=False,
        )
        people = [("technician", f"tech{n}", f"Technician {n}") for n in range(1, 7)] + [
            ("qa", f"qa{n}", f"QA Officer {n}") for n in range(1, 4)
        ]
        for role, username, name in people:
            user = create_user(
                session, username, name, [role], BENCH_PASSWORD + username[-1], must_change_password=False
            )
            users[role].append((user.id, f"{user.full_name} ({user.username})"))
        seed_product_types(session)
        ensure_seed_protocols(session)
    products = {}
    for p in session.scalars(select(ProductType)):
        products[p.key] = {
            "id": p.id,
            "isbt_code": p.isbt_code,
            "donation_type": p.donation_type,
            "shelf_life_days": p.shelf_life_days,
        }
    session.close()
    engine.dispose()
    assert bench is not None
    return users, products


def finish(engine, facility: Facility) -> None:
    """Counters continue after the generated numbers; sequences after the explicit ids; fresh statistics."""
    with engine.begin() as conn:
        counters = [("din", str(y), v) for y, v in facility.din_counters.items()] + [
            ("donor_code", str(y), v) for y, v in facility.donor_counters.items()
        ]
        conn.execute(insert(IdentifierCounter), [{"name": n, "scope": s, "value": v} for n, s, v in counters])
        if engine.dialect.name == "postgresql":
            for name in TABLES:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:  # committed: under engine.connect() SQLite's ANALYZE was rolled back
            conn.exec_driver_sql("ANALYZE")


def bench_audit_key() -> str:
    return os.environ.get("AUDIT_KEY") or BENCH_AUDIT_KEY


def bench_anchor_dir() -> Path:
    return Path(os.environ.get("AUDIT_ANCHOR_DIR") or BENCH_ANCHOR_DIR)


def install_bench_keys() -> None:
    """What the app factory does for its process (bank.anchors.install_site), for the benchmark's
    processes that write through the services without an app: the audit key, and where checkpoints go
    (written on command only: the generator writes one at the end)."""
    auditkey.install(bench_audit_key())
    anchors.configure(bench_anchor_dir())


def bench_server_env() -> dict:
    """The settings the benchmark's app server is started with: the same audit key and checkpoint folder
    as the generator's, and the benchmark's own session key (BANK_ENV production: 32+ characters)."""
    return {
        "SECRET_KEY": BENCH_SECRET_KEY,
        "AUDIT_KEY": bench_audit_key(),
        "AUDIT_ANCHOR_DIR": str(bench_anchor_dir()),
        "BANK_ENV": "production",
    }


def storage_move(w, tech, container_id: int, at: datetime, action: str, place: tuple, reason: str | None):
    """A container put into its box position (action "stored") or taken out of it ("removed"): the
    container's audit row and the storage event, as lots.services.storage writes them."""
    box_id, r, c = place
    stored = action == "stored"
    w.audit(
        at,
        tech,
        "update",
        "containers",
        container_id,
        {
            "box_id": [None, box_id] if stored else [box_id, None],
            "position_col": [None, c] if stored else [c, None],
            "position_row": [None, r] if stored else [r, None],
            "status": ["formulated", "stored"] if stored else ["stored", "removed"],
        },
        "containers stored" if stored else reason,
    )
    position = (
        {"box_id": box_id, "position_row": r, "position_col": c}
        if stored
        else {"from_box_id": box_id, "from_row": r, "from_col": c}
    )
    w.row(
        "storage_events",
        {
            "container_id": container_id,
            "action": action,
            **position,
            "at": at,
            "actor_id": tech[0],
            "actor_name": tech[1],
            "reason": reason,
        },
    )


def generate(url: str, scale: float, seed: int = 9) -> dict:
    started = time.perf_counter()
    install_bench_keys()
    recreate_database(url)
    upgrade(url)
    users, products = setup_core(url)
    engine = make_engine(url)
    writer = Writer(engine)
    facility = Facility(writer, scale, users, products, random.Random(seed))
    facility.run()
    written = dict(writer.written)
    written.update(generate_doses(engine, facility, seed, scale))
    finish(engine, facility)
    # A signed checkpoint of the generated chain, as `flask audit anchor` writes (audit verify checks it).
    anchors.write_checkpoint(engine, bench_anchor_dir())
    engine.dispose()
    return {"seconds": round(time.perf_counter() - started, 1), **written}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="sqlite:///path or postgresql+psycopg://…/bench…")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = ten years; 0.1 = a tenth")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    result = generate(args.db, args.scale, args.seed)
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
