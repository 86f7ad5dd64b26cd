"""One client's whole record, read once for the FHIR bundle and the printed report."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.clients.models import Client
from backend.flags.models import ClientSummary, Episode, Flag
from backend.flags.service import SEVERITY_RANK
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from backend.users.models import User


@dataclass(frozen=True)
class RatedSession:
    session: TherapySession
    rating: Rating


@dataclass(frozen=True)
class ClientRecord:
    client: Client
    therapist_name: str
    sessions: list[TherapySession]
    #: Oldest session first.
    rated: list[RatedSession]
    #: Most severe first, then newest session (the API's order).
    flags: list[Flag]
    episodes: list[Episode]
    summary: ClientSummary | None


def client_record(*, session: Session, client: Client) -> ClientRecord:
    """Everything stored about a client the caller was already allowed to see."""
    therapist = session.get(User, client.therapist_id)
    sessions = list(
        session.exec(
            select(TherapySession)
            .where(TherapySession.client_id == client.id)
            .order_by(col(TherapySession.session_number))
        )
    )
    rated = [
        RatedSession(therapy_session, rating)
        for rating, therapy_session in session.exec(
            select(Rating, TherapySession)
            .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
            .where(TherapySession.client_id == client.id)
            .order_by(col(TherapySession.session_number))
        )
    ]
    flags = list(
        session.exec(
            select(Flag)
            .where(Flag.client_id == client.id)
            .order_by(SEVERITY_RANK, col(Flag.session_number).desc(), col(Flag.id).desc())
        )
    )
    episodes = list(
        session.exec(
            select(Episode)
            .where(Episode.client_id == client.id)
            .order_by(col(Episode.opened_session), col(Episode.id))
        )
    )
    return ClientRecord(
        client=client,
        therapist_name=therapist.display_name if therapist else "",
        sessions=sessions,
        rated=rated,
        flags=flags,
        episodes=episodes,
        summary=session.get(ClientSummary, client.id),
    )
