"""Certificate of analysis (DOMAIN.md §4; EU GMP Annex 16): every test of the lot's specification with its
acceptance criterion, result, verdict, analyst and verifier, and QA's signature, drawn with bank.pdf.

The printed SHA-256 is the digest of `coa_content`, rebuilt from the database at any time: a print whose
digest no longer matches shows something the records do not say (or no longer say).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from bank import pdf
from bank.digest import content_digest
from bank.models import User
from lots.models import Lot
from release.models import TestResult
from release.rules import SpecTest, acceptance_text
from release.services import (
    decision_signature,
    lot_specification,
    release_record,
    results_of,
)


def result_text(result: TestResult) -> str:
    """A result as people read it: '91.5 %', 'no growth', 'CD73 98.1 %; CD90 99.0 %'."""
    if result.test_kind == "panel":
        return "; ".join(f"{marker} {value} %" for marker, value in json.loads(result.value).items())
    return f"{result.value} {result.unit}".strip()


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.full_name if user else None


def _line(session: Session, test: SpecTest | None, r: TestResult) -> dict:
    return {
        "result_id": r.id,
        "test": r.test_code,
        "name": test.name if test else r.test_code,
        "specification": acceptance_text(test) if test else "not in the specification",
        "result": result_text(r),
        "verdict": r.verdict,
        "interim": r.conditional,
        "method": r.method,
        "instrument": r.instrument,
        "performed_on": r.performed_on.isoformat(),
        "analyst": _name(session, r.entered_by_id),
        "verifier": _name(session, r.verified_by_id),
        "retest_of": r.retest_of_id,
        "retest_reason": r.retest_reason,
        "superseded_by": r.superseded_by_id,
        # keys added only when present, so the digest of a certificate printed before issue 18 holds
        **({"voided": f"voided {r.voided_at:%Y-%m-%d}: {r.void_reason}"} if r.voided else {}),
        **({"corrects": True} if r.corrects else {}),
    }


def coa_content(session: Session, lot: Lot) -> dict:
    """The plain data the certificate shows; its digest is printed in every footer."""
    spec_row = lot_specification(session, lot)
    spec = spec_row.spec() if spec_row else None
    results = results_of(session, lot)
    current = {r.test_code: r for r in results if r.current}
    lines = []
    for test in spec.tests if spec else ():
        r = current.get(test.code)
        lines.append(
            _line(session, test, r)
            if r
            else {
                "test": test.code,
                "name": test.name,
                "specification": acceptance_text(test),
                "result": None,
                "verdict": "missing",
            }
        )
    record = release_record(session, lot)
    signed = decision_signature(session, lot)
    decision = None
    if record is not None and record.decision and signed:
        sig, valid = signed
        decision = {
            "decision": record.decision,
            "conditional": record.conditional,
            "reason": record.reason,
            "signed_by": sig.printed_name,
            "meaning": sig.meaning,
            "signed_at": sig.signed_at,
            "signature_valid": valid,
        }
    return {
        "document": "Certificate of analysis",
        "lot": {
            "din": lot.din,
            "check_char": lot.check_char,
            "product": lot.product_type.key,
            "product_version": lot.product_type.version,
            "product_name": lot.product_type.name,
            "tier": lot.tier,
            "status": lot.status,
        },
        "specification": spec_row.label if spec_row else None,
        "results": lines,
        "superseded": [
            _line(session, spec.get_test(r.test_code) if spec else None, r) for r in results if not r.current
        ],
        "decision": decision,
    }


def coa_digest(session: Session, lot: Lot) -> str:
    """The digest a certificate printed now would carry (recomputed from the database)."""
    return content_digest(coa_content(session, lot))


def digest_matches(session: Session, lot: Lot, digest: str) -> bool:
    return coa_digest(session, lot) == (digest or "").strip().lower()


def coa_document(
    session: Session, lot: Lot, facility: str, printed_at: datetime | None = None
) -> pdf.Document:
    content = coa_content(session, lot)
    decision = content["decision"]
    verdict_words = {"pass": "PASS", "fail": "FAIL (out of specification)", "missing": "NO RESULT"}

    def row(line: dict) -> list[str]:
        verdict = verdict_words.get(line["verdict"], line["verdict"])
        if line.get("interim"):
            verdict += " (interim)"
        test = line["name"] + (f"\n{line['method']}, {line['performed_on']}" if line.get("method") else "")
        return [
            test,
            line["specification"],
            line["result"] or "—",
            verdict,
            line.get("analyst") or "—",
            line.get("verifier") or "not verified",
        ]

    status = decision["decision"] if decision else f"not decided ({lot.status.replace('_', ' ')})"
    if decision and not decision["signature_valid"]:
        status += " — SIGNATURE NOT VALID: the records changed after signing"
    if decision and decision["conditional"]:
        status += " — conditional release on an interim result; the final result follows"
    sections = [
        pdf.KeyValueSection(
            "Lot",
            [
                ("DIN", pdf.DinText(lot.din, lot.check_char)),
                ("Product", f"{lot.product_type.key} v{lot.product_type.version} — {lot.product_type.name}"),
                ("Specification", content["specification"] or "none"),
                ("Decision", status),
            ],
        ),
        pdf.TableSection(
            "Results",
            ["Test", "Specification", "Result", "Verdict", "Analyst", "Verifier"],
            [row(line) for line in content["results"]],
            widths=[2.2, 2.2, 1.8, 1.2, 1.3, 1.3],
        ),
    ]
    if content["superseded"]:
        sections.append(
            pdf.TableSection(
                "Superseded and voided results (kept; replaced by a retest or a correction, or voided)",
                ["Result", "Test", "Value", "Verdict", "Replaced by"],
                [
                    [
                        f"#{s['result_id']}",
                        s["name"],
                        s["result"],
                        s["verdict"],
                        s.get("voided") or f"#{s['superseded_by']}",
                    ]
                    for s in content["superseded"]
                ],
            )
        )
    signatures = []
    if decision:
        signatures.append(pdf.Signature(decision["signed_by"], decision["meaning"], decision["signed_at"]))
    return pdf.Document(
        title="Certificate of analysis",
        facility=facility,
        sections=sections,
        content=content,
        signatures=signatures,
        reference=f"DIN {lot.din} {lot.check_char}",
        printed_at=printed_at,
    )


def coa_pdf(
    session: Session, lot: Lot, facility: str, printed_at: datetime | None = None, deterministic: bool = False
) -> bytes:
    return pdf.build_document(coa_document(session, lot, facility, printed_at), deterministic=deterministic)
