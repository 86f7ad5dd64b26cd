"""The client page in one read: record, label, digest, sessions, ratings, flags, ruptures.

The dashboard drew a client from five calls (about 5 s on the small demo, each scoped
and audited on its own); one scoped, audited read answers all of it.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.auth.caller import Caller
from backend.clients.scope import client_for
from backend.clients.service import client_public
from backend.config import Settings
from backend.flags.models import ClientSummary
from backend.flags.service import episodes_for_client, flags_for_client, ranges_for_client
from backend.overview.schemas import ClientPage
from backend.ratings.service import ratings_of_client
from backend.therapy.service import last_link_language, new_session_dates, sessions_of_client


def client_page(*, session: Session, settings: Settings, caller: Caller, code: str) -> ClientPage:
    """What the therapist (or their supervisor) reads before a session with this client."""
    client = client_for(session=session, caller=caller, code=code, action="read_client_page")
    summary = session.get(ClientSummary, client.id)
    return ClientPage(
        client=client_public(session=session, client=client),
        label=client.label,
        latest_total=summary.latest_total if summary else None,
        change_from_previous=summary.change_from_previous if summary else None,
        repair_status=summary.repair_status if summary else "none",
        last_link_language=last_link_language(session=session, client_id=client.id),
        sessions=sessions_of_client(session=session, client_id=client.id),
        new_session_dates=new_session_dates(
            session=session, settings=settings, client_id=client.id
        ),
        ratings=ratings_of_client(session=session, client_id=client.id),
        flags=flags_for_client(session=session, client=client),
        episodes=episodes_for_client(session=session, client_id=client.id),
        ranges=ranges_for_client(session=session, client_id=client.id),
    )
