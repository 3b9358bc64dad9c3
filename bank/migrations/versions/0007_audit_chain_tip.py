"""audit chain tip: one row naming the last audit entry, kept by a trigger; appenders lock it. The
unique index on audit_entries.row_hash goes: it cost every audited write a random B-tree insert and
guarded nothing `audit verify` does not (a repeated hash is a broken link).

Revision ID: 0007_audit_chain_tip
Revises: 0006_custody
Create Date: 2026-11-22 08:20:00
"""

import sqlalchemy as sa
from alembic import op

from bank.triggers import create_append_only, create_chain_tip_trigger, drop_chain_tip_trigger

revision = "0007_audit_chain_tip"
down_revision = "0006_custody"
branch_labels = None
depends_on = None


def _rebuilt_on_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    # SQLite cannot drop a table constraint: batch mode copies the table, which loses its triggers, so
    # the append-only ones are made again on the copy.
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_entries_row_hash", type_="unique")
    if _rebuilt_on_sqlite():
        create_append_only("audit_entries")
    op.create_table(
        "audit_chain_tip",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_tip_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_tip")),
    )
    # The chain as it stands: its last row, or the genesis hash when it is empty.
    op.execute(
        "INSERT INTO audit_chain_tip (id, entry_id, row_hash) SELECT 1, "
        "(SELECT max(id) FROM audit_entries), "
        "COALESCE((SELECT row_hash FROM audit_entries ORDER BY id DESC LIMIT 1), '" + "0" * 64 + "')"
    )
    create_chain_tip_trigger()


def downgrade() -> None:
    drop_chain_tip_trigger()
    op.drop_table("audit_chain_tip")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_audit_entries_row_hash", ["row_hash"])
    if _rebuilt_on_sqlite():
        create_append_only("audit_entries")
