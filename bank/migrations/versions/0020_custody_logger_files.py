"""custody_logger_files: the shipper's temperature logger file of a custody event (append-only).

Revision ID: 0020_custody_logger_files
Revises: 0019_biovigilance
Create Date: 2027-04-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db
from bank.triggers import create_append_only, drop_append_only

revision = "0020_custody_logger_files"
down_revision = "0019_biovigilance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "custody_logger_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("readings", sa.Text(), nullable=False),
        sa.Column("reading_count", sa.Integer(), nullable=False),
        sa.Column("minimum_c", sa.Float(), nullable=False),
        sa.Column("maximum_c", sa.Float(), nullable=False),
        sa.Column("first_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"], ["custody_events.id"], name=op.f("fk_custody_logger_files_event_id_custody_events")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_custody_logger_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custody_logger_files")),
        sa.UniqueConstraint("event_id", name=op.f("uq_custody_logger_files_event_id")),
    )
    create_append_only("custody_logger_files")


def downgrade() -> None:
    drop_append_only("custody_logger_files")
    op.drop_table("custody_logger_files")
