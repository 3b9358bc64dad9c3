"""audit_reviews: the periodic, signed review of the audit trail (EU GMP Annex 11 §9): the period, the
first and last rows reviewed and the last row's hash, the findings, and QA's signature.

Revision ID: 0018_audit_reviews
Revises: 0017_notifications
Create Date: 2027-04-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0018_audit_reviews"
down_revision = "0017_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("first_entry_id", sa.Integer(), nullable=True),
        sa.Column("last_entry_id", sa.Integer(), nullable=True),
        sa.Column("last_row_hash", sa.String(length=64), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'reviewed')", name=op.f("ck_audit_reviews_status")),
        sa.CheckConstraint("period_to >= period_from", name=op.f("ck_audit_reviews_period")),
        sa.CheckConstraint(
            "(status = 'reviewed') = (signature_id IS NOT NULL)", name=op.f("ck_audit_reviews_signed")
        ),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signatures.id"], name=op.f("fk_audit_reviews_signature_id_signatures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_reviews")),
    )


def downgrade() -> None:
    op.drop_table("audit_reviews")
