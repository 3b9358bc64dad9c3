"""Certificate of analysis (DOMAIN.md §4; EU GMP Annex 16): every test of the lot's specification with its
acceptance criterion, result, verdict, analyst and verifier, and QA's signature, drawn with bank.pdf.

The printed SHA-256 is the digest of `coa_content`, rebuilt from the database at any time: a print whose
digest no longer matches shows something the records do not say (or no longer say). The content holds the
English of every text (a bank.i18n.Text is its English as a str), so the digest is the same whatever language
the certificate is printed in; `coa_document` draws each text in the reader's language.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from sqlalchemy.orm import Session

from bank import pdf
from bank.digest import content_digest
from bank.i18n import N_, Text, localize, t
from bank.languages import day_text
from bank.models import User
from lots.models import Lot
from lots.states import LOT_WORKFLOW
from release.models import CORRECTION_PREFIX, TestResult
from release.rules import SpecTest, acceptance_text
from release.rules.texts import figure, joined, known_text
from release.services import (
    decision_signature,
    lot_specification,
    release_record,
    results_of,
)

# Markers the reference data carries for the people who maintain it ("[check]": a figure to confirm before
# use); a printed record never shows them.
INTERNAL_MARKERS = re.compile(r"\s*\[check\]")

VERDICT_WORDS = {"pass": N_("pass"), "fail": N_("fail")}


def verdict_word(verdict: str, interim: bool = False) -> Text:
    """A stored verdict in words ('pass', 'pass (interim)'), shown in the reader's language."""
    word = known_text(VERDICT_WORDS.get(verdict, verdict))
    return t("%(verdict)s (interim)", verdict=word) if interim else word


def result_text(result: TestResult) -> Text:
    """A result as people read it: '91.5 %', 'no growth', 'CD73 98.1 %; CD90 99.0 %' (figures exact, with
    the reader's decimal mark; the English is the certificate's content)."""
    if result.test_kind == "panel":
        return joined(
            [
                # str(): the figure exactly as stored (a panel stored with JSON numbers reads as it always did)
                Text("%(marker)s %(value)s %%", {"marker": marker, "value": figure(str(value))})
                for marker, value in json.loads(result.value).items()
            ],
            "; ",
        )
    if result.test_kind == "numeric" and result.unit:
        return Text("%(value)s %(unit)s", {"value": figure(result.value), "unit": result.unit})
    if result.test_kind == "qualitative" and not result.unit:
        # A controlled term ('no growth') in the reader's language; a site's own text as written.
        return Text("%(value)s", {"value": known_text(result.value)})
    return Text("%(value)s", {"value": f"{result.value} {result.unit}".strip()})


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.full_name if user else None


def _line(session: Session, test: SpecTest | None, r: TestResult) -> dict:
    return {
        "result_id": r.id,
        "test": r.test_code,
        "name": test.name if test else r.test_code,
        "specification": acceptance_text(test) if test else t("not in the specification"),
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
        **(
            {"voided": t("voided %(day)s: %(reason)s", day=r.voided_at.date(), reason=r.void_reason)}
            if r.voided
            else {}
        ),
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


def shown_text(text) -> str:
    """A text of the content as the reader reads it, without the reference data's internal markers."""
    return INTERNAL_MARKERS.sub("", str(localize(text)))


def _day(iso: str | None) -> str:
    return day_text(date.fromisoformat(iso)) if iso else ""


def _verdict_cell(line: dict) -> str:
    verdicts = {"pass": t("PASS"), "fail": t("FAIL (out of specification)"), "missing": t("NO RESULT")}
    verdict = verdicts.get(line["verdict"], known_text(line["verdict"]))
    if line.get("interim"):
        verdict = t("%(verdict)s (interim)", verdict=verdict)
    return shown_text(verdict)


def _result_row(line: dict) -> list[str]:
    test = shown_text(known_text(line["name"]))
    if line.get("method"):
        test += f"\n{line['method']}, {_day(line['performed_on'])}"
    if line.get("retest_reason"):
        test += "\n" + shown_text(_replacement(line))
    return [
        test,
        shown_text(line["specification"]),
        shown_text(line["result"]) if line["result"] else "—",
        _verdict_cell(line),
        line.get("analyst") or "—",
        line.get("verifier") or shown_text(t("not verified")),
    ]


def _replacement(after: dict) -> Text:
    """Why a result replaced the one before it, in words: a correction or a retest, with its reason."""
    reason = after.get("retest_reason") or ""
    if after.get("corrects"):
        return t("Correction of a typing error: %(reason)s", reason=reason.removeprefix(CORRECTION_PREFIX))
    return t(
        "Retest performed %(day)s: %(reason)s", day=_day(after.get("performed_on")), reason=known_text(reason)
    )


def _superseded_row(line: dict, by_id: dict[int, dict]) -> list[str]:
    """A result kept but no longer counting: what it said, and what replaced or voided it and why (never an
    internal number alone)."""
    if line.get("voided"):
        why = line["voided"]
    elif (after := by_id.get(line.get("superseded_by"))) is not None:
        why = _replacement(after)
    else:
        why = t("Replaced by a later result.")
    return [
        shown_text(known_text(line["name"])),
        shown_text(line["result"]) or "—",
        _verdict_cell(line),
        f"{line.get('method') or ''}, {_day(line.get('performed_on'))}".strip(", "),
        line.get("analyst") or "—",
        shown_text(why),
    ]


def _decision_text(decision: dict | None, lot: Lot) -> str:
    if decision is None:
        status = t("not decided (%(status)s)", status=known_text(LOT_WORKFLOW.label(lot.status)))
    else:
        words = {"released": t("released"), "rejected": t("rejected")}
        status = words.get(decision["decision"], known_text(decision["decision"]))
        if decision["reason"]:
            status = t("%(decision)s: %(reason)s", decision=status, reason=decision["reason"])
    text = shown_text(status)
    if decision and not decision["signature_valid"]:
        text += " — " + shown_text(t("SIGNATURE NOT VALID: the records changed after signing"))
    if decision and decision["conditional"]:
        text += " — " + shown_text(t("conditional release on an interim result; the final result follows"))
    return text


def lot_document(
    title: str,
    lot: Lot,
    facility: str,
    sections: list,
    content: dict,
    signatures: list,
    printed_at: datetime | None,
) -> pdf.Document:
    """A printout of one lot's record: every page's header names the lot by its DIN and check character."""
    reference = f"DIN {lot.din} {lot.check_char}"
    return pdf.Document(title, facility, sections, content, signatures, reference, printed_at)


def coa_document(
    session: Session, lot: Lot, facility: str, printed_at: datetime | None = None
) -> pdf.Document:
    """The certificate as drawn: the content's facts in the reader's language (the digest is the content's)."""
    content = coa_content(session, lot)
    decision = content["decision"]
    lines = [*content["results"], *content["superseded"]]
    by_id = {line["result_id"]: line for line in lines if line.get("result_id")}
    sections = [
        pdf.KeyValueSection(
            shown_text(t("Lot")),
            [
                ("DIN", pdf.DinText(lot.din, lot.check_char)),
                (
                    shown_text(t("Product")),
                    f"{lot.product_type.key} v{lot.product_type.version} — {lot.product_type.name}",
                ),
                (shown_text(t("Specification")), content["specification"] or shown_text(t("none effective"))),
                (shown_text(t("Decision")), _decision_text(decision, lot)),
            ],
        ),
        pdf.TableSection(
            shown_text(t("Results")),
            [
                shown_text(t(c))
                for c in (
                    N_("Test"),
                    N_("Specification"),
                    N_("Result"),
                    N_("Verdict"),
                    N_("Analyst"),
                    N_("Verifier"),
                )
            ],
            [_result_row(line) for line in content["results"]],
            widths=[2.0, 2.0, 1.8, 1.5, 1.3, 1.6],
            empty_text=shown_text(t("No result recorded.")),
        ),
    ]
    if content["superseded"]:
        sections.append(
            pdf.TableSection(
                shown_text(
                    t("Superseded and voided results (kept; replaced by a retest or a correction, or voided)")
                ),
                [
                    shown_text(t(c))
                    for c in (
                        N_("Test"),
                        N_("Value"),
                        N_("Verdict"),
                        N_("Method, date performed"),
                        N_("Analyst"),
                        N_("Replaced or voided: why"),
                    )
                ],
                [_superseded_row(line, by_id) for line in content["superseded"]],
                widths=[1.9, 1.6, 1.5, 1.6, 1.2, 2.4],
            )
        )
    signatures = []
    if decision:
        signatures.append(
            pdf.Signature(
                decision["signed_by"], shown_text(known_text(decision["meaning"])), decision["signed_at"]
            )
        )
    return lot_document(
        shown_text(t("Certificate of analysis")), lot, facility, sections, content, signatures, printed_at
    )


def coa_pdf(
    session: Session, lot: Lot, facility: str, printed_at: datetime | None = None, deterministic: bool = False
) -> bytes:
    return pdf.build_document(coa_document(session, lot, facility, printed_at), deterministic=deterministic)
