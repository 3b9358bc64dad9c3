"""The executed batch record of a lot (EU GMP Part I 4.20 and Annex 16 1.7: what QA reviews before
certifying, and what inspectors ask for printed): the lot and its parent lots from the donor's
eligibility to the release decision, every entry with its verification, every QC result — superseded
and voided ones too, with their reason — and every signature manifestation.

`batch_record_content` is the plain data the record shows, rebuilt from the database at any time; its
SHA-256 is printed in every footer, so a printed copy can be checked (`digest_matches`). It holds data
only (stored English words, ids, UTC times): the digest never depends on the reader's language. The
donor appears by pseudonymous code only and no dose, subject or arm is named, so the record reveals
nothing blinding protects.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bank.digest import content_digest
from bank.esign import signatures_for
from bank.models import Signature, User
from bank.status import status_history
from bank.verification.services import VerifiableKind, verifications_of
from donors import services as donor_services
from donors.models import Donor
from lots import services as lot_services
from lots.models import Lot
from lots.services.deviations import closing_signature
from lots.services.processing import isolation_values, passage_values
from release.models import TestResult
from release.reports import result_text
from release.rules import acceptance_text
from release.services import (
    approval_signature,
    decision_signature,
    lot_specification,
    release_record,
    results_of,
)

DOCUMENT = "Executed batch record"


def _signature(sig: Signature, valid: bool) -> dict:
    return {
        "signature_id": sig.id,
        "printed_name": sig.printed_name,
        "meaning": sig.meaning,
        "signed_at": sig.signed_at,
        "valid": valid,
    }


class _Names:
    """Full names of users by id, read once each (a batch record names many people)."""

    def __init__(self, session: Session) -> None:
        self.session, self.known = session, {}

    def __call__(self, user_id: int | None) -> str | None:
        if not user_id:
            return None
        if user_id not in self.known:
            user = self.session.get(User, user_id)
            self.known[user_id] = user.full_name if user else None
        return self.known[user_id]


def _verification(entry, found, names: _Names) -> dict:
    """Who verified an entry: the signed act when there is one, else the stored verifier."""
    if found is not None:
        return _signature(found.signature, found.valid)
    if entry.verified_at is None:
        return {}
    return {"printed_name": names(entry.verified_by_id), "signed_at": entry.verified_at, "valid": None}


def _donor(session: Session, donor: Donor | None) -> dict | None:
    if donor is None:
        return None
    records = donor_services.determinations(session, donor)
    signed = {
        r.id: (sig, valid)
        for r, sig, valid in donor_services.signatures_with_validity(session, donor, records)
    }
    return {
        "code": donor.code,
        "status": donor.status,
        "autologous": donor.is_autologous,
        "consent_version": donor.consent_version,
        "consent_date": donor.consent_date,
        "under_lookback": donor.under_lookback,
        "determinations": [
            {
                "determination_id": r.id,
                "criteria_set": r.criteria_label,
                "outcome": r.outcome,
                "decision": r.decision,
                "comment": r.comment,
                "evaluation_date": r.evaluation_date,
                "harvest_date": r.harvest_date,
                "signature": _signature(*signed[r.id]) if r.id in signed else None,
            }
            for r in records
        ],
    }


def _place(box, row: int | None, col: int | None) -> dict | None:
    """A storage position as data (words are added when printed, in the reader's language)."""
    if box is None:
        return None
    return {"site": box.site, "tank": box.tank, "rack": box.rack, "box": box.name, "row": row, "col": col}


def _containers(session: Session, lot: Lot) -> list[dict]:
    rows = []
    for c in lot_services.containers_of(session, lot):
        rows.append(
            {
                "container_id": c.id,
                "identifier": c.identifier,
                "type": c.container_type,
                "cells": c.cells,
                "volume_ml": c.volume_ml,
                "cryoprotectant": c.cryoprotectant,
                "frozen_at": c.frozen_at,
                "expires_at": c.expires_at,
                "status": c.status,
                "on_hold": c.on_hold,
                "position": _place(c.box, c.position_row, c.position_col),
                "storage_events": [
                    {
                        "action": e.action,
                        "to": _place(e.box, e.position_row, e.position_col),
                        "from": _place(e.from_box, e.from_row, e.from_col),
                        "at": e.at,
                        "by": e.actor_name,
                        "reason": e.reason,
                    }
                    for e in lot_services.storage_events(session, c)
                ],
            }
        )
    return rows


def _results(session: Session, lot: Lot, registry, names: _Names) -> dict:
    spec_row = lot_specification(session, lot)
    spec = spec_row.spec() if spec_row else None
    results = results_of(session, lot)
    verified = verifications_of(session, registry, "result", [r.id for r in results])
    approval = approval_signature(session, spec_row) if spec_row else None
    record = release_record(session, lot)
    decided = decision_signature(session, lot, record)

    def line(r: TestResult) -> dict:
        test = spec.get_test(r.test_code) if spec else None
        return {
            "result_id": r.id,
            "test": r.test_code,
            "name": test.name if test else r.test_code,
            "specification": acceptance_text(test) if test else None,
            "result": result_text(r),
            "verdict": r.verdict,
            "interim": r.conditional,
            "method": r.method,
            "instrument": r.instrument,
            "performed_on": r.performed_on,
            "analyst": names(r.entered_by_id),
            "verification": _verification(r, verified.get(r.id), names),
            "current": r.current,
            "retest_of": r.retest_of_id,
            "retest_reason": r.retest_reason,
            "superseded_by": r.superseded_by_id,
            "corrects": r.corrects,
            "voided_at": r.voided_at,
            "void_reason": r.void_reason,
        }

    return {
        "specification": None
        if spec_row is None
        else {
            "label": spec_row.label,
            "status": spec_row.status,
            "approved": approval is not None and approval[1],
            "approval": _signature(*approval) if approval else None,
        },
        "results": [line(r) for r in results],
        "decision": None
        if record is None or not record.decision
        else {
            "decision": record.decision,
            "conditional": record.conditional,
            "reason": record.reason,
            "signature": _signature(*decided) if decided else None,
        },
    }


def _lot(session: Session, lot: Lot, registry: dict[str, VerifiableKind], names: _Names) -> dict:
    harvest = lot_services.harvest_of(session, lot)
    isolations = lot_services.isolation_history(session, lot)
    passages = lot_services.passage_history(session, lot)
    isolation_checks = verifications_of(session, registry, "isolation", [i.id for i in isolations])
    passage_checks = verifications_of(session, registry, "passage", [p.id for p in passages])
    corrections = {(c.kind, c.original_id): c for c in lot_services.corrections_of(session, lot)}

    def correction(kind: str, entry_id: int) -> dict | None:
        c = corrections.get((kind, entry_id))
        if c is None or c.status != "applied":
            return None
        return {"action": c.action, "reason": c.reason, "by": names(c.requested_by_id)}

    return {
        "din": lot.din,
        "check_char": lot.check_char,
        "product": lot.product_type.key,
        "product_version": lot.product_type.version,
        "product_name": lot.product_type.name,
        "max_passage": lot.product_type.max_passage,
        "max_cumulative_pd": lot.product_type.max_cumulative_pd,
        "tier": lot.tier,
        "status": lot.status,
        "quarantined": lot.quarantined,
        "starting_pd": lot.starting_pd,
        "harvest": None
        if harvest is None
        else {
            "tissue": harvest.tissue,
            "mass_g": harvest.mass_g,
            "volume_ml": harvest.volume_ml,
            "collected_at": harvest.collected_at,
            "site": harvest.site,
            "operator": harvest.operator,
            "recorded_by": names(harvest.recorded_by_id),
        },
        "isolations": [
            {
                "entry_id": i.id,
                **isolation_values(i),
                "entered_by": names(i.entered_by_id),
                "in_force": i.in_force,
                "verification": _verification(i, isolation_checks.get(i.id), names),
                "correction": correction("isolation", i.id),
            }
            for i in isolations
        ],
        "passages": [
            {
                "entry_id": p.id,
                **passage_values(p),
                "population_doublings": p.population_doublings,
                "entered_by": names(p.entered_by_id),
                "in_force": p.in_force,
                "plausibility_comment": p.plausibility_comment,
                "verification": _verification(p, passage_checks.get(p.id), names),
                "correction": correction("passage", p.id),
            }
            for p in passages
        ],
        "cumulative_pd": lot_services.cumulative_pd(session, lot),
        "materials": [
            {
                "step": u.step,
                "material": u.material_lot.material.name,
                "supplier": u.material_lot.material.supplier,
                "lot_number": u.material_lot.lot_number,
                "expiry": u.material_lot.expiry,
                "material_lot_status": u.material_lot.status,
                "animal_origin": u.material_lot.material.animal_origin,
                "used_on": u.used_on,
            }
            for u in lot_services.material_uses(session, lot)
        ],
        "deviations": [
            {
                "number": d.number,
                "description": d.description,
                "impact": d.impact,
                "corrective_action": d.corrective_action,
                "status": d.status,
                "recorded_at": d.recorded_at,
                "closure": _signature(*closed) if (closed := closing_signature(session, d)) else None,
            }
            for d in lot_services.deviations_of(session, lot)
        ],
        "containers": _containers(session, lot),
        "lot_signatures": [_signature(s, None) for s in signatures_for(session, "lots", lot.id)],
        "status_history": [
            {"from": c.from_status, "to": c.to_status, "at": c.at, "by": c.actor_name, "reason": c.reason}
            for c in status_history(session, lot)
        ],
        **_results(session, lot, registry, names),
    }


def batch_record_content(session: Session, lot: Lot, registry: dict[str, VerifiableKind]) -> dict:
    """The plain data the batch record shows: the donor, then each lot from the harvest lot down to
    `lot` (a derived lot carries its parents' processing). `registry` is the app's verifiable kinds
    (bank.verification), which say whether each verification signature still holds."""
    names = _Names(session)
    chain = list(reversed(lot_services.lineage(session, lot)))
    return {
        "document": DOCUMENT,
        "din": lot.din,
        "check_char": lot.check_char,
        "donor": _donor(session, session.get(Donor, lot.donor_id) if lot.donor_id else None),
        "lots": [_lot(session, each, registry, names) for each in chain],
    }


def batch_record_digest(session: Session, lot: Lot, registry: dict[str, VerifiableKind]) -> str:
    return content_digest(batch_record_content(session, lot, registry))


def digest_matches(session: Session, lot: Lot, registry: dict[str, VerifiableKind], digest: str) -> bool:
    """Does a printed copy (the SHA-256 in its footer) still show what the records say?"""
    return batch_record_digest(session, lot, registry) == (digest or "").strip().lower()


def signatures_of(content: dict) -> list[dict]:
    """Every signature manifestation in the record, once each, in time order (for the closing table)."""
    found: dict = {}

    def add(sig: dict | None) -> None:
        if sig and sig.get("signature_id") is not None:
            found.setdefault(sig["signature_id"], sig)

    for d in (content["donor"] or {}).get("determinations", []):
        add(d["signature"])
    for each in content["lots"]:
        for entry in each["isolations"] + each["passages"] + each["results"]:
            add(entry["verification"])
        for d in each["deviations"]:
            add(d["closure"])
        for s in each["lot_signatures"]:
            add(s)
        add((each["specification"] or {}).get("approval"))
        add((each["decision"] or {}).get("signature"))
    return sorted(found.values(), key=lambda s: (s["signed_at"], s["signature_id"]))
