"""bench entries that are hard to get wrong (issue 18, lots): plausibility parameters on each product-type
version, the confirmation comment of an entry outside a soft limit, corrections that keep the original
(entries in force, the correction records), and the re-review flag of a lot corrected under a QA
signature. Existing entries are in force; existing product versions get the seed plausibility values.

Revision ID: 0012
Revises: 0011_sessions_and_sign_in
Create Date: 2027-02-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0012_bench_plausibility"
down_revision = "0011_sessions_and_sign_in"
branch_labels = None
depends_on = None

IN_FORCE = sa.text("in_force")


def _entry_columns(batch_op) -> None:
    batch_op.add_column(sa.Column("in_force", sa.Boolean(), server_default=sa.text("true"), nullable=False))
    batch_op.add_column(
        sa.Column("plausibility_rules", sa.String(length=200), server_default="", nullable=False)
    )
    batch_op.add_column(sa.Column("plausibility_comment", sa.Text(), nullable=True))


def upgrade() -> None:
    with op.batch_alter_table("product_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_fold_per_day", sa.Float(), server_default="8", nullable=False))
        batch_op.add_column(sa.Column("viability_drop_pct", sa.Float(), server_default="20", nullable=False))
        batch_op.create_check_constraint(
            "plausibility", "max_fold_per_day > 1 AND viability_drop_pct >= 0 AND viability_drop_pct <= 100"
        )
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rereview_since", bank.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rereview_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("isolations", schema=None) as batch_op:
        _entry_columns(batch_op)
        batch_op.drop_constraint("uq_isolations_lot_id", type_="unique")
        batch_op.create_index(batch_op.f("ix_isolations_lot_id"), ["lot_id"], unique=False)
    op.create_index(
        "uq_isolations_lot_in_force",
        "isolations",
        ["lot_id"],
        unique=True,
        sqlite_where=IN_FORCE,
        postgresql_where=IN_FORCE,
    )
    with op.batch_alter_table("passages", schema=None) as batch_op:
        _entry_columns(batch_op)
        batch_op.drop_constraint("uq_passages_lot_id_number", type_="unique")
    op.create_index(
        "uq_passages_lot_number_in_force",
        "passages",
        ["lot_id", "number"],
        unique=True,
        sqlite_where=IN_FORCE,
        postgresql_where=IN_FORCE,
    )
    op.create_table(
        "entry_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=False),
        sa.Column("replacement_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("second_person", sa.Boolean(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("applied_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rereview", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('isolation', 'passage')", name=op.f("ck_entry_corrections_kind")),
        sa.CheckConstraint("action IN ('correct', 'void')", name=op.f("ck_entry_corrections_action")),
        sa.CheckConstraint("status IN ('pending', 'applied')", name=op.f("ck_entry_corrections_status")),
        sa.CheckConstraint(
            "(action = 'correct') = (replacement_id IS NOT NULL)",
            name=op.f("ck_entry_corrections_replacement"),
        ),
        sa.CheckConstraint(
            "confirmed_by_id IS NULL OR confirmed_by_id <> requested_by_id",
            name=op.f("ck_entry_corrections_four_eyes"),
        ),
        sa.CheckConstraint(
            "(confirmed_by_id IS NULL) = (confirmed_at IS NULL)", name=op.f("ck_entry_corrections_confirmed")
        ),
        sa.CheckConstraint(
            "status = 'pending' OR NOT second_person OR confirmed_by_id IS NOT NULL",
            name=op.f("ck_entry_corrections_applied"),
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_entry_corrections_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_entry_corrections_requested_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"], ["users.id"], name=op.f("fk_entry_corrections_confirmed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_corrections")),
    )
    with op.batch_alter_table("entry_corrections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_entry_corrections_lot_id"), ["lot_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entry_corrections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_entry_corrections_lot_id"))
    op.drop_table("entry_corrections")
    op.drop_index("uq_passages_lot_number_in_force", table_name="passages")
    with op.batch_alter_table("passages", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_passages_lot_id_number", ["lot_id", "number"])
        for column in ("plausibility_comment", "plausibility_rules", "in_force"):
            batch_op.drop_column(column)
    op.drop_index("uq_isolations_lot_in_force", table_name="isolations")
    with op.batch_alter_table("isolations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_isolations_lot_id"))
        batch_op.create_unique_constraint("uq_isolations_lot_id", ["lot_id"])
        for column in ("plausibility_comment", "plausibility_rules", "in_force"):
            batch_op.drop_column(column)
    with op.batch_alter_table("lots", schema=None) as batch_op:
        batch_op.drop_column("rereview_reason")
        batch_op.drop_column("rereview_since")
    with op.batch_alter_table("product_types", schema=None) as batch_op:
        batch_op.drop_constraint("ck_product_types_plausibility", type_="check")
        batch_op.drop_column("viability_drop_pct")
        batch_op.drop_column("max_fold_per_day")
