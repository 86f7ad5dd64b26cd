"""flags a clinician can trust: withdrawal reasons, the client's own range, clinic calibration

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RANGE = ("usual_mean", "usual_sd", "below_usual")


def upgrade() -> None:
    with op.batch_alter_table("flag") as batch:
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("client_summary") as batch:
        for name in _RANGE:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))
    op.create_table(
        "scoring_calibration",
        sa.Column("instrument", sa.String(length=40), nullable=False),
        sa.Column("within_sd", sa.Float(), nullable=False),
        sa.Column("ratings", sa.Integer(), nullable=False),
        sa.Column("clients", sa.Integer(), nullable=False),
        sa.Column("estimated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instrument", name=op.f("pk_scoring_calibration")),
    )


def downgrade() -> None:
    op.drop_table("scoring_calibration")
    # Dropped in place (SQLite 3.35+): recreating a table breaks the rows that refer to it.
    with op.batch_alter_table("client_summary", recreate="never") as batch:
        for name in reversed(_RANGE):
            batch.drop_column(name)
    with op.batch_alter_table("flag", recreate="never") as batch:
        batch.drop_column("withdrawn_reason")
