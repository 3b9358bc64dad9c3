"""scale indexes: the shelf in expiry order (stored containers only), read first by every allocation;
allocations by status (the doses on their way are a few among ten years of given ones);
GIN trigram indexes for the searches by any part of a donor code, a DIN or a subject id (PostgreSQL
only; creates the pg_trgm extension, trusted since PostgreSQL 13, so the database owner may)

Revision ID: 0008_scale_indexes
Revises: 0007_audit_chain_tip
Create Date: 2026-11-22 08:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_scale_indexes"
down_revision = "0007_audit_chain_tip"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_donors_code_trgm", "donors", "code"),
    ("ix_lots_din_trgm", "lots", "din"),
    ("ix_patients_subject_id_trgm", "patients", "subject_id"),
)


def _trigram_schema() -> str:
    """The schema pg_trgm lives in, creating the extension (in the current schema) when it is missing:
    its operator class is named with it, so the indexes work whatever the search path."""
    find = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    schema = op.get_bind().exec_driver_sql(find).scalar()
    if schema is None:
        op.execute("CREATE EXTENSION pg_trgm")
        schema = op.get_bind().exec_driver_sql(find).scalar()
    return schema


def upgrade() -> None:
    with op.batch_alter_table("containers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_containers_shelf_expiry",
            ["expires_at"],
            unique=False,
            sqlite_where=sa.text("status = 'stored'"),
            postgresql_where=sa.text("status = 'stored'"),
        )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index("ix_allocations_status", ["status"], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    opclass = f"{_trigram_schema()}.gin_trgm_ops"
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: opclass})


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _column in INDEXES:
            op.drop_index(name, table_name=table)
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_allocations_status")
    with op.batch_alter_table("containers", schema=None) as batch_op:
        batch_op.drop_index("ix_containers_shelf_expiry")
