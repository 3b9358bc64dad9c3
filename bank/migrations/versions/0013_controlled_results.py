"""corrections that keep the original (issue 18): a QC result may be a correction of the one it supersedes
(release_results.corrects) or voided with who, when and why; a donor's answer, medication course or
serology result names who voided it and the entry it corrects (replaces_id).

Revision ID: 0013
Revises: 0011_sessions_and_sign_in
Create Date: 2027-02-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0013_controlled_results"
down_revision = "0012_bench_plausibility"
branch_labels = None
depends_on = None

ENTRY_TABLES = ("donor_answers", "donor_medications", "donor_serology")
VOIDED = "(voided_at IS NULL) = (void_reason IS NULL) AND (voided_at IS NULL) = (voided_by_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("release_results", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("corrects", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(sa.Column("voided_at", bank.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("void_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_release_results_voided_by_id_users"), "users", ["voided_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_release_results_corrects"), "NOT corrects OR retest_of_id IS NOT NULL"
        )
        batch_op.create_check_constraint(batch_op.f("ck_release_results_voided"), VOIDED)
    for table in ENTRY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("voided_by_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("replaces_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_voided_by_id_users"), "users", ["voided_by_id"], ["id"]
            )
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_replaces_id_{table}"), table, ["replaces_id"], ["id"]
            )


def downgrade() -> None:
    for table in ENTRY_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_replaces_id_{table}"), type_="foreignkey")
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_voided_by_id_users"), type_="foreignkey")
            batch_op.drop_column("replaces_id")
            batch_op.drop_column("voided_by_id")
    with op.batch_alter_table("release_results", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_release_results_voided"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_release_results_corrects"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_release_results_voided_by_id_users"), type_="foreignkey")
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_by_id")
        batch_op.drop_column("voided_at")
        batch_op.drop_column("corrects")
