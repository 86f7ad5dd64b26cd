"""Digests: Monday's counts for each supervisor's teams, a morning count for therapists who
asked for one. Each is queued once per person and period, however many senders look."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from backend.auth.caller import Caller
from backend.clients.models import Client
from backend.clients.scope import visible_clients
from backend.config import Settings
from backend.db import Database
from backend.flags.models import Episode, Flag
from backend.notifications.models import MessageKind, NotificationPreference, OutboxMessage
from backend.notifications.outbox import queue_digest
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from backend.users.models import Role, User

#: The rule that records a client's request to talk (see scoring/rules.py).
TALK_REQUEST_RULE = "client_wants_to_talk"


def _due_from(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(settings.digest_hour_utc), tzinfo=UTC)


def queue_due_digests(database: Database, settings: Settings, *, now: datetime) -> int:
    """Queue every digest whose time has come and that was not queued before; how many."""
    queued = 0
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    with database.writing() as session:
        if now >= _due_from(monday, settings):
            week = monday.isocalendar()
            queued += _queue_once(
                session,
                Role.supervisor,
                MessageKind.supervisor_digest,
                key=lambda user: f"weekly:{user.id}:{week.year}-W{week.week:02d}",
                counts=lambda user: supervisor_counts(session, user=user, week_start=monday),
            )
        if now >= _due_from(today, settings):
            queued += _queue_once(
                session,
                Role.therapist,
                MessageKind.therapist_digest,
                key=lambda user: f"daily:{user.id}:{today.isoformat()}",
                counts=lambda user: therapist_counts(session, user=user),
                worth_sending=lambda counts: bool(counts["clients_with_open_flags"]),
            )
    return queued


#: Which preference subscribes each role to its digest.
_CHOICES = {Role.supervisor: "weekly_digest", Role.therapist: "daily_digest"}


def _queue_once(
    session: Session,
    role: Role,
    kind: MessageKind,
    *,
    key: Callable[[User], str],
    counts: Callable[[User], dict[str, Any]],
    worth_sending: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> int:
    """Queue this period's digest for each subscriber not yet sent it; how many."""
    queued = 0
    for user in _subscribers(session, role, _CHOICES[role]):
        dedup_key = key(user)
        if _queued(session, dedup_key):
            continue
        payload = counts(user)
        if worth_sending(payload):
            queued += queue_digest(
                session, kind=kind, recipient_id=user.id, dedup_key=dedup_key, payload=payload
            )
    return queued


def _subscribers(session: Session, role: Role, choice: str) -> list[User]:
    chosen = getattr(NotificationPreference, choice)
    default = NotificationPreference.model_fields[choice].default
    return list(
        session.exec(
            select(User)
            .join(
                NotificationPreference,
                col(NotificationPreference.user_id) == User.id,
                isouter=True,
            )
            .where(User.role == role.value, col(User.active))
            .where(func.coalesce(chosen, default) == True)  # noqa: E712  (SQL, not Python)
            .order_by(User.id)
        ).all()
    )


def _queued(session: Session, key: str) -> bool:
    found = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)).first()
    return found is not None


def _as(user: User) -> Caller:
    """Whom the digest is for, scoped exactly as their own sign-in would be."""
    return Caller(user=user, token_id=0, needs_touch=False)


def supervisor_counts(session: Session, *, user: User, week_start: date) -> dict[str, object]:
    """Counts for the supervisor's teams: talk requests nobody has acknowledged, ruptures
    left unrepaired (active clients), and how many of last week's sessions were rated."""
    active = (visible_clients(_as(user)), Client.status == "active")
    waiting = session.exec(
        select(func.count(col(Flag.id)))
        .join(Client, col(Client.id) == Flag.client_id)
        .where(*active, Flag.status == "open", Flag.rule == TALK_REQUEST_RULE)
    ).one()
    unrepaired = session.exec(
        select(func.count(col(Episode.id)))
        .join(Client, col(Client.id) == Episode.client_id)
        .where(*active, Episode.status == "unrepaired")
    ).one()
    last_week = (week_start - timedelta(days=7), week_start - timedelta(days=1))
    held, rated = session.exec(
        select(func.count(col(TherapySession.id)), func.count(col(Rating.id)))
        .select_from(TherapySession)
        .join(Client, col(Client.id) == TherapySession.client_id)
        .join(Rating, col(Rating.therapy_session_id) == TherapySession.id, isouter=True)
        .where(visible_clients(_as(user)))
        .where(col(TherapySession.held_on).between(*last_week))
    ).one()
    return {
        "week_start": last_week[0].isoformat(),
        "talk_requests_waiting": int(waiting),
        "ruptures_unrepaired": int(unrepaired),
        "sessions_held": int(held),
        "response_rate": round(int(rated) / int(held), 3) if held else None,
    }


def therapist_counts(session: Session, *, user: User) -> dict[str, object]:
    """How many of the therapist's active clients have an open flag."""
    clients = session.exec(
        select(func.count(distinct(Flag.client_id)))
        .join(Client, col(Client.id) == Flag.client_id)
        .where(visible_clients(_as(user)), Client.status == "active", Flag.status == "open")
    ).one()
    return {"clients_with_open_flags": int(clients)}
