"""the plan beside what was done: a completed planned action keeps its plan and note

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-02 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flag") as batch:
        batch.add_column(sa.Column("planned_action", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("plan_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("planned_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flag", recreate="never") as batch:
        batch.drop_column("planned_at")
        batch.drop_column("plan_note")
        batch.drop_column("planned_action")
