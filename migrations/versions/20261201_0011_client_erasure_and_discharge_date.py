"""client erasure tombstones and the discharge date retention counts from

An erased client leaves one row in client_erasure (code, who, when, why), whose key
keeps the code from being issued again. Clients discharged before this migration get
the migration's time as their discharge date: retention then never erases anyone
earlier than the configured number of years after today.

Revision ID: 0011
Revises: 0006
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discharged_at", sa.DateTime(), nullable=True))
    client = sa.table(
        "client", sa.column("status", sa.String()), sa.column("discharged_at", sa.DateTime())
    )
    op.execute(
        client.update()
        .where(client.c.status == "discharged")
        .values(discharged_at=datetime.now(UTC).replace(tzinfo=None))
    )
    op.create_table(
        "client_erasure",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("erased_by", sa.Integer(), nullable=True),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "length(reason) BETWEEN 1 AND 500", name=op.f("ck_client_erasure_reason_length")
        ),
        sa.ForeignKeyConstraint(
            ["erased_by"], ["user.id"], name=op.f("fk_client_erasure_erased_by_user")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_client_erasure")),
    )


def downgrade() -> None:
    op.drop_table("client_erasure")
    with op.batch_alter_table("client", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("discharged_at")
