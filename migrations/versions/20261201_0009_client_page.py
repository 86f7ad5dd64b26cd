"""client page: private labels, planned and other actions, the browser's sign-in cookie

A therapist's private label for a client; two acknowledgement actions ("will raise it
next session", planned, and "other", with a note); and the columns that let the
dashboard keep a sign-in across a browser refresh through an HttpOnly cookie.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_ACTIONS = (
    "raised_in_session",
    "adjusted_approach",
    "checked_in_outside_session",
    "consulted_supervisor",
    "referred",
    "no_action_needed",
)
_NEW_ACTIONS = ("planned_next_session", *_OLD_ACTIONS, "other")


def _action_check(actions: tuple[str, ...]) -> str:
    return f"action IS NULL OR action IN ({', '.join(repr(a) for a in actions)})"


def upgrade() -> None:
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_flag_action_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_flag_action_known"), _action_check(_NEW_ACTIONS)
        )
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=24), nullable=True))
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("browser_secret_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("browser_ticket_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("browser_ticket_expires_at", sa.DateTime(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_access_token_browser_secret_hash"), ["browser_secret_hash"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_access_token_browser_ticket_hash"), ["browser_ticket_hash"]
        )


def downgrade() -> None:
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_access_token_browser_ticket_hash"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_access_token_browser_secret_hash"), type_="unique")
        batch_op.drop_column("browser_ticket_expires_at")
        batch_op.drop_column("browser_ticket_hash")
        batch_op.drop_column("browser_secret_hash")
    # In place (SQLite 3.35+): recreating "client" breaks the rows that refer to it.
    with op.batch_alter_table("client", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("label")
    # The old schema cannot say "planned" or "other": those flags open again, notes kept,
    # so the therapist records what was done rather than the database inventing it.
    op.execute(
        "UPDATE flag SET status = 'open', action = NULL, acknowledged_at = NULL, "
        "acknowledged_by = NULL WHERE action IN ('planned_next_session', 'other')"
    )
    with op.batch_alter_table("flag", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_flag_action_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_flag_action_known"), _action_check(_OLD_ACTIONS)
        )
