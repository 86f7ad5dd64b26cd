"""Test data with sensible defaults; override only what a test is about."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from backend.auth.models import AccessToken
from backend.auth.passwords import hash_password
from backend.auth.tokens import access_token_hash, new_token
from backend.clients.codes import new_client_code
from backend.clients.models import Client
from backend.clock import utcnow
from backend.config import get_settings
from backend.db import Database
from backend.flags.models import Flag
from backend.teams.service import add_supervisor, team_named
from backend.therapy.models import TherapySession
from backend.therapy.service import issue_link
from backend.users.models import User

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)


@dataclass(frozen=True)
class SignedIn:
    user: User
    headers: dict[str, str]

    @property
    def id(self) -> int:
        return self.user.id


def make_user(
    db: Database,
    *,
    role: str = "therapist",
    team: str = "North",
    active: bool = True,
    email: str | None = None,
) -> User:
    n = next(_counter)
    with db.writing() as session:
        team_row = team_named(session=session, name=team)
        user = User(
            email=email or f"{role}{n}@clinic.test",
            display_name=f"{role.title()} {n}",
            role=role,
            team_id=team_row.id,
            password_hash=_PASSWORD_HASH,
            active=active,
        )
        session.add(user)
        session.flush()
        if role == "supervisor":
            add_supervisor(session=session, team_id=team_row.id, user_id=user.id)
    return user


def sign_in_as(db: Database, user: User) -> SignedIn:
    """A live access token for the user, without paying for argon2 on every test."""
    token = new_token()
    now = utcnow()
    with db.writing() as session:
        session.add(
            AccessToken(
                token_hash=access_token_hash(token, get_settings().secret_key),
                user_id=user.id,
                created_at=now,
                last_used_at=now,
                expires_at=now + timedelta(hours=12),
            )
        )
    return SignedIn(user=user, headers={"Authorization": f"Bearer {token}"})


def signed_in(db: Database, *, role: str = "therapist", team: str = "North") -> SignedIn:
    return sign_in_as(db, make_user(db, role=role, team=team))


def make_client(db: Database, therapist: User | SignedIn, *, status: str = "active") -> Client:
    therapist_id = therapist.id
    with db.writing() as session:
        client = Client(code=new_client_code(), therapist_id=therapist_id, status=status)
        session.add(client)
    return client


def make_session_with_link(
    db: Database,
    client: Client,
    *,
    instrument: str = "alliance4",
    held_on: date | None = None,
    language: str = "en",
) -> tuple[TherapySession, str]:
    """A therapy session and the plaintext token of its rating link."""
    with db.writing() as session:
        held = session.exec(
            select(TherapySession.id).where(TherapySession.client_id == client.id)
        ).all()
        number = len(held) + 1
        therapy_session = TherapySession(
            client_id=client.id,
            session_number=number,
            held_on=held_on or date(2026, 11, 1) + timedelta(days=7 * number),
            instrument=instrument,
            created_by=client.therapist_id,
        )
        session.add(therapy_session)
        session.flush()
        issued = issue_link(session, get_settings(), therapy_session, language)
    return therapy_session, issued.token


def make_flag(db: Database, client: Client, *, session_number: int = 1) -> Flag:
    """An open "asked to talk" flag on the client, without scoring anything."""
    with db.writing() as session:
        flag = Flag(
            client_id=client.id,
            session_number=session_number,
            held_on=date(2026, 11, 2),
            instrument="alliance4",
            rule="wants_to_talk",
            severity="talk",
            explanation="The client asked to talk.",
            guidance="Ask about it at the start of the next session.",
            evidence={},
            rules_version="test",
        )
        session.add(flag)
    return flag


def alliance4(
    relationship: float = 9.5, goals: float = 9.0, approach: float = 9.2, overall: float = 9.4
) -> dict[str, float]:
    return {"relationship": relationship, "goals": goals, "approach": approach, "overall": overall}
