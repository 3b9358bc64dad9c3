"""sessions that end; sign-in hardening: server-side sessions, sign-in attempts (throttling and review),
password history, and a temporary lock (users.locked_until) in place of the lock only an administrator
could lift. Accounts locked under the old rule are unlocked at their next sign-in: their lock has ended.

Revision ID: 0011
Revises: 0009_doses_on_their_way
Create Date: 2027-01-10 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0011_sessions_and_sign_in"
down_revision = "0010_keyed_audit_chain"
branch_labels = None
depends_on = None

OUTCOMES = "outcome IN ('success', 'unknown_user', 'wrong_password', 'locked', 'deactivated', 'throttled')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", bank.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET locked_until = locked_at WHERE locked_at IS NOT NULL")
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=60), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index("ix_user_sessions_user_ended", "user_sessions", ["user_id", "ended_at"], unique=False)
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.CheckConstraint(OUTCOMES, name=op.f("ck_sign_in_attempts_outcome")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sign_in_attempts_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    op.create_index("ix_sign_in_attempts_address_at", "sign_in_attempts", ["address", "at"], unique=False)
    op.create_index("ix_sign_in_attempts_username_at", "sign_in_attempts", ["username", "at"], unique=False)
    op.create_index("ix_sign_in_attempts_at", "sign_in_attempts", ["at"], unique=False)
    op.create_table(
        "password_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("set_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_history_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_history")),
    )
    op.create_index(op.f("ix_password_history_user_id"), "password_history", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_password_history_user_id"), table_name="password_history")
    op.drop_table("password_history")
    op.drop_index("ix_sign_in_attempts_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_username_at", table_name="sign_in_attempts")
    op.drop_index("ix_sign_in_attempts_address_at", table_name="sign_in_attempts")
    op.drop_table("sign_in_attempts")
    op.drop_index("ix_user_sessions_user_ended", table_name="user_sessions")
    op.drop_table("user_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
