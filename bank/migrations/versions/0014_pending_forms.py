"""kept forms: a form sent after its sender's idle sign-out is kept for the same user to check and send
again after signing in (bank.keptforms; password fields are never kept).

Revision ID: 0014
Revises: 0011_sessions_and_sign_in
Create Date: 2027-02-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0014_pending_forms"
down_revision = "0013_controlled_results"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.String(length=500), nullable=False),
        sa.Column("action", sa.String(length=500), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("created_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("restored_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_pending_forms_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_forms")),
    )
    op.create_index(
        "ix_pending_forms_user_restored", "pending_forms", ["user_id", "restored_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pending_forms_user_restored", table_name="pending_forms")
    op.drop_table("pending_forms")
