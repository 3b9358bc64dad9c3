"""Doses for the benchmark facility (issue 9), written after bench.generate's lots and containers: patients
of the three seed protocols (weights, signed eligibility checklist, enrolled; randomisation entries for the
blinded ones), allocations of one released dose-lot bag each (mostly administered; the last days'
allocated, issued or on hold; 1 % deallocated and replaced), the custody events of each dose with both
signatures, the containers' new states and storage events, status history, and the audit rows — appended
to the hash chain after the facility's rows (chain order = id order; not interleaved in time with them).

Simplifications: one bag per dose (cell count not matched to the protocol range); an administered dose
uses a bag already taken out of storage near its date when there is one, else a stored bag.
"""

from __future__ import annotations

import bisect
import heapq
import json
import random
from datetime import UTC, timedelta

from sqlalchemy import select, text, update

import doses.custody.models  # noqa: F401  (registers custody_events)
from bank.db import Base
from bank.esign import _binding, content_digest
from bank.models import User
from doses.custody.services import event_content
from doses.custody.states import KINDS
from doses.models import ProtocolVersion
from doses.rules import arm_for_dose, endotoxin_limit_eu, target_dose
from doses.rules.protocol import Protocol
from doses.services.patients import evaluate_checklist
from doses.states import ATTESTED_MEANING
from lots.models import Container

TABLES = (
    "patients",
    "patient_weights",
    "signatures",
    "eligibility_attestations",
    "randomisation_imports",
    "randomisation_entries",
    "allocations",
    "allocation_containers",
    "custody_events",
    "storage_events",
    "status_changes",
    "audit_entries",
)
SITE_CODES = {"MESEMS": "TLS", "MAESTRO-4MS": "REN", "MSC-AT-SSc": "SLS"}
SHIPPED = ("issued_from_storage", "packed", "shipped", "received_at_site", "thawed", "administered")
LOCAL = ("issued_from_storage", "thawed", "administered")
FACILITY_PLACE = "Cell therapy facility, Cryostore A"


def aware(value):
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


class Doses:
    def __init__(self, writer, facility, rng: random.Random, target: int):
        from bench.generate import inserted  # late import: bench.generate imports this module

        self.w, self.f, self.rng, self.target, self.inserted = writer, facility, rng, target, inserted
        self.end = facility.end
        with writer.engine.connect() as conn:
            self.people = {u.id: u for u in conn.execute(select(User.id, User.username, User.full_name))}
            self.protocols = {
                r.code: r
                for r in conn.execute(
                    select(
                        ProtocolVersion.id,
                        ProtocolVersion.code,
                        ProtocolVersion.version,
                        ProtocolVersion.definition,
                    )
                )
            }
            self.load_containers(conn)
        self.staff = [u for role in ("technician", "qa") for u in facility.users[role]]
        self.investigator = next(u for u in self.people.values() if u.username == "bench")
        self.container_updates: dict[int, tuple[str, bool, int]] = {}  # id → (status, out of box, updates)
        self.counts = dict.fromkeys(("patients", "allocations", "custody_events"), 0)
        self.imports: dict[str, int] = {}

    # --- supply: bags of released dose lots ----------------------------------------------------------

    def load_containers(self, conn) -> None:
        t = Base.metadata.tables
        sc, se, c, lot = t["status_changes"], t["storage_events"], t["containers"], t["lots"]
        released = {
            int(e): aware(at)
            for e, at in conn.execute(
                select(sc.c.entity_id, sc.c.at).where(sc.c.entity == "lots", sc.c.to_status == "released")
            )
        }
        removed = {
            i: aware(at)
            for i, at in conn.execute(select(se.c.container_id, se.c.at).where(se.c.action == "removed"))
        }
        rows = conn.execute(
            select(
                c.c.id,
                c.c.lot_id,
                lot.c.din,
                c.c.product_code,
                lot.c.product_type_id,
                lot.c.donor_id,
                c.c.status,
                c.c.box_id,
                c.c.position_row,
                c.c.position_col,
                c.c.expires_at,
            )
            .join(lot, lot.c.id == c.c.lot_id)
            .where(lot.c.tier == "dose", lot.c.status == "released")
            .order_by(c.c.id)
        )
        self.bags, self.removed_pools, self.stored_pools = {}, {}, {}
        for r in rows:
            bag = dict(
                r._mapping,
                expires_at=aware(r.expires_at),
                released_at=released[r.lot_id],
                removed_at=removed.get(r.id),
                identifier=f"{r.din} {r.product_code}",
            )
            self.bags[r.id] = bag
            key = (
                ("donor", r.donor_id)
                if r.donor_id and r.product_type_id == self.auto_id()
                else ("product", r.product_type_id)
            )
            if bag["removed_at"] and bag["released_at"] < bag["removed_at"] < bag["expires_at"] - timedelta(
                days=1
            ):
                self.removed_pools.setdefault(key, []).append((bag["removed_at"], r.id))
            elif r.status == "stored":
                self.stored_pools.setdefault(key, []).append((bag["expires_at"], r.id))
        for pool in (*self.removed_pools.values(), *self.stored_pools.values()):
            pool.sort()
        self.used: set[int] = set()

    def auto_id(self) -> int:
        return self.f.products["BM-MSC-AUTO"]["id"]

    def take(self, key, t, window: timedelta | None):
        """A bag for a dose at `t`: one taken out of storage within `window` of t, else a stored one
        (first to expire, released before t − 3 days, expiring after t + 1 day). Returns (bag, time)."""
        if window is not None:
            pool = self.removed_pools.get(key, [])
            i = bisect.bisect_left(pool, (t - window, 0))
            while i < len(pool) and pool[i][0] <= t + window:
                if pool[i][1] not in self.used and pool[i][0] > self.bags[pool[i][1]][
                    "released_at"
                ] + timedelta(days=3):
                    self.used.add(pool[i][1])
                    return self.bags[pool[i][1]], pool[i][0]
                i += 1
        pool = self.stored_pools.get(key, [])
        i = bisect.bisect_left(pool, (t + timedelta(days=1), 0))
        while i < len(pool) and self.bags[pool[i][1]]["released_at"] < t - timedelta(days=3):
            if pool[i][1] not in self.used:
                self.used.add(pool[i][1])
                return self.bags[pool[i][1]], t
            i += 1
        return None, t

    # --- records ---------------------------------------------------------------------------------

    def actor(self, user) -> tuple[int, str]:
        return user.id, f"{user.full_name} ({user.username})"  # noqa: E704

    def insert(self, table, values, at, actor, reason=None, excluded=("version",)):
        row = self.w.row(table, values)
        self.w.audit(at, actor, "insert", table, row["id"], self.inserted(values, excluded), reason)
        return row

    def status(self, at, actor, table, row, target, reason, signature_id=None, extra=None):
        changes = {**(extra or {}), "status": [row["status"], target]}
        self.w.audit(at, actor, "update", table, row["id"], changes, reason)
        self.w.row(
            "status_changes",
            {
                "entity": table,
                "entity_id": str(row["id"]),
                "from_status": row["status"],
                "to_status": target,
                "at": at,
                "actor_id": actor[0],
                "actor_name": actor[1],
                "reason": reason,
                "signature_id": signature_id,
            },
        )
        row["status"], row["version"] = target, row["version"] + 1

    def sign(self, user, meaning, at, entity, entity_id, content, actor, countersign=False) -> int:
        digest = content_digest(content)
        sig = self.w.row(
            "signatures",
            {
                "user_id": user.id,
                "printed_name": user.full_name,
                "meaning": meaning,
                "signed_at": at,
                "entity": entity,
                "entity_id": str(entity_id),
                "content_digest": digest,
                "binding_digest": _binding(
                    user.id, user.full_name, meaning, at.isoformat(), entity, str(entity_id), digest
                ),
            },
        )
        changes = {
            "signature": [None, sig["id"]],
            "meaning": [None, meaning],
            "content_digest": [None, digest],
        }
        if countersign:
            changes["countersigned_at_session_of"] = [None, actor[1]]
        self.w.audit(at, actor, "sign", entity, entity_id, changes, None)
        return sig["id"]

    def container(self, bag, at, actor, target, reason, out_of_box=False):
        old = self.container_updates.get(bag["id"], (bag["status"], False, 0))
        changes = {"status": [old[0], target]}
        if out_of_box and bag["box_id"] is not None and not old[1]:
            changes.update(
                box_id=[bag["box_id"], None],
                position_col=[bag["position_col"], None],
                position_row=[bag["position_row"], None],
            )
            self.w.row(
                "storage_events",
                {
                    "container_id": bag["id"],
                    "action": "removed",
                    "from_box_id": bag["box_id"],
                    "from_row": bag["position_row"],
                    "from_col": bag["position_col"],
                    "at": at,
                    "actor_id": actor[0],
                    "actor_name": actor[1],
                    "reason": reason,
                },
            )
        self.w.audit(at, actor, "update", "containers", bag["id"], changes, reason)
        self.container_updates[bag["id"]] = (target, old[1] or len(changes) > 1, old[2] + 1)

    # --- patients ------------------------------------------------------------------------------------

    def patient(self, code, n, t1, donor_id=None) -> dict:
        rng, w = self.rng, self.w
        pv = self.protocols[code]
        protocol = pv_protocol(pv)
        registered = t1 - timedelta(days=21)
        evaluated = registered + timedelta(days=7)
        dob = (evaluated - timedelta(days=rng.randint(30 * 365, 45 * 365))).date()
        subject = f"{code.upper()}-{SITE_CODES[code]}-{n:06d}"
        inv = self.actor(self.investigator)
        row = {
            "id": w.new_id("patients"),
            "subject_id": subject,
            "protocol_version_id": pv.id,
            "site": protocol.sites[0],
            "sex": rng.choice("FM"),
            "date_of_birth": dob,
            "first_dose_on": t1.date(),
            "donor_id": donor_id,
            "status": "screening",
            "created_at": registered,
            "version": 1,
        }
        final = dict(row)
        final = self.w.row("patients", final)
        self.w.audit(registered, inv, "insert", "patients", row["id"], self.inserted(row), None)
        w.row(
            "status_changes",
            {
                "entity": "patients",
                "entity_id": str(row["id"]),
                "from_status": None,
                "to_status": "screening",
                "at": registered,
                "actor_id": inv[0],
                "actor_name": inv[1],
            },
        )
        weight = round(rng.uniform(50, 100), 1)
        self.insert(
            "patient_weights",
            {
                "patient_id": row["id"],
                "weight_kg": weight,
                "measured_on": registered.date(),
                "recorded_at": registered,
            },
            registered,
            inv,
        )
        edss, diagnosis = "4.5", (evaluated - timedelta(days=rng.randint(3 * 365, 8 * 365))).date()
        answers = {
            c.id: "yes" if c.kind.value == "inclusion" else "no" for c in protocol.checklist if not c.computed
        }
        outcome = evaluate_checklist(protocol, dob, evaluated.date(), edss, diagnosis, answers)
        assert outcome.eligible, outcome.reasons
        computed = [[c.id, c.met, c.evidence] for c in outcome.computed]
        content = {
            "subject_id": subject,
            "protocol": f"{pv.code} v{pv.version}",
            "evaluation_date": evaluated.date(),
            "edss": edss,
            "diagnosis_date": diagnosis,
            "answers": answers,
            "computed": computed,
            "outcome": "eligible",
        }
        sig = self.sign(self.investigator, ATTESTED_MEANING, evaluated, "patients", row["id"], content, inv)
        self.insert(
            "eligibility_attestations",
            {
                "patient_id": row["id"],
                "protocol_version_id": pv.id,
                "evaluation_date": evaluated.date(),
                "edss": edss,
                "diagnosis_date": diagnosis,
                "answers": json.dumps(answers, sort_keys=True),
                "computed": json.dumps(computed),
                "outcome": "eligible",
                "signature_id": sig,
                "created_at": evaluated,
            },
            evaluated,
            inv,
        )
        self.status(evaluated, inv, "patients", final, "enrolled", "all checklist items met", sig)
        if protocol.blinded:
            sequence = rng.choice(protocol.sequences)
            self.insert(
                "randomisation_entries",
                {
                    "import_id": self.imports[code],
                    "protocol_code": code,
                    "subject_id": subject,
                    "sequence": sequence,
                },
                registered,
                inv,
                excluded=("sequence",),
            )
        else:
            sequence = protocol.sequences[0]
        self.counts["patients"] += 1
        return {"row": final, "protocol": protocol, "pv": pv, "weight": weight, "sequence": sequence}

    # --- doses -----------------------------------------------------------------------------------

    def dose(self, p, number, t, deallocate=False) -> bool:
        rng, protocol = self.rng, p["protocol"]
        arm = arm_for_dose(p["sequence"], number)
        product = self.f.products[protocol.placebo_product_key if arm == "placebo" else protocol.product_key]
        key = (
            ("donor", p["row"]["donor_id"])
            if p["row"]["donor_id"] and arm != "placebo"
            else ("product", product["id"])
        )
        window = None if deallocate else timedelta(days=0 if number == 1 else 7) + timedelta(days=2)
        bag, t = self.take(key, t, window)
        if bag is None:
            return False
        pharmacist = self.actor(self.investigator)
        allocated_at, issued_at = t - timedelta(days=2), t - timedelta(hours=rng.randint(20, 30))
        weighed = allocated_at - timedelta(days=1)
        self.insert(
            "patient_weights",
            {
                "patient_id": p["row"]["id"],
                "weight_kg": p["weight"],
                "measured_on": weighed.date(),
                "recorded_at": weighed,
            },
            weighed,
            pharmacist,
        )
        dose_target = target_dose(protocol.dose_rule, p["weight"])
        row = {
            "id": self.w.new_id("allocations"),
            "patient_id": p["row"]["id"],
            "protocol_version_id": p["pv"].id,
            "dose_number": number,
            "planned_at": t,
            "status": "allocated",
            "weight_kg": p["weight"],
            "weight_measured_on": weighed.date(),
            "target_min_cells": float(dose_target.min_cells),
            "target_max_cells": float(dose_target.max_cells),
            "endotoxin_limit_eu": float(
                endotoxin_limit_eu(protocol.endotoxin_k_eu_per_kg_h, p["weight"], protocol.infusion_hours)
            ),
            "allocated_at": allocated_at,
            "allocated_by_id": pharmacist[0],
            "version": 1,
        }
        final = dict(row)
        final = self.w.row("allocations", final)
        self.w.audit(allocated_at, pharmacist, "insert", "allocations", row["id"], self.inserted(row), None)
        self.w.row(
            "status_changes",
            {
                "entity": "allocations",
                "entity_id": str(row["id"]),
                "from_status": None,
                "to_status": "allocated",
                "at": allocated_at,
                "actor_id": pharmacist[0],
                "actor_name": pharmacist[1],
            },
        )
        line = self.insert(
            "allocation_containers",
            {"allocation_id": row["id"], "container_id": bag["id"]},
            allocated_at,
            pharmacist,
        )
        from_storage = bag["removed_at"] is None
        if from_storage:
            self.container(bag, allocated_at, pharmacist, "allocated", None)
        self.counts["allocations"] += 1
        label = f"{p['row']['subject_id']} dose {number}"
        if deallocate:
            at = allocated_at + timedelta(hours=4)
            reason = "planned visit moved by the site"
            self.status(
                at,
                pharmacist,
                "allocations",
                final,
                "deallocated",
                reason,
                extra={"deallocated_at": [None, at.isoformat()], "deallocation_reason": [None, reason]},
            )
            final.update(deallocated_at=at, deallocation_reason=reason)
            line["released_at"] = at
            self.w.audit(
                at,
                pharmacist,
                "update",
                "allocation_containers",
                line["id"],
                {"released_at": [None, at.isoformat()]},
                reason,
            )
            self.container(bag, at, pharmacist, "stored", reason)
            return True
        events = SHIPPED if rng.random() < 0.4 else LOCAL
        if t > self.end - timedelta(days=2):  # the last days' doses: allocated, on hold or on their way
            pick = rng.random()
            if pick < 0.6:
                if pick < 0.2:
                    at = min(allocated_at + timedelta(hours=2), self.end)
                    reason = "look-back: donor result under review"
                    self.status(
                        at,
                        pharmacist,
                        "allocations",
                        final,
                        "on_hold",
                        reason,
                        extra={"held_from": [None, "allocated"], "hold_reason": [None, reason]},
                    )
                    final.update(held_from="allocated", hold_reason=reason)
                return True
            events = events[: rng.randint(1, events.index("thawed"))]
            t = min(t, self.end)
            issued_at = min(issued_at, t - timedelta(hours=1))
        steps = len(events) - 1 or 1
        for sequence, event in enumerate(events, 1):  # evenly spread from the issue to the dose time
            at = issued_at + (t - issued_at) * (sequence - 1) / steps
            self.custody(p, final, bag, sequence, event, at, label, from_storage)
        return True

    def custody(self, p, alloc, bag, sequence, event, at, label, from_storage) -> None:
        giver, taker = self.rng.sample(self.staff, 2)
        giver_u, taker_u = self.people[giver[0]], self.people[taker[0]]
        site = p["row"]["site"]
        shipping = event in ("shipped", "received_at_site")
        fields = {
            "place": FACILITY_PLACE if event in ("issued_from_storage", "packed", "shipped") else site,
            "shipper": "BioCourier Cryo" if event == "shipped" else None,
            "logger_id": f"LOG-{alloc['id']:07d}" if shipping else None,
            "temperature_min_c": -190.0 if shipping else None,
            "temperature_max_c": -165.0 if shipping else None,
            "excursion": False,
            "excursion_description": None,
            "condition_on_receipt": "Dry shipper intact, seal unbroken"
            if event == "received_at_site"
            else None,
            "scanned_code": bag["identifier"],
            "subject_id_checked": p["row"]["subject_id"] if event == "administered" else None,
            "notes": None,
        }
        content = event_content(
            allocation_id=alloc["id"],
            sequence=sequence,
            event=event,
            container=bag["identifier"],
            occurred_at=at,
            handed_over_by=giver_u.username,
            received_by=taker_u.username,
            **fields,
        )
        kind = KINDS[event]
        handover = self.sign(giver_u, kind.handover_meaning, at, "allocations", alloc["id"], content, giver)
        receipt = self.sign(
            taker_u, kind.receipt_meaning, at, "allocations", alloc["id"], content, giver, True
        )
        self.insert(
            "custody_events",
            {
                "allocation_id": alloc["id"],
                "container_id": bag["id"],
                "sequence": sequence,
                "event": event,
                "occurred_at": at,
                "recorded_at": at,
                "handed_over_by_id": giver[0],
                "handover_signature_id": handover,
                "received_by_id": taker[0],
                "receipt_signature_id": receipt,
                **fields,
            },
            at,
            giver,
        )
        self.counts["custody_events"] += 1
        if event == "issued_from_storage":
            self.status(at, giver, "allocations", alloc, "issued", f"issued from storage: {label}")
            if from_storage:
                self.container(bag, at, giver, "removed", f"issued from storage: {label}", out_of_box=True)
        elif event == "shipped":
            self.container(bag, at, giver, "shipped", None)
        elif event == "administered":
            self.status(
                at,
                giver,
                "allocations",
                alloc,
                "administered",
                None,
                extra={"administered_at": [None, at.isoformat()]},
            )
            alloc["administered_at"] = at
            self.container(bag, at, giver, "administered", None)

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        self.record_randomisation_imports()
        offsets = {
            code: [s.offset_days for s in pv_protocol(pv).schedule] for code, pv in self.protocols.items()
        }
        self.give_doses(self.first_dose_requests(offsets), offsets)
        self.w.flush()
        self.apply_container_updates()

    def record_randomisation_imports(self) -> None:
        inv = self.actor(self.investigator)
        for code, pv in self.protocols.items():
            if pv_protocol(pv).blinded:
                imp = self.insert(
                    "randomisation_imports",
                    {
                        "protocol_code": code,
                        "filename": f"{code}-randomisation.csv",
                        "sha256": "0" * 64,
                        "rows": 0,
                        "imported_at": self.f.start,
                        "imported_by_id": inv[0],
                    },
                    self.f.start,
                    inv,
                )
                self.imports[code] = imp["id"]

    def first_dose_requests(self, offsets: dict[str, list[int]]) -> list[tuple]:
        """(first dose time, patient number, protocol, own donor) for every patient planned, in time order:
        one autologous patient a donor who gave for one, then allogeneic patients up to the target."""
        rng = self.rng
        autologous = sorted(
            {
                b["donor_id"]
                for b in self.bags.values()
                if b["donor_id"] and b["product_type_id"] == self.auto_id()
            }
        )
        plans = [("MESEMS", d) for d in autologous]
        scheduled = sum(len(offsets["MESEMS"]) for _ in plans)
        while scheduled < self.target:
            code = "MSC-AT-SSc" if rng.random() < 0.15 else "MAESTRO-4MS"
            plans.append((code, None))
            scheduled += len(offsets[code])
        first_release = min(b["released_at"] for b in self.bags.values())
        span = (self.end + timedelta(days=2)) - (first_release + timedelta(days=30))
        requests = []
        for n, (code, donor_id) in enumerate(plans):
            if donor_id is not None:
                own = min(b["released_at"] for b in self.bags.values() if b["donor_id"] == donor_id)
                t1 = own + timedelta(days=rng.randint(10, 40), hours=rng.randint(8, 16))
            else:
                t1 = first_release + timedelta(days=30) + span * rng.random()
            requests.append((t1, n, code, donor_id))
        requests.sort()
        return requests

    def top_up_patients(self, info: dict, queue: list) -> None:
        """Doses skipped for want of an in-date bag leave the run short: patients enrolled in the last
        months make up the difference (so the facility ends with doses on their way)."""
        for _ in range(-(-(self.target - self.counts["allocations"]) // 3)):
            n = len(info)
            info[n] = ("MAESTRO-4MS", None)
            t1 = self.end - timedelta(days=self.rng.randint(0, 240), hours=self.rng.randint(0, 12))
            heapq.heappush(queue, (t1, n, 1))

    def give_doses(self, requests: list[tuple], offsets: dict[str, list[int]]) -> None:
        """Enrol each patient at their first dose and give the protocol's doses in time order until the
        target number of allocations is reached."""
        patients, numbers, info = {}, {}, {n: (code, donor_id) for _, n, code, donor_id in requests}
        queue = [(t1, n, 1) for t1, n, _, _ in requests]
        heapq.heapify(queue)
        top_ups = 0
        while self.counts["allocations"] < self.target:
            if not queue:
                top_ups += 1
                if top_ups > 20:  # the shelf cannot serve more: stop short rather than loop
                    break
                self.top_up_patients(info, queue)
            t, n, number = heapq.heappop(queue)
            if n not in patients:
                code, donor_id = info[n]
                numbers[code] = numbers.get(code, 0) + 1
                patients[n] = self.patient(code, numbers[code], t, donor_id)
            p = patients[n]
            if self.rng.random() < 0.01:
                self.dose(p, number, t, deallocate=True)
            if not self.dose(p, number, t):
                continue
            offs = offsets[p["pv"].code]
            if number < len(offs):
                nxt = t + timedelta(days=offs[number] - offs[number - 1])
                if nxt <= self.end + timedelta(days=2):
                    heapq.heappush(queue, (nxt, n, number + 1))
            if self.w.pending >= 40_000:
                self.w.flush()

    def apply_container_updates(self) -> None:
        groups: dict[tuple, list[int]] = {}
        for cid, (status, out, n) in self.container_updates.items():
            groups.setdefault((status, out, n), []).append(cid)
        table = Container.__table__
        with self.w.engine.begin() as conn:
            for (status, out, n), ids in groups.items():
                values = {"status": status, "version": table.c.version + n}
                if out:
                    values.update(box_id=None, position_row=None, position_col=None)
                for i in range(0, len(ids), 5000):
                    conn.execute(update(table).where(table.c.id.in_(ids[i : i + 5000])).values(**values))


def pv_protocol(pv):
    return _PROTOCOLS.setdefault(pv.id, Protocol.from_dict(json.loads(pv.definition)))


_PROTOCOLS: dict = {}


def generate_doses(engine, facility, seed: int, scale: float) -> dict:
    from bench.generate import Writer

    writer = Writer(engine, TABLES)
    doses = Doses(writer, facility, random.Random(seed + 1), round(100_000 * scale))
    doses.run()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for name in TABLES:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )
    return {f"doses_{k}": v for k, v in doses.counts.items()} | {
        f"+{k}": v for k, v in writer.written.items() if k not in ("patients", "custody_events")
    }
