"""Dose labels (DOMAIN.md §5; ISBT 128 ST-001; 21 CFR 312.6; EU 536/2014 Annex VI): the content of the
label of each container of an allocated dose, built as bank.labels.LabelData and drawn by the kit (PDF)
or bank.zpl (Zebra printers).

Blinded protocols: the active and the placebo label of a visit are identical apart from the container's
own data (DIN, product code with its division, expiry). The product reads the protocol's neutral text,
the cells line reads the protocol's nominal dose (placebo bags hold 0 cells, so the real count would
unblind), the storage text and the statements are the protocol's, not the bag's."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.clock import utcnow
from bank.labels import LABEL_SIZES, LabelData, render_labels_pdf
from doses.models import Allocation
from doses.protocols import DoseBasis, Origin, Protocol, Route
from doses.rules import blinded_treatment_label
from doses.services import allocation_arm
from doses.services.holds import allocations_of_containers
from lots.models import Container, ProductType
from release.services import lot_is_released

US_CAUTION = "Caution: New Drug—Limited by Federal (or United States) law to investigational use."
EU_TRIAL = "For clinical trial use only"
AUTOLOGOUS = "FOR AUTOLOGOUS USE ONLY"
PRINTABLE = ("allocated", "issued")  # a held, administered or deallocated dose gets no new label
MAX_COPIES = 20
ROUTES = {Route.IV: "For intravenous use", Route.IT: "For intrathecal use"}


class LabelRefused(ValueError):
    """No label: every reason is listed (lab language); nothing is printed."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def _mega(value: float) -> str:
    return f"{value / 1e6:g}"


def nominal_dose_text(protocol: Protocol) -> str:
    """The protocol's dose, the same words for both arms: '1–2 × 10⁶ viable cells/kg (protocol dose)'."""
    rule = protocol.dose_rule
    unit = "viable cells/kg" if rule.basis is DoseBasis.PER_KG else "viable cells"
    span = _mega(float(rule.min_cells)) if rule.min_cells == rule.max_cells else \
        f"{_mega(float(rule.min_cells))}–{_mega(float(rule.max_cells))}"
    return f"{span} × 10⁶ {unit} (protocol dose)"


def _latest_product(session: Session, key: str | None) -> ProductType | None:
    if key is None:
        return None
    return session.scalar(select(ProductType).where(ProductType.key == key).order_by(ProductType.version.desc())
                          .limit(1))


def label_problems(session: Session, allocation: Allocation | None, container: Container) -> list[str]:
    """Every reason this container cannot be labelled for this dose now (empty: it can)."""
    problems = []
    if allocation is None:
        problems.append(f"Container {container.identifier} is not allocated to a dose: labels are printed "
                        "for allocated doses only.")
    else:
        lines = {line.container_id: line for line in allocation.lines}
        line = lines.get(container.id)
        if line is None or line.released_at is not None:
            problems.append(f"Container {container.identifier} is not allocated to this dose.")
        if allocation.status not in PRINTABLE:
            state = allocation.status.replace("_", " ")
            problems.append(f"The dose is {state}: labels are printed for allocated or issued doses only.")
    if not lot_is_released(session, container.lot):
        problems.append(f"Container {container.identifier} is not released (lot {container.lot.din_display} "
                        f"is {container.lot.status.replace('_', ' ')}, or held, or has a late-result alert).")
    if container.on_hold:
        problems.append(f"Container {container.identifier} is on hold: {container.hold_reason or 'see the lot'}.")
    if container.expires_at <= utcnow():
        problems.append(f"Container {container.identifier} expired on {container.expires_at:%Y-%m-%d %H:%M} UTC.")
    return problems


def dose_label(session: Session, allocation: Allocation | None, container: Container, *, facility_name: str,
               zone: tzinfo, show_utc: bool = False) -> LabelData:
    """The label of one container of an allocated dose, or LabelRefused naming every reason."""
    problems = label_problems(session, allocation, container)
    if problems:
        raise LabelRefused(problems)
    protocol = allocation.patient.protocol_version.protocol()
    product = container.lot.product_type
    storage = product.storage_temperature
    if protocol.blinded:
        # The neutral name and the protocol's dose are the same words for both arms (doses.rules).
        name = blinded_treatment_label(protocol, allocation_arm(allocation), allocation.dose_number, False)
        cells = nominal_dose_text(protocol)
        other = _latest_product(session, protocol.placebo_product_key if not product.is_placebo
                                else protocol.product_key)
        if other is not None and other.storage_temperature != storage:
            # Printing either text would tell the arm (or store the bag wrongly): stop and say why.
            raise LabelRefused([f"Blinded labels need one storage condition for active and placebo, but "
                                f"{protocol.product_key} and {protocol.placebo_product_key} differ: make them "
                                "match in a new product version."])
    else:
        name = product.name
        cells = f"{_mega(container.cells)} × 10⁶ viable cells"
    autologous = protocol.origin is Origin.AUTOLOGOUS or (not protocol.blinded and container.lot.autologous_only)
    statements = (US_CAUTION, EU_TRIAL, *((AUTOLOGOUS,) if autologous else ()))
    return LabelData(
        din=container.lot.din, product_code=container.product_code, product_name=name, cells_text=cells,
        volume_text=f"{container.volume_ml:g} mL", expiry_local=container.expires_at.astimezone(zone),
        storage_text=f"Store at {storage}", trial_code=protocol.code,
        subject_id=allocation.patient.subject_id, dose_number=allocation.dose_number, facility_name=facility_name,
        statements=statements, expiry_utc_shown=show_utc, dose_count=protocol.number_of_doses,
        extra_lines=(ROUTES.get(protocol.route, ""),) if protocol.route in ROUTES else ())


def dose_labels(session: Session, allocation: Allocation, *, facility_name: str, zone: tzinfo,
                show_utc: bool = False) -> list[LabelData]:
    """One label per container the dose holds; refused (every reason of every container) if any fails."""
    containers = [line.container for line in allocation.lines if line.released_at is None]
    if not containers:
        raise LabelRefused([f"The dose ({allocation.patient.subject_id} dose {allocation.dose_number}) holds no "
                            "container: labels are printed for allocated doses only."])
    problems, labels = [], []
    for c in containers:
        try:
            labels.append(dose_label(session, allocation, c, facility_name=facility_name, zone=zone,
                                     show_utc=show_utc))
        except LabelRefused as e:
            problems += [p for p in e.problems if p not in problems]
    if problems:
        raise LabelRefused(problems)
    return labels


def container_label(session: Session, container: Container, *, facility_name: str, zone: tzinfo,
                    show_utc: bool = False) -> LabelData:
    """The label of a scanned or chosen container: refused unless it is released and allocated."""
    held = allocations_of_containers(session, [container.id])
    return dose_label(session, held[0] if held else None, container, facility_name=facility_name, zone=zone,
                      show_utc=show_utc)


def validate_print(size: str | None, copies) -> dict[str, str]:
    """Field problems of a print request: a known size and 1–MAX_COPIES copies of each label."""
    errors = {}
    if size not in LABEL_SIZES:
        errors["size"] = f"Label size must be one of {', '.join(LABEL_SIZES)}."
    try:
        n = int(copies)
    except (TypeError, ValueError):
        n = 0
    if not 1 <= n <= MAX_COPIES:
        errors["copies"] = f"Copies must be a whole number from 1 to {MAX_COPIES}."
    return errors


def repeat(labels: Sequence[LabelData], copies: int) -> list[LabelData]:
    """Each label `copies` times in a row (bag, overwrap, paperwork), container after container."""
    return [label for label in labels for _ in range(copies)]


def labels_pdf(labels: Sequence[LabelData], size: str = "100x100", copies: int = 1,
               deterministic: bool = False) -> bytes:
    return render_labels_pdf(repeat(labels, copies), size, deterministic=deterministic)
