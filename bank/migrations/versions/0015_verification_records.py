"""verification records: one per verified entry (kind, entry id, digest of the entry verified, the
signature of the act that verified it, who and when); append-only.

Revision ID: 0015
Revises: 0011_sessions_and_sign_in
Create Date: 2027-02-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db
from bank.triggers import create_append_only, drop_append_only

revision = "0015_verification_records"
down_revision = "0014_pending_forms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("entry_digest", sa.String(length=64), nullable=False),
        sa.Column("signature_id", sa.Integer(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=False),
        sa.Column("verified_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"], ["signatures.id"], name=op.f("fk_verification_records_signature_id_signatures")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"], ["users.id"], name=op.f("fk_verification_records_verified_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_records")),
        sa.UniqueConstraint("kind", "entry_id", name=op.f("uq_verification_records_kind_entry_id")),
    )
    op.create_index(
        "ix_verification_records_signature_id", "verification_records", ["signature_id"], unique=False
    )
    create_append_only("verification_records")


def downgrade() -> None:
    drop_append_only("verification_records")
    op.drop_index("ix_verification_records_signature_id", table_name="verification_records")
    op.drop_table("verification_records")
