"""Rows for staff, access tokens, clients and rated sessions, written straight to the
database: the one factory behind the demo data, the benchmarks and the tests.

Each function adds to the caller's open transaction (``db``) and flushes, so ids are
set; none of them audits or scores. The API is how real data arrives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from backend.auth.models import AccessToken
from backend.auth.tokens import access_token_hash, new_token
from backend.clients.codes import new_client_code
from backend.clients.models import Client
from backend.clock import utcnow
from backend.ratings.models import Rating
from backend.teams.models import Team
from backend.teams.service import add_supervisor
from backend.therapy.models import TherapySession
from backend.users.models import Role, User
from scoring.instruments import DEFAULT_INSTRUMENT, current_wording_version, get_instrument


def add_staff(
    db: Session,
    *,
    email: str,
    display_name: str,
    role: str,
    team: Team,
    password_hash: str,
    active: bool = True,
) -> User:
    """A member of staff in ``team``; a supervisor also supervises it."""
    user = User(
        email=email,
        display_name=display_name,
        role=role,
        team_id=team.id,
        password_hash=password_hash,
        active=active,
    )
    db.add(user)
    db.flush()
    if role == Role.supervisor:
        add_supervisor(session=db, team_id=team.id, user_id=user.id)
    return user


def add_access_token(
    db: Session, *, user_id: int, secret_key: str, lifetime: timedelta = timedelta(hours=12)
) -> str:
    """A live sign-in for the user, without argon2; returns the bearer token."""
    token, now = new_token(), utcnow()
    db.add(
        AccessToken(
            token_hash=access_token_hash(token, secret_key),
            user_id=user_id,
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def bearer(token: str) -> dict[str, str]:
    """The request headers that present an access token."""
    return {"Authorization": f"Bearer {token}"}


def add_client(db: Session, *, therapist_id: int, status: str = "active") -> Client:
    """A client with a fresh pseudonymous code on the therapist's caseload."""
    client = Client(code=new_client_code(), therapist_id=therapist_id, status=status)
    db.add(client)
    db.flush()
    return client


def add_therapy_session(
    db: Session, *, client: Client, number: int, held_on: date, instrument: str = DEFAULT_INSTRUMENT
) -> TherapySession:
    """Session ``number`` of the client, recorded by their therapist."""
    therapy_session = TherapySession(
        client_id=client.id,
        session_number=number,
        held_on=held_on,
        instrument=instrument,
        created_by=client.therapist_id,
    )
    db.add(therapy_session)
    db.flush()
    return therapy_session


def add_rating(
    db: Session,
    *,
    therapy_session: TherapySession,
    scores: dict[str, float],
    comment: str | None = None,
    wants_to_talk: bool = False,
    payload_hash: str | None = None,
) -> Rating:
    """The client's answer to the session's questionnaire, submitted that evening."""
    instrument, number = therapy_session.instrument, therapy_session.session_number
    rating = Rating(
        therapy_session_id=therapy_session.id,
        instrument=instrument,
        wording_version=current_wording_version(instrument),
        scores=scores,
        total=get_instrument(instrument).total(scores),
        comment=comment,
        wants_to_talk=wants_to_talk,
        payload_hash=payload_hash or f"{therapy_session.client_id}-{number}",
        submitted_at=datetime.combine(therapy_session.held_on, datetime.min.time(), UTC)
        + timedelta(hours=18),
    )
    db.add(rating)
    return rating
