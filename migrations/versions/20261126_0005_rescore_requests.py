"""rescore requests: scoring follows a submission instead of holding it up

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rescore_request",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_rescore_request_client_id_client")
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_rescore_request")),
    )


def downgrade() -> None:
    op.drop_table("rescore_request")
