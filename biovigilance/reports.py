"""Biovigilance printouts, drawn with bank.pdf: the rapid notification of a suspected serious adverse
reaction and the conclusions of its investigation, in the structure of Directive 2006/86/EC's
notification forms (DOMAIN.md §8), and the annual summary of a protocol. The product is named as the
reader may know it: a blinded reader reads the protocol's blinded identity (both arms alike)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from bank import pdf
from bank.clock import utcnow
from bank.esign import signatures_for
from bank.i18n import localize
from bank.languages import local_time
from biovigilance import rules
from biovigilance.models import AdverseEvent
from biovigilance.services import AnnualSummary, updates_of
from doses.services import dose_text


def _facility() -> str:
    return f"{current_app.config['FACILITY_NAME']} ({current_app.config['FACILITY_FIN']})"


def _dose_facts(event: AdverseEvent) -> dict:
    """The dose as the reader may know it: DINs of its containers, the product (blinded identity for a
    blinded reader), where and when it was given."""
    allocation = event.allocation
    if allocation is None:
        return {"dins": [], "product": "", "applied": ""}
    protocol = allocation.patient.protocol_version.protocol()
    text = dose_text(protocol, allocation, g.actor.permissions)
    return {
        "dins": sorted({c.lot.din for c in allocation.containers}),
        "product": text.product,
        "applied": f"{local_time(allocation.administered_at)}, {allocation.patient.site}"
        if allocation.administered_at
        else "",
    }


def _words(mapping: dict, keys) -> str:
    return ", ".join(str(localize(mapping[k])) for k in keys if k in mapping)


def _reaction_type(event: AdverseEvent) -> str:
    parts = [event.description]
    if event.seriousness_list:
        parts.append(
            _("Seriousness: %(criteria)s", criteria=_words(rules.SERIOUSNESS, event.seriousness_list))
        )
    if event.grade:
        parts.append(str(localize(rules.GRADES[event.grade])))
    return "\n\n".join(parts)


def notification_content(event: AdverseEvent) -> dict:
    dose = _dose_facts(event)
    return {
        "form": "2006/86/EC rapid notification, suspected serious adverse reaction",
        "report": f"{event.reference}-N",
        "establishment": _facility(),
        "individual": event.patient.subject_id,
        "applied": dose["applied"],
        "dins": dose["dins"],
        "onset": event.onset_at.isoformat(),
        "product": dose["product"],
        "description": event.description,
        "seriousness": event.seriousness_list,
        "grade": event.grade,
        "imputability": event.imputability,
    }


def _printed(
    title: str, reference: str, content: dict, sections: list, signatures: Sequence[pdf.Signature] = ()
) -> bytes:
    """A biovigilance form printed now for this facility; `content` is what the footer's digest covers."""
    return pdf.build_document(
        pdf.Document(title, _facility(), sections, content, signatures, reference, printed_at=utcnow())
    )


def _reaction_form(
    title: str, heading: str, content: dict, facts: list, sections: list, signatures=()
) -> bytes:
    """A Directive 2006/86/EC form: its facts headed by the reporting establishment and the report's
    identification, then its texts."""
    head = [
        (_("Reporting establishment"), content["establishment"]),
        (_("Report identification"), content["report"]),
    ]
    return _printed(
        title, content["report"], content, [pdf.KeyValueSection(heading, head + facts), *sections], signatures
    )


def notification_pdf(session: Session, event: AdverseEvent) -> bytes:
    """Part A: rapid notification of a suspected serious adverse reaction."""
    content = notification_content(event)
    no = _("none")
    return _reaction_form(
        _("Rapid notification of a suspected serious adverse reaction"),
        _("Notification (Directive 2006/86/EC)"),
        content,
        [
            (_("Reporting date"), local_time(utcnow())),
            (_("Individual affected"), _("recipient, subject %(subject)s", subject=content["individual"])),
            (_("Date and place of human application"), content["applied"] or no),
            (_("Unique donation identification number"), ", ".join(content["dins"]) or no),
            (_("Date of the suspected serious adverse reaction"), local_time(event.onset_at)),
            (_("Type of tissues and cells involved"), content["product"] or no),
            (_("Imputability"), str(localize(rules.IMPUTABILITY[event.imputability]))),
        ],
        [
            pdf.TextSection(_("Type of suspected serious adverse reaction"), _reaction_type(event)),
        ],
    )


def conclusions_pdf(session: Session, event: AdverseEvent) -> bytes:
    """Part B: conclusions of the investigation, signed when QA closed it."""
    dose = _dose_facts(event)
    updates = updates_of(session, event)
    changed_type = any({"description", "seriousness", "grade"} & set(json.loads(u.changes)) for u in updates)
    closing = [
        s
        for s in signatures_for(session, event.__tablename__, event.id)
        if s.meaning == "Investigation closed"
    ]
    content = {
        "form": "2006/86/EC conclusions of a serious adverse reaction investigation",
        "report": f"{event.reference}-C",
        "establishment": _facility(),
        "dins": dose["dins"],
        "confirmed": rules.is_related(event.imputability),
        "changed_type": changed_type,
        "outcome": event.outcome,
        "conclusion": event.conclusion,
        "corrective_actions": event.corrective_actions,
    }
    yes, no = _("yes"), _("no")
    return _reaction_form(
        _("Conclusions of a serious adverse reaction investigation"),
        _("Conclusions (Directive 2006/86/EC)"),
        content,
        [
            (_("Confirmation date"), local_time(closing[-1].signed_at) if closing else ""),
            (_("Date of the serious adverse reaction"), local_time(event.onset_at)),
            (_("Unique donation identification number"), ", ".join(content["dins"]) or _("none")),
            (_("Confirmation of the serious adverse reaction"), yes if content["confirmed"] else no),
            (_("Type of tissues and cells involved"), dose["product"] or _("none")),
            (_("Change of type of serious adverse reaction"), yes if changed_type else no),
            (_("Clinical outcome"), str(localize(rules.OUTCOMES[event.outcome]))),
        ],
        [
            pdf.TextSection(_("Outcome of the investigation and final conclusions"), event.conclusion or ""),
            pdf.TextSection(
                _("Recommendations for preventive and corrective actions"),
                event.corrective_actions or "",
            ),
        ],
        [pdf.Signature(s.printed_name, str(localize(s.meaning)), s.signed_at) for s in closing],
    )


def annual_summary_pdf(result: AnnualSummary) -> bytes:
    content = {
        "protocol": result.protocol,
        "year": result.year,
        "patients_dosed": result.patients_dosed,
        "doses_given": result.doses_given,
        "rows": [[r.imputability, r.serious, r.non_serious] for r in result.rows],
        "events": [e.reference for e in result.events],
    }
    return _printed(
        _("Annual summary of adverse events"),
        f"{result.protocol} {result.year}",
        content,
        [
            pdf.KeyValueSection(
                _("Activity"),
                [
                    (_("Protocol"), result.protocol),
                    (_("Year"), str(result.year)),
                    (_("Patients given a dose"), str(result.patients_dosed)),
                    (_("Doses given"), str(result.doses_given)),
                ],
            ),
            pdf.TableSection(
                _("Events by imputability"),
                [_("Imputability"), _("Serious"), _("Not serious")],
                [[str(localize(rules.IMPUTABILITY[r.imputability])), str(r.serious), str(r.non_serious)] for r in result.rows],
            ),
            pdf.TableSection(
                _("Events"),
                [_("Reference"), _("Subject"), _("Onset"), _("Serious"), _("Grade"), _("Outcome"), _("Imputability")],
                [
                    [
                        e.reference,
                        e.patient.subject_id,
                        local_time(e.onset_at),
                        _("yes") if e.serious else _("no"),
                        str(e.grade or ""),
                        str(localize(rules.OUTCOMES[e.outcome])),
                        str(localize(rules.IMPUTABILITY[e.imputability])),
                    ]
                    for e in result.events
                ],
            ),
        ],
    )  # fmt: skip
