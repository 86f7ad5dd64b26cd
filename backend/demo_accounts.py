"""Demo accounts sign in with a published password, so they never reach production.

Production refuses to start while any exists; ``rapport demo --remove`` deletes them,
the clients they treat and everything recorded about those clients (the audit trail,
append-only, keeps its rows).
"""

from __future__ import annotations

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from backend.auth.models import AccessToken
from backend.clients.models import Client
from backend.flags.models import ClientSummary, Episode, Flag, RescoreRequest
from backend.ratings.models import Rating
from backend.teams.models import TeamSupervisor
from backend.therapy.models import RatingLink, TherapySession
from backend.users.models import User

DEMO_DOMAIN = "demo.rapport"
REMOVE_COMMAND = "rapport demo --remove"


def _is_demo(email_column: object = User.email) -> object:
    return col(email_column).like(f"%@{DEMO_DOMAIN}")


def demo_account_count(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(User).where(_is_demo())).one()


def demo_accounts_refusal(count: int) -> str:
    return (
        f"This database holds {count} demo accounts (@{DEMO_DOMAIN}), which sign in with a "
        f"published password; remove them with '{REMOVE_COMMAND}' or use another "
        "RAPPORT_DATABASE_URL."
    )


def remove_demo_accounts(*, session: Session) -> tuple[int, int]:
    """Delete every demo account and the clients they treat; (accounts, clients) removed."""
    demo_users = select(User.id).where(_is_demo())
    demo_clients = select(Client.id).where(col(Client.therapist_id).in_(demo_users))
    demo_sessions = select(TherapySession.id).where(col(TherapySession.client_id).in_(demo_clients))
    clients = session.exec(
        select(func.count()).select_from(Client).where(col(Client.therapist_id).in_(demo_users))
    ).one()
    accounts = demo_account_count(session=session)
    for table, column, rows in (
        (Rating, Rating.therapy_session_id, demo_sessions),
        (RatingLink, RatingLink.therapy_session_id, demo_sessions),
        (Flag, Flag.client_id, demo_clients),
        (Episode, Episode.client_id, demo_clients),
        (ClientSummary, ClientSummary.client_id, demo_clients),
        (RescoreRequest, RescoreRequest.client_id, demo_clients),
        (TherapySession, TherapySession.client_id, demo_clients),
        (Client, Client.id, demo_clients),
        (AccessToken, AccessToken.user_id, demo_users),
        (TeamSupervisor, TeamSupervisor.user_id, demo_users),
    ):
        session.execute(delete(table).where(col(column).in_(rows)))
    # A demo account that acknowledged a real client's flag: keep the flag, drop the name.
    for column in (Flag.acknowledged_by, Flag.resolved_by):
        session.execute(update(Flag).where(col(column).in_(demo_users)).values({column: None}))
    session.execute(delete(User).where(_is_demo()))
    return accounts, clients
