"""biovigilance: adverse events, their follow-up updates (append-only), follow-up visits.

Revision ID: 0019_biovigilance
Revises: 0016_user_language
Create Date: 2027-03-15 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db
from bank.triggers import create_append_only, drop_append_only

revision = "0019_biovigilance"
down_revision = "0016_user_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adverse_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patients.id", name="fk_adverse_events_patient_id_patients"),
            nullable=False,
        ),
        sa.Column(
            "allocation_id",
            sa.Integer(),
            sa.ForeignKey("allocations.id", name="fk_adverse_events_allocation_id_allocations"),
            nullable=True,
        ),
        sa.Column("onset_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("seriousness", sa.String(length=200), nullable=False),
        sa.Column("serious", sa.Boolean(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("imputability", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("held_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("conclusion", sa.Text(), nullable=True),
        sa.Column("corrective_actions", sa.Text(), nullable=True),
        sa.Column(
            "reported_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_adverse_events_reported_by_id_users"),
            nullable=True,
        ),
        sa.Column("reported_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_adverse_events"),
        sa.CheckConstraint(
            "status IN ('reported', 'under_investigation', 'closed')", name="ck_adverse_events_status"
        ),
        sa.CheckConstraint(
            "imputability IN ('not_assessable', 'excluded', 'unlikely', 'possible', 'likely', 'definite')",
            name="ck_adverse_events_imputability",
        ),
        sa.CheckConstraint(
            "outcome IN ('recovering', 'recovered', 'recovered_with_sequelae', 'not_recovered', 'fatal', 'unknown')",
            name="ck_adverse_events_outcome",
        ),
        sa.CheckConstraint("grade IS NULL OR (grade >= 1 AND grade <= 5)", name="ck_adverse_events_grade"),
    )
    op.create_index("ix_adverse_events_patient_id", "adverse_events", ["patient_id"])
    op.create_index("ix_adverse_events_allocation_id", "adverse_events", ["allocation_id"])
    op.create_index("ix_adverse_events_status", "adverse_events", ["status"])
    op.create_table(
        "adverse_event_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("adverse_events.id", name="fk_adverse_event_updates_event_id_adverse_events"),
            nullable=False,
        ),
        sa.Column("recorded_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_adverse_event_updates_recorded_by_id_users"),
            nullable=True,
        ),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_adverse_event_updates"),
    )
    op.create_index("ix_adverse_event_updates_event_id", "adverse_event_updates", ["event_id"])
    create_append_only("adverse_event_updates")
    op.create_table(
        "follow_up_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patients.id", name="fk_follow_up_visits_patient_id_patients"),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("visit_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column(
            "recorded_by_id",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_follow_up_visits_recorded_by_id_users"),
            nullable=True,
        ),
        sa.Column("recorded_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_follow_up_visits"),
        sa.UniqueConstraint("patient_id", "label", name="uq_follow_up_visits_patient_id_label"),
    )
    op.create_index("ix_follow_up_visits_patient_id", "follow_up_visits", ["patient_id"])


def downgrade() -> None:
    op.drop_table("follow_up_visits")
    drop_append_only("adverse_event_updates")
    op.drop_table("adverse_event_updates")
    op.drop_table("adverse_events")
