"""What waits on the supervisor's teams, in two lists: requests to talk nobody has acted
on, and ruptures not repaired with the last thing the therapist recorded about them.

A fresh request to talk and a rupture left unrepaired since June call for different
things; one list marked "urgent" throughout buried both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import case
from sqlmodel import Session, col, select

from backend.clients.models import Client
from backend.clock import utcnow
from backend.flags.models import Episode, Flag
from backend.overview.schemas import RuptureWaiting, TalkRequestWaiting
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from backend.users.models import User
from scoring.rules import CLIENT_REQUEST_RULE as TALK_REQUEST_RULE

WAITING_LIMIT = 200


def talk_requests_waiting(session: Session, active: tuple[Any, ...]) -> list[TalkRequestWaiting]:
    """Open requests to talk, the longest waiting first.

    A request waits from when the client sent the rating that made it, not from when
    scoring raised the flag: a rescore (a rules upgrade, the demo's loading) raises
    flags long after the client asked.
    """
    rows = session.exec(
        select(Flag.session_number, Flag.held_on, Rating.submitted_at, Flag.explanation)
        .add_columns(Client.code, Client.therapist_id, User.display_name)
        .join(Client, col(Client.id) == Flag.client_id)
        .join(User, col(User.id) == Client.therapist_id)
        .join(
            TherapySession,
            (col(TherapySession.client_id) == Flag.client_id)
            & (col(TherapySession.session_number) == Flag.session_number),
            isouter=True,
        )
        .join(Rating, col(Rating.therapy_session_id) == TherapySession.id, isouter=True)
        .where(*active, Flag.status == "open", Flag.rule == TALK_REQUEST_RULE)
        .order_by(col(Flag.held_on), col(Flag.id))
        .limit(WAITING_LIMIT)
    ).all()
    now = utcnow()
    waiting = [
        TalkRequestWaiting(
            client_code=code,
            therapist_id=therapist_id,
            therapist_name=name,
            session_number=number,
            held_on=held_on,
            waiting_since=_asked_at(submitted_at, held_on),
            waiting_days=(now - _asked_at(submitted_at, held_on)).days,
            explanation=explanation,
        )
        for number, held_on, submitted_at, explanation, code, therapist_id, name in rows
    ]
    return sorted(waiting, key=lambda request: request.waiting_since)


def _asked_at(submitted_at: datetime | None, held_on: date) -> datetime:
    """When the client asked: when the rating was sent, else the start of the session's day."""
    return submitted_at or datetime.combine(held_on, time(), UTC)


def _raised_during(flag: Any, episode: Any) -> bool:
    """Whether a flag belongs to this rupture: same instrument, raised at a session from the
    one that opened it to the one that closed it (onward while it is open). An older
    rupture must not show what was done about a newer one."""
    if flag.instrument != episode.instrument or flag.session_number < episode.opened_session:
        return False
    return episode.closed_session is None or flag.session_number <= episode.closed_session


def ruptures_waiting(session: Session, active: tuple[Any, ...]) -> list[RuptureWaiting]:
    """Unrepaired ruptures, then open ones, oldest first, each with the last action
    recorded on its own flags."""
    unrepaired_first = case((Episode.status == "unrepaired", 0), else_=1)
    episodes = session.exec(
        select(
            Episode.client_id,
            Episode.instrument,
            Episode.opened_session,
            Episode.closed_session,
            Episode.opened_on,
            Episode.status,
            Episode.severity,
            Episode.explanation,
            Client.code,
        )
        .add_columns(Client.therapist_id, User.display_name)
        .join(Client, col(Client.id) == Episode.client_id)
        .join(User, col(User.id) == Client.therapist_id)
        .where(*active, col(Episode.status).in_(("open", "unrepaired")))
        .order_by(unrepaired_first, col(Episode.opened_on), col(Episode.id))
        .limit(WAITING_LIMIT)
    ).all()
    actions = session.exec(
        select(
            Flag.client_id, Flag.instrument, Flag.session_number, Flag.action, Flag.acknowledged_at
        )
        .where(
            col(Flag.client_id).in_({e.client_id for e in episodes}),
            col(Flag.action).is_not(None),
        )
        .order_by(col(Flag.acknowledged_at).desc())
    ).all()
    newest_first: dict[int, list[Any]] = {}
    for action in actions:
        newest_first.setdefault(action.client_id, []).append(action)
    result = []
    for episode in episodes:
        own = (a for a in newest_first.get(episode.client_id, []) if _raised_during(a, episode))
        last = next(own, None)
        result.append(
            RuptureWaiting(
                client_code=episode.code,
                therapist_id=episode.therapist_id,
                therapist_name=episode.display_name,
                status=episode.status,
                since=episode.opened_on,
                severity=episode.severity,
                explanation=episode.explanation,
                last_action=last.action if last else None,
                last_action_at=last.acknowledged_at if last else None,
            )
        )
    return result
