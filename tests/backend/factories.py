"""Test data with sensible defaults; override only what a test is about.

The rows themselves come from ``backend.factories``, shared with the demo data and
the benchmarks; these wrap them for tests (one short transaction each, the default
team, the test password) and add a client's long scored history.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import func, select

from backend.auth.passwords import hash_password
from backend.clients.models import Client
from backend.config import get_settings
from backend.db import Database
from backend.factories import (
    add_access_token,
    add_client,
    add_rating,
    add_staff,
    add_therapy_session,
    bearer,
)
from backend.flags.models import Episode, Flag
from backend.flags.scoring_sync import rescore_clients
from backend.teams.service import team_named
from backend.therapy.models import TherapySession
from backend.therapy.service import issue_link
from backend.users.models import User
from scoring.instruments import get_instrument

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)

#: The first week of a long history written by ``rated_history``.
FIRST_SESSION = date(2022, 1, 3)


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
        return add_staff(
            session,
            email=email or f"{role}{n}@clinic.test",
            display_name=f"{role.title()} {n}",
            role=role,
            team=team_named(session=session, name=team),
            password_hash=PASSWORD_HASH,
            active=active,
        )


def sign_in_as(db: Database, user: User) -> SignedIn:
    """A live access token for the user, without paying for argon2 on every test."""
    with db.writing() as session:
        token = add_access_token(session, user_id=user.id, secret_key=get_settings().secret_key)
    return SignedIn(user=user, headers=bearer(token))


def signed_in(db: Database, *, role: str = "therapist", team: str = "North") -> SignedIn:
    return sign_in_as(db, make_user(db, role=role, team=team))


def make_client(db: Database, therapist: User | SignedIn, *, status: str = "active") -> Client:
    with db.writing() as session:
        return add_client(session, therapist_id=therapist.id, status=status)


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
        held = session.exec(select(func.count()).where(TherapySession.client_id == client.id)).one()
        number = held + 1
        therapy_session = add_therapy_session(
            session,
            client=client,
            number=number,
            held_on=held_on or date(2026, 11, 1) + timedelta(days=7 * number),
            instrument=instrument,
        )
        issued = issue_link(session, get_settings(), therapy_session, language)
    return therapy_session, issued.token


def talk_flag(*, client_id: int, session_number: int, held_on: date, **fields: Any) -> Flag:
    """An open "asked to talk" flag, made without scoring anything (not yet added)."""
    values: dict[str, Any] = {
        "instrument": "alliance4",
        "rule": "wants_to_talk",
        "severity": "talk",
        "explanation": "The client asked to talk.",
        "guidance": "Ask about it at the start of the next session.",
        "evidence": {},
        "rules_version": "test",
        **fields,
    }
    return Flag(client_id=client_id, session_number=session_number, held_on=held_on, **values)


def rupture_episode(
    *, client_id: int, opened_session: int, opened_on: date, **fields: Any
) -> Episode:
    """A rupture episode as scoring stores it, made without scoring anything (not yet added)."""
    values: dict[str, Any] = {
        "instrument": "alliance4",
        "trigger_rule": "below_personal_baseline",
        "lowest_total": 28.0,
        "status": "open",
        "severity": "warning",
        "explanation": "Total fell below the client's usual range.",
        "rules_version": "test",
        **fields,
    }
    return Episode(
        client_id=client_id, opened_session=opened_session, opened_on=opened_on, **values
    )


def make_flag(db: Database, client: Client, *, session_number: int = 1) -> Flag:
    """An open "asked to talk" flag on the client, without scoring anything."""
    with db.writing() as session:
        flag = talk_flag(
            client_id=client.id, session_number=session_number, held_on=date(2026, 11, 2)
        )
        session.add(flag)
    return flag


def alliance4(
    relationship: float = 9.5, goals: float = 9.0, approach: float = 9.2, overall: float = 9.4
) -> dict[str, float]:
    return {"relationship": relationship, "goals": goals, "approach": approach, "overall": overall}


def rated_history(
    db: Database,
    client: Client,
    totals_per_item: list[float],
    *,
    instrument: str = "alliance4",
    comments: dict[int, str] | None = None,
    talk: frozenset[int] = frozenset(),
) -> None:
    """One weekly session per entry, every item rated ``value``; then scored as usual."""
    if not totals_per_item:
        return
    item_keys = get_instrument(instrument).item_keys
    comments = comments or {}
    with db.writing() as session:
        for number, value in enumerate(totals_per_item, start=1):
            held = FIRST_SESSION + timedelta(days=7 * (number - 1))
            therapy_session = add_therapy_session(
                session, client=client, number=number, held_on=held, instrument=instrument
            )
            add_rating(
                session,
                therapy_session=therapy_session,
                scores=dict.fromkeys(item_keys, value),
                comment=comments.get(number),
                wants_to_talk=number in talk,
            )
        session.flush()
        rescore_clients(db=session, client_ids=[client.id], on=held)


def rate(api, db: Database, client: Client, scores: dict, **extra) -> None:
    """The client answers a new session's link on their phone."""
    _, token = make_session_with_link(db, client, instrument=extra.pop("instrument", "alliance4"))
    body = {"scores": scores, **extra}
    assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201


def ruptured(
    api,
    db: Database,
    therapist: SignedIn,
    *,
    comment: str | None = None,
    action: str = "raised_in_session",
    note: str | None = None,
) -> Client:
    """Four steady ratings, then a sharp drop with a request to talk (and ``comment``);
    the therapist acknowledges the request to talk with ``action`` and ``note``."""
    client = make_client(db, therapist)
    for _ in range(4):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5))
    rate(api, db, client, alliance4(6.0, 7.0, 7.5, 7.0), wants_to_talk=True, comment=comment)
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    request = next(f for f in flags if f["rule"] == "client_wants_to_talk")
    acknowledged = api.post(
        f"/api/clients/{client.code}/flags/{request['id']}/acknowledge",
        json={"action": action, "note": note},
        headers=therapist.headers,
    )
    assert acknowledged.status_code == 200, acknowledged.text
    return client
