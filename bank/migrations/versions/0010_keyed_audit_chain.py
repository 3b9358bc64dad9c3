"""keyed audit chain: each row names the audit key that keyed its HMAC; the tip names this database's
chain and is guarded like the trail; on PostgreSQL a function owned by the schema's owner locks and
moves it, so the application's role needs only SELECT on it. Rows written before this migration are
re-keyed by `flask db upgrade` / `flask init` (bank.rekey), which hold the key; a migration does not.

Revision ID: 0010
Revises: 0009_doses_on_their_way
Create Date: 2026-12-01 09:00:00
"""

import uuid

import sqlalchemy as sa
from alembic import op

from bank.triggers import (
    create_append_only,
    create_chain_tip_guard,
    create_chain_tip_trigger,
    drop_chain_tip_guard,
    drop_chain_tip_trigger,
)

revision = "0010_keyed_audit_chain"
down_revision = "0009_doses_on_their_way"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column(
        "audit_chain_tip", sa.Column("chain_id", sa.String(length=32), nullable=False, server_default="")
    )
    op.execute(sa.text("UPDATE audit_chain_tip SET chain_id = :c").bindparams(c=uuid.uuid4().hex))
    if op.get_bind().dialect.name == "postgresql":
        # (SQLite keeps the column's default: dropping it would copy the table the insert trigger names.)
        op.alter_column("audit_chain_tip", "chain_id", server_default=None)
        drop_chain_tip_trigger()
        create_chain_tip_guard()  # the owner's functions first: the insert trigger names one of them
        create_chain_tip_trigger(function_made=True)
    else:
        create_chain_tip_guard()


def downgrade() -> None:
    drop_chain_tip_guard()
    drop_chain_tip_trigger()  # (before the tables are copied: it names the tip)
    with op.batch_alter_table("audit_chain_tip", schema=None) as batch_op:
        batch_op.drop_column("chain_id")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    if op.get_bind().dialect.name == "sqlite":
        create_append_only("audit_entries")  # the table was copied without its triggers
    create_chain_tip_trigger()
