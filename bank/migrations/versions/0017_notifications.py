"""notifications (issue 20): one row per person told, the e-mails sent for them (sent or failed, with the
error), and each person's e-mail address and choice of notifications by e-mail.

Revision ID: 0017_notifications
Revises: 0016_user_language
Create Date: 2027-03-15 09:00:00
"""

import sqlalchemy as sa
from alembic import op

import bank.db

revision = "0017_notifications"
down_revision = "0016_user_language"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.String(length=80), nullable=True),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("event_key", sa.String(length=120), nullable=False),
        sa.Column("created_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "event_key", name="uq_notifications_user_event"),
    )
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at"], unique=False)
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("created_at", bank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempted_at", bank.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('pending', 'sent', 'failed')", name=op.f("ck_notification_deliveries_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_deliveries_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index(
        "ix_notification_deliveries_notification_id",
        "notification_deliveries",
        ["notification_id"],
        unique=False,
    )
    op.create_index(
        "ix_notification_deliveries_outcome", "notification_deliveries", ["outcome"], unique=False
    )
    op.create_table(
        "notification_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_kinds", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_settings_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_settings")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_settings_user_id")),
    )


def downgrade() -> None:
    op.drop_table("notification_settings")
    op.drop_index("ix_notification_deliveries_outcome", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_notification_id", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_table("notifications")
