"""The executed batch record drawn with bank.pdf in the reader's language: one block per lot of the
lineage (harvest lot first), the QC results with superseded and voided ones and their reasons, the
release decision, then every signature manifestation. The words are translated here, when drawn;
the footer's digest is that of release.batch_record's plain data, which holds no translated text."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from bank import charts, pdf
from bank.i18n import N_, localize, t
from bank.languages import day_text, local_time, number_text
from bank.verification.services import VerifiableKind
from donors.states import DONOR_WORKFLOW
from lots.growth import growth_curve
from lots.models import Lot
from lots.models.lots import TISSUE_LABELS
from lots.states import CONTAINER_WORKFLOW, DEVIATION_WORKFLOW, LOT_WORKFLOW
from release.batch_record import batch_record_content, signatures_of
from release.reports import lot_document, shown_text
from release.states import SPEC_WORKFLOW


def _(msgid: str, **values) -> str:
    """A fixed text of the printout in the reader's language (reportlab draws plain strings)."""
    return t(msgid, **values).localized()


def _cells(value: float) -> str:
    return current_app.jinja_env.filters["cells"](value)


def _pct(value: float) -> str:
    return _("%(value)s %%", value=value)


def _signed(sig: dict | None) -> str:
    """A verification or signature as one cell: who, when, and whether it still holds."""
    if not sig:
        return _("not verified")
    text = _("%(name)s, %(when)s", name=sig["printed_name"] or "?", when=local_time(sig["signed_at"], True))
    if sig.get("meaning"):
        text = f"{localize(sig['meaning'])}\n{text}"
    if sig.get("valid") is False:
        text += "\n" + _("SIGNATURE NOT VALID: the records changed after signing")
    return text


def _entry_note(entry: dict) -> str:
    notes = []
    if not entry["in_force"]:
        notes.append(_("Not in force"))
    if entry.get("correction"):
        c = entry["correction"]
        done = _("Corrected") if c["action"] == "correct" else _("Voided")
        notes.append(
            _("%(done)s by %(name)s: %(reason)s", done=done, name=c["by"] or "?", reason=c["reason"])
        )
    if entry.get("plausibility_comment"):
        notes.append(
            _("Confirmed outside the usual range: %(comment)s", comment=entry["plausibility_comment"])
        )
    return "\n".join(notes) or "—"


def _place(place: dict | None) -> str:
    if place is None:
        return _("not in storage")
    return _("%(site)s › tank %(tank)s › rack %(rack)s › box %(box)s, row %(row)s, column %(col)s", **place)


def _storage_event(e: dict) -> str:
    where = _place(e["to"]) if e["to"] else _("from %(place)s", place=_place(e["from"]))
    return _(
        "%(action)s %(when)s by %(name)s: %(place)s",
        action=localize(e["action"]),
        when=local_time(e["at"]),
        name=e["by"],
        place=where,
    ) + (f" ({e['reason']})" if e["reason"] else "")


def _donor_sections(donor: dict | None) -> list[pdf.Section]:
    heading = _("Donor and eligibility determination")
    if donor is None:
        return [pdf.TextSection(heading, _("No donor: placebo lot (suspension media)."))]
    status = localize(DONOR_WORKFLOW.label(donor["status"]))
    if donor["under_lookback"]:
        status = _("%(status)s — under look-back", status=status)
    items = [
        (_("Donor code"), donor["code"]),
        (_("Donation"), _("autologous") if donor["autologous"] else _("allogeneic")),
        (
            _("Consent"),
            _(
                "version %(version)s of %(day)s",
                version=donor["consent_version"],
                day=day_text(donor["consent_date"]),
            ),
        ),
        (_("Eligibility status"), status),
    ]
    rows = [
        [
            d["criteria_set"],
            localize(d["outcome"]),
            localize(d["decision"]) + (f"\n{d['comment']}" if d["comment"] else ""),
            day_text(d["evaluation_date"]),
            _signed(d["signature"]) if d["signature"] else _("not signed"),
        ]
        for d in donor["determinations"]
    ]
    return [
        pdf.KeyValueSection(heading, items),
        pdf.TableSection(
            _("Eligibility determinations"),
            [_("Criteria set"), _("Result"), _("Decision"), _("Evaluated on"), _("Signature")],
            rows,
            widths=[1.6, 1.0, 1.6, 1.0, 2.2],
            empty_text=_("None recorded."),
        ),
    ]


def _material_row(m: dict) -> list[str]:
    return [
        localize(m["step"]),
        m["material"] + ("\n" + _("animal origin") if m["animal_origin"] else ""),
        m["supplier"],
        m["lot_number"],
        day_text(m["expiry"]),
        day_text(m["used_on"]),
    ]


def _deviation_row(d: dict) -> list[str]:
    closure = f"\n{_signed(d['closure'])}" if d["closure"] else ""
    return [
        d["number"],
        d["description"],
        d["impact"],
        d["corrective_action"] or "—",
        localize(DEVIATION_WORKFLOW.label(d["status"])) + closure,
    ]


def _container_row(c: dict) -> list[str]:
    contents = _(
        "%(type)s, %(cells)s cells in %(volume)s mL, %(cryoprotectant)s",
        type=localize(c["type"]),
        cells=_cells(c["cells"]),
        volume=c["volume_ml"],
        cryoprotectant=c["cryoprotectant"],
    )
    status = localize(CONTAINER_WORKFLOW.label(c["status"])) + ("\n" + _("on hold") if c["on_hold"] else "")
    storage = "\n".join([_place(c["position"])] + [_storage_event(e) for e in c["storage_events"]])
    return [
        c["identifier"],
        contents,
        f"{local_time(c['frozen_at'])}\n{local_time(c['expires_at'])}",
        status,
        storage,
    ]


# The lot's records every batch record prints, one table each (an empty one says "None recorded."):
# title, column headings, the content's key, one record's cells, column widths.
_RECORD_TABLES = (
    (
        N_("Materials and reagents"),
        (N_("Step"), N_("Material"), N_("Supplier"), N_("Lot number"), N_("Expiry"), N_("Used on")),
        "materials",
        _material_row,
        (0.9, 1.6, 1.3, 1.0, 0.9, 0.9),
    ),
    (
        N_("Deviations"),
        (N_("Number"), N_("Description"), N_("Impact"), N_("Corrective action"), N_("Status and closure")),
        "deviations",
        _deviation_row,
        (1.0, 1.6, 1.4, 1.4, 1.6),
    ),
    (
        N_("Containers and storage"),
        (N_("Container"), N_("Contents"), N_("Frozen / expiry"), N_("Status"), N_("Storage")),
        "containers",
        _container_row,
        (1.3, 1.5, 1.1, 0.8, 2.3),
    ),
)


def _processing_sections(lot: dict) -> list[pdf.Section]:
    harvest = lot["harvest"]
    sections: list[pdf.Section] = []
    if harvest:
        amount = " ".join(
            filter(
                None,
                [
                    _("%(mass)s g", mass=harvest["mass_g"]) if harvest["mass_g"] else "",
                    _("%(volume)s mL", volume=harvest["volume_ml"]) if harvest["volume_ml"] else "",
                ],
            )
        )
        sections.append(
            pdf.KeyValueSection(
                _("Harvest"),
                [
                    (_("Tissue"), localize(TISSUE_LABELS.get(harvest["tissue"], harvest["tissue"]))),
                    (_("Amount"), amount),
                    (_("Collected"), local_time(harvest["collected_at"])),
                    (_("Site"), harvest["site"]),
                    (_("Operator"), harvest["operator"]),
                    (_("Recorded by"), harvest["recorded_by"] or "—"),
                ],
            )
        )
    if lot["isolations"] or harvest:
        sections.append(
            pdf.TableSection(
                _("Isolation"),
                [_("Viable cells"), _("Viability"), _("Date"), _("Operator"), _("Verification"), _("Note")],
                [
                    [
                        _cells(i["cell_count"]),
                        _pct(i["viability_pct"]),
                        day_text(i["isolated_on"]),
                        i["operator"],
                        _signed(i["verification"]),
                        _entry_note(i),
                    ]
                    for i in lot["isolations"]
                ],
                widths=[1.1, 0.8, 1.0, 1.0, 1.8, 1.6],
                empty_text=_("None recorded."),
            )
        )
    if lot["passages"] or harvest:
        sections.append(
            pdf.TableSection(
                _(
                    "Passages (limits: P%(passage)s, cumulative PD %(pd)s; cumulative PD reached %(reached)s)",
                    passage=lot["max_passage"],
                    pd=lot["max_cumulative_pd"],
                    reached=number_text(lot["cumulative_pd"], 2),
                ),
                [
                    _("P"),
                    _("Seeded"),
                    _("Harvested"),
                    _("Viability"),
                    _("Dates"),
                    _("PD"),
                    _("Operator"),
                    _("Verification"),
                    _("Note"),
                ],
                [
                    [
                        f"P{p['number']}",
                        _cells(p["seeded_cells"]),
                        _cells(p["harvested_cells"]),
                        _pct(p["viability_pct"]),
                        f"{day_text(p['seeded_on'])} – {day_text(p['harvested_on'])}",
                        number_text(p["population_doublings"], 2),
                        p["operator"],
                        _signed(p["verification"]),
                        _entry_note(p),
                    ]
                    for p in lot["passages"]
                ],
                widths=[0.45, 1.0, 1.1, 1.0, 1.25, 0.65, 1.05, 1.6, 1.0],
                empty_text=_("None recorded."),
            )
        )
    for title, headings, key, row, widths in _RECORD_TABLES:
        rows = [row(each) for each in lot[key]]
        headings = [_(h) for h in headings]
        sections.append(
            pdf.TableSection(_(title), headings, rows, widths=list(widths), empty_text=_("None recorded."))
        )
    return sections


_VERDICTS = {"pass": t("PASS"), "fail": t("FAIL (out of specification)")}


def _result_note(r: dict) -> str:
    notes = []
    if r["interim"]:
        notes.append(_("interim result (no growth to date)"))
    if r["retest_of"]:
        notes.append(
            _(
                "Retest of result #%(number)s: %(reason)s",
                number=r["retest_of"],
                reason=r["retest_reason"] or "—",
            )
        )
    if r["corrects"]:
        notes.append(_("Correction of an earlier result"))
    if r["voided_at"]:
        notes.append(
            _("VOIDED on %(day)s: %(reason)s", day=local_time(r["voided_at"]), reason=r["void_reason"])
        )
    elif r["superseded_by"]:
        notes.append(_("SUPERSEDED by result #%(number)s", number=r["superseded_by"]))
    return "\n".join(notes) or "—"


def _qc_sections(lot: dict) -> list[pdf.Section]:
    spec = lot["specification"]
    if spec is None:
        approval = _("No specification: no QC result entered yet.")
    elif spec["approval"]:
        approval = _signed(spec["approval"])
    else:
        approval = _("not approved by signature (seeded version)")
    decision = lot["decision"]
    if decision is None:
        decided = _("Not decided (%(status)s)", status=localize(LOT_WORKFLOW.label(lot["status"])))
    else:
        decided = localize(LOT_WORKFLOW.label(decision["decision"]))
        if decision["conditional"]:
            decided += "\n" + _("conditional release on an interim result; the final result follows")
        if decision["reason"]:
            decided += "\n" + _("Reason: %(reason)s", reason=decision["reason"])
    sections: list[pdf.Section] = [
        pdf.KeyValueSection(
            _("Specification and release"),
            [
                (_("Specification"), spec["label"] if spec else "—"),
                (_("Specification status"), localize(SPEC_WORKFLOW.label(spec["status"])) if spec else "—"),
                (_("Approval"), approval),
                (_("Release decision"), decided),
                (_("Decision signature"), _signed(decision["signature"]) if decision else "—"),
            ],
        ),
        pdf.TableSection(
            _("QC results (every result, superseded and voided ones included)"),
            [
                _("No."),
                _("Test"),
                _("Specification"),
                _("Value"),
                _("Verdict"),
                _("Entered and verified by"),
                _("Status"),
            ],
            [
                [
                    f"#{r['result_id']}",
                    shown_text(r["name"])
                    + (f"\n{r['method']}, {day_text(r['performed_on'])}" if r["method"] else ""),
                    r["specification"] or _("not in the specification"),
                    r["result"],
                    localize(_VERDICTS.get(r["verdict"], r["verdict"])),
                    _("Entered by %(name)s", name=r["analyst"] or "?")
                    + "\n"
                    + (
                        _("Verified by %(signature)s", signature=_signed(r["verification"]))
                        if r["verification"]
                        else _("not verified")
                    ),
                    _result_note(r),
                ]
                for r in lot["results"]
            ],
            widths=[0.75, 1.5, 1.35, 1.25, 1.0, 1.65, 1.5],
            empty_text=_("None recorded."),
        ),
    ]
    return sections


def batch_record_document(
    session: Session,
    lot: Lot,
    registry: dict[str, VerifiableKind],
    facility: str,
    printed_at: datetime | None = None,
) -> pdf.Document:
    content = batch_record_content(session, lot, registry)
    sections = _donor_sections(content["donor"])
    for each in content["lots"]:
        sections.append(
            pdf.KeyValueSection(
                _("Lot %(din)s %(check)s", din=each["din"], check=each["check_char"]),
                [
                    (_("DIN"), pdf.DinText(each["din"], each["check_char"])),
                    (
                        _("Product"),
                        f"{each['product']} v{each['product_version']} — {each['product_name']}",
                    ),
                    (_("Tier"), localize(each["tier"])),
                    (
                        _("Status"),
                        localize(LOT_WORKFLOW.label(each["status"]))
                        + ("\n" + _("quarantined") if each["quarantined"] else ""),
                    ),
                    (
                        _("Population doublings carried from the parent lot"),
                        number_text(each["starting_pd"], 2),
                    ),
                ],
            )
        )
        sections += _processing_sections(each)
        if each["din"] == lot.din:
            # Drawn from the same verified passages as the tables above: the digest needs nothing more.
            curve = growth_curve(session, lot)
            if len(curve.points) > 1:
                sections.append(
                    pdf.ChartSection(
                        _("Growth curve"), charts.drawing(curve.chart()), curve.columns(), curve.rows()
                    )
                )
        sections += _qc_sections(each)
        sections.append(
            pdf.TableSection(
                _("Status history of lot %(din)s", din=each["din"]),
                [_("When"), _("From"), _("To"), _("By"), _("Reason")],
                [
                    [
                        local_time(c["at"], True),
                        localize(LOT_WORKFLOW.label(c["from"])) if c["from"] else "—",
                        localize(LOT_WORKFLOW.label(c["to"])),
                        c["by"],
                        c["reason"] or "—",
                    ]
                    for c in each["status_history"]
                ],
                widths=[1.3, 1.0, 1.0, 1.4, 2.3],
                empty_text=_("None recorded."),
            )
        )
    signatures = [
        pdf.Signature(s["printed_name"] or "?", localize(s["meaning"]), s["signed_at"])
        for s in signatures_of(content)
    ]
    return lot_document(_("Executed batch record"), lot, facility, sections, content, signatures, printed_at)


def batch_record_pdf(
    session: Session,
    lot: Lot,
    registry: dict[str, VerifiableKind],
    facility: str,
    printed_at: datetime | None = None,
    deterministic: bool = False,
) -> bytes:
    document = batch_record_document(session, lot, registry, facility, printed_at)
    return pdf.build_document(document, deterministic=deterministic)
