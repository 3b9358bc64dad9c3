"""users.language: the language each user reads the application in (None: the facility's, then the
browser's; bank.languages).

Revision ID: 0016_user_language
Revises: 0015_verification_records
Create Date: 2027-03-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_user_language"
down_revision = "0015_verification_records"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
