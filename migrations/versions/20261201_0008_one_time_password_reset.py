"""one-time password reset codes an admin issues

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("password_reset_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("password_reset_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+): recreating "user" would break
    # the foreign keys of every row that names a user.
    with op.batch_alter_table("user", recreate="never") as batch:
        batch.drop_column("password_reset_expires_at")
        batch.drop_column("password_reset_hash")
