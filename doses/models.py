"""Records of the doses domain: protocol versions, patients (pseudonymous subjects), weights, signed
eligibility checklists, randomisation lists, and allocations of containers to scheduled doses.

One container belongs to one active allocation: a partial unique index on allocation_containers
(container_id WHERE released_at IS NULL) holds under concurrent requests (DOMAIN.md §5).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

import lots.models  # noqa: F401  (containers and donors must be known before doses refers to them)
from bank.clock import utcnow
from bank.db import Base, Versioned, one_of
from bank.model_parts import partial_index, trigram_index
from bank.models import Audited
from doses.reference import stored_protocol
from doses.rules.protocol import Protocol
from doses.states import ALLOCATION_STATES, ON_THEIR_WAY_SQL, PATIENT_STATES, PROTOCOL_VERSION_STATES
from lots.models import Container


class ProtocolVersion(Audited, Base):
    """One version of a trial protocol, stored as the JSON of doses.rules.protocol.Protocol.to_dict."""

    __tablename__ = "protocol_versions"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint(one_of("status", PROTOCOL_VERSION_STATES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    definition: Mapped[str] = mapped_column(Text)  # canonical JSON of Protocol.to_dict()
    status: Mapped[str] = mapped_column(String(10), default="active")
    seeded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def protocol(self) -> Protocol:
        # doses.reference is pure data: a blinded seed version stored before issue 16 reads with its seed's
        # product identity.
        return stored_protocol(self.definition)

    @property
    def label(self) -> str:
        return f"{self.code} v{self.version}"


class Patient(Audited, Versioned, Base):
    """A trial subject known only by the subject id (trial-site-number); no name is ever stored.
    For an autologous protocol `donor_id` is the patient's own donor record (cells come back only here)."""

    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(one_of("status", PATIENT_STATES), name="status"),
        CheckConstraint("sex IN ('F', 'M')", name="sex"),
        CheckConstraint("first_dose_on >= date_of_birth", name="first_dose"),
        # Patient and dose searches find any part of a subject id (LIKE '%…%'): trigram index on PostgreSQL.
        trigram_index("ix_patients_subject_id_trgm", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(40), unique=True)
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"), index=True)
    site: Mapped[str] = mapped_column(String(120))
    sex: Mapped[str] = mapped_column(String(1))
    date_of_birth: Mapped[date]
    first_dose_on: Mapped[date]  # planned date of dose 1; later doses count from its actual date
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), unique=True)  # autologous only
    status: Mapped[str] = mapped_column(String(20), default="screening")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    protocol_version: Mapped[ProtocolVersion] = relationship(lazy="joined")


class WeightMeasurement(Audited, Base):
    """Body weight on a date: the dose (cells/kg) and the endotoxin limit (EU/kg) use the latest one."""

    __tablename__ = "patient_weights"
    __table_args__ = (CheckConstraint("weight_kg > 0 AND weight_kg <= 400", name="weight"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    weight_kg: Mapped[float] = mapped_column(Float)
    measured_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class EligibilityAttestation(Audited, Base):
    """The enrolment checklist as signed by the investigator ('Eligibility checklist attested'):
    computed items (age, EDSS, disease duration) with their evidence and the attested answers."""

    __tablename__ = "eligibility_attestations"
    __table_args__ = (CheckConstraint("outcome IN ('eligible', 'not_eligible')", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"))
    evaluation_date: Mapped[date]
    edss: Mapped[str | None] = mapped_column(String(8))
    diagnosis_date: Mapped[date | None]
    answers: Mapped[str] = mapped_column(Text)  # JSON {item id: "yes" | "no"}
    computed: Mapped[str] = mapped_column(Text)  # JSON [[item id, met, evidence], ...]
    outcome: Mapped[str] = mapped_column(String(20))
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def answer_map(self) -> dict[str, str]:
        return json.loads(self.answers)

    def computed_items(self) -> list[list]:
        return json.loads(self.computed)


class RandomisationImport(Audited, Base):
    """One imported randomisation list (CSV), kept by its SHA-256 so the file used can be shown."""

    __tablename__ = "randomisation_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol_code: Mapped[str] = mapped_column(String(40), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class RandomisationEntry(Audited, Base):
    """The treatment sequence of one subject. The sequence is kept out of the audit rows (shown as
    [set]) because blinded QA staff read the audit trail; unblinded users see it on the patient page."""

    __tablename__ = "randomisation_entries"
    __table_args__ = (UniqueConstraint("protocol_code", "subject_id"),)
    __audit_exclude__ = ("sequence",)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("randomisation_imports.id"), index=True)
    protocol_code: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    sequence: Mapped[str] = mapped_column(String(80))


class Allocation(Audited, Versioned, Base):
    """Containers set aside for one scheduled dose of one patient (the 'dose' of labels and custody).

    Status (doses.states.ALLOCATION_WORKFLOW): allocated → issued → administered; on_hold (look-back,
    late result) remembers `held_from`; deallocated (reason) frees the containers. At most one
    allocation per (patient, dose) is not deallocated. The arm is never stored here: it follows from
    the randomisation entry and the containers' product, so this row reads the same for both arms."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint(one_of("status", ALLOCATION_STATES), name="status"),
        CheckConstraint("dose_number >= 1", name="dose_number"),
        CheckConstraint("(status = 'on_hold') = (held_from IS NOT NULL)", name="held_from"),
        CheckConstraint(
            "(status = 'deallocated') = (deallocated_at IS NOT NULL AND deallocation_reason IS NOT NULL)",
            name="deallocated",
        ),
        CheckConstraint("status <> 'administered' OR administered_at IS NOT NULL", name="administered"),
        partial_index(
            "uq_allocations_one_per_dose",
            "patient_id",
            "dose_number",
            where="status <> 'deallocated'",
            unique=True,
        ),
        # "Doses on their way" lists the few active doses among ten years of given ones.
        Index("ix_allocations_status", "status"),
        partial_index("ix_allocations_on_their_way", "planned_at", "id", where=ON_THEIR_WAY_SQL),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    protocol_version_id: Mapped[int] = mapped_column(ForeignKey("protocol_versions.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    planned_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="allocated")
    held_from: Mapped[str | None] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(Text)
    weight_kg: Mapped[float] = mapped_column(Float)  # the weight the dose and the endotoxin limit used
    weight_measured_on: Mapped[date]
    target_min_cells: Mapped[float] = mapped_column(Float)  # the protocol range for this weight
    target_max_cells: Mapped[float] = mapped_column(Float)
    endotoxin_limit_eu: Mapped[float] = mapped_column(Float)
    allocated_at: Mapped[datetime] = mapped_column(default=utcnow)
    allocated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    administered_at: Mapped[datetime | None]
    deallocated_at: Mapped[datetime | None]
    deallocation_reason: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(lazy="joined")
    lines: Mapped[list[AllocatedContainer]] = relationship(
        back_populates="allocation", lazy="selectin", order_by="AllocatedContainer.id"
    )

    @property
    def containers(self) -> list[Container]:
        """The containers of this dose (those released by a de-allocation included once deallocated)."""
        return [line.container for line in self.lines]


class AllocatedContainer(Audited, Base):
    """One container of an allocation. `released_at` is set when the allocation is deallocated; while it
    is empty the container belongs to this dose only (unique index, enforced by the database)."""

    __tablename__ = "allocation_containers"
    __table_args__ = (
        UniqueConstraint("allocation_id", "container_id"),
        partial_index(
            "uq_allocation_containers_active", "container_id", where="released_at IS NULL", unique=True
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id"), index=True)
    container_id: Mapped[int] = mapped_column(ForeignKey("containers.id"))
    released_at: Mapped[datetime | None]

    allocation: Mapped[Allocation] = relationship(back_populates="lines")
    container: Mapped[Container] = relationship(lazy="joined")


class Unblinding(Audited, Base):
    """An emergency unblinding of one patient: who, when, why, signed. The treatment is shown once,
    on the page that answers the request; each view is also an audit event (action 'view')."""

    __tablename__ = "unblindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    signature_id: Mapped[int] = mapped_column(ForeignKey("signatures.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
