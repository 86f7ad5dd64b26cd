"""wording version on each rating; a link may be in any language that has a catalog

Every rating records the item wording its client read, so a change of wording never
silently re-labels old answers: the ratings made before this revision read version 1.
The language of a link is no longer a fixed list in the database: the API accepts
English and every language with a catalog (backend/locales), so adding a language is
adding a .po file.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "rating",
        sa.Column("wording_version", sa.Integer(), nullable=False, server_default="1"),
    )
    with op.batch_alter_table("rating_link") as batch:
        batch.drop_constraint(op.f("ck_rating_link_language_known"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("rating_link") as batch:
        batch.create_check_constraint("language_known", "language IN ('en', 'es')")
    with op.batch_alter_table("rating") as batch:
        batch.drop_column("wording_version")
