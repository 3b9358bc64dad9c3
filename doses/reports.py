"""Dose labels (DOMAIN.md §5; ISBT 128 ST-001; 21 CFR 312.6; EU 536/2014 Annex VI): the content of the
label of each container of an allocated dose, built as bank.labels.LabelData and drawn by the kit (PDF)
or bank.zpl (Zebra printers). What may be labelled, and what the protocol's regulatory region makes a
label say on the outer packaging or the immediate container, is decided by doses.rules.labels.

Blinded protocols: the active and the placebo label of a visit are identical apart from the container's
own data (DIN, division, check character, expiry). The product code is the protocol's trial code with
the container's division, the product name the protocol's (doses.rules.protocol.BlindedProduct), the cells line
the protocol's nominal dose (placebo bags hold 0 cells, so the real count would unblind), the storage
text and the statements the protocol's; a bag whose volume, container type, storage or expiry rule
differs from the protocol's matched presentation is refused, never printed (doses.rules.blinding)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.labels import LABEL_SIZES, LabelData, LabelOverflowError, render_labels_pdf
from bank.languages import in_language
from bank.refusals import Problem, Refused
from bank.zpl import render_labels_zpl
from doses.models import Allocation
from doses.rules import MAX_COPIES, LabelFacts, cells_text, empty_dose, label_problems, nominal_dose_text
from doses.rules import validate_print as rules_validate_print
from doses.rules.labels import (
    AUTOLOGOUS,
    DEFAULT_PACKAGING,
    EU_TRIAL,
    US_CAUTION,
    Packaging,
    label_wording,
)
from doses.rules.protocol import Origin
from doses.services import allocations_of_containers, latest_product, presentation_check, visible_code
from lots.models import Container
from release.services import lot_is_released

__all__ = [
    "AUTOLOGOUS",
    "EU_TRIAL",
    "MAX_COPIES",
    "US_CAUTION",
    "Packaging",
    "packaging_for",
    "container_label",
    "dose_label",
    "dose_labels",
    "labels_pdf",
    "labels_zpl",
    "repeat",
    "validate_print",
]


def packaging_for(size: str, packaging: str | None) -> Packaging:
    """The packaging asked for, or the size's default (100 × 100 outer, 100 × 50 immediate container)."""
    return Packaging(packaging) if packaging else DEFAULT_PACKAGING.get(size, Packaging.OUTER)


def label_facts(session: Session, allocation: Allocation | None, container: Container) -> LabelFacts:
    line = next((x for x in allocation.lines if x.container_id == container.id), None) if allocation else None
    return LabelFacts(
        container=container.identifier,
        dose_status=allocation.status if allocation else None,
        on_this_dose=line is not None and line.released_at is None,
        lot_released=lot_is_released(session, container.lot),
        lot_din=container.lot.din_display,
        lot_status=container.lot.status,
        on_hold=container.on_hold,
        hold_reason=container.hold_reason,
        expires_at=container.expires_at,
    )


def dose_label(
    session: Session,
    allocation: Allocation | None,
    container: Container,
    *,
    facility_name: str,
    zone: tzinfo,
    show_utc: bool = False,
    packaging: Packaging = Packaging.OUTER,
) -> LabelData:
    """The label of one container of an allocated dose for its outer packaging or its immediate
    container, or Refused naming every reason."""
    problems = label_problems(label_facts(session, allocation, container), utcnow())
    if problems:
        raise Refused(problems=problems)
    protocol = allocation.patient.protocol_version.protocol()
    product = container.lot.product_type
    storage = product.storage_temperature
    if protocol.blinded:
        # One product identity and one presentation for both arms: the protocol's code and name, its
        # nominal dose, and a bag that matches the active product's (else refused, never printed).
        mismatch = presentation_check(session, protocol, container)
        if mismatch:
            raise Refused(problems=mismatch)
        name = protocol.blinded_product.name
        storage = latest_product(session, protocol.product_key).storage_temperature
    else:
        name = product.name
    autologous = protocol.origin is Origin.AUTOLOGOUS or (
        not protocol.blinded and container.lot.autologous_only
    )
    # The product's storage text is catalogued data: printed in the label's language, whoever prints.
    label_language = protocol.labelling.language if protocol.labelling else "en"
    wording = label_wording(protocol, packaging, autologous, in_language(storage, label_language))
    # The count in the label's language: the protocol's nominal dose when blinded (both arms alike).
    if protocol.blinded:
        cells = nominal_dose_text(protocol, wording.language)
    else:
        cells = cells_text(container.cells, wording.language)
    return LabelData(
        din=container.lot.din,
        product_code=visible_code(protocol, container),
        product_name=wording.product_name or name,
        cells_text=cells,
        volume_text=f"{container.volume_ml:g} mL",
        expiry_local=container.expires_at.astimezone(zone),
        storage_text=wording.storage_text,
        trial_code=protocol.code,
        subject_id=allocation.patient.subject_id,
        dose_number=allocation.dose_number,
        facility_name=facility_name,
        statements=wording.statements,
        expiry_utc_shown=show_utc,
        dose_count=protocol.number_of_doses,
        extra_lines=wording.extra_lines,
        language=wording.language,
    )


def dose_labels(session: Session, allocation: Allocation, **printing) -> list[LabelData]:
    """One label per container the dose holds; refused (every reason of every container) if any fails.
    `printing`: dose_label's keyword options (facility_name, zone, show_utc, packaging)."""
    containers = [line.container for line in allocation.lines if line.released_at is None]
    if not containers:
        raise Refused(problems=[empty_dose(allocation.patient.subject_id, allocation.dose_number)])
    problems, labels = [], []
    for c in containers:
        try:
            labels.append(dose_label(session, allocation, c, **printing))
        except Refused as e:
            problems += [p for p in e.problems if p not in problems]
    if problems:
        raise Refused(problems=problems)
    return labels


def container_label(session: Session, container: Container, **printing) -> LabelData:
    """The label of a scanned or chosen container: refused unless it is released and allocated.
    `printing`: dose_label's keyword options."""
    held = allocations_of_containers(session, [container.id])
    return dose_label(session, held[0] if held else None, container, **printing)


def validate_print(size: str | None, copies, packaging: str | None = None) -> dict[str, str]:
    """Field problems of a print request: a known size, 1–MAX_COPIES copies of each label, and outer
    or immediate packaging when given."""
    return rules_validate_print(size, copies, LABEL_SIZES, packaging)


def repeat(labels: Sequence[LabelData], copies: int) -> list[LabelData]:
    """Each label `copies` times in a row (bag, overwrap, paperwork), container after container."""
    return [label for label in labels for _ in range(copies)]


def labels_pdf(
    labels: Sequence[LabelData], size: str = "100x100", copies: int = 1, deterministic: bool = False
) -> bytes:
    """The labels drawn as PDF; refused (label.overflow) when a text does not fit its area."""
    try:
        return render_labels_pdf(repeat(labels, copies), size, deterministic=deterministic)
    except LabelOverflowError as e:
        raise Refused(problems=[Problem("label.overflow", e.args[0])]) from None


def labels_zpl(labels: Sequence[LabelData], size: str, copies: int, dpi: int) -> str:
    """The labels as ZPL for a Zebra printer; refused (label.overflow) when a text does not fit."""
    try:
        return render_labels_zpl(repeat(labels, copies), size, dpi)
    except LabelOverflowError as e:
        raise Refused(problems=[Problem("label.overflow", e.args[0])]) from None
