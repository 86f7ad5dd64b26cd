"""Each person's choice of notifications: digests are theirs to choose; urgent alerts are
not, while they have clients."""

from __future__ import annotations

from sqlmodel import Session, col, select

from backend.clients.models import Client
from backend.clock import utcnow
from backend.errors import Conflict
from backend.notifications.models import NotificationPreference
from backend.notifications.schemas import (
    NotificationPreferences,
    NotificationPreferencesUpdate,
)

URGENT_REQUIRED = (
    "Urgent alerts cannot be turned off while you have clients: they are how a client's "
    "request to talk reaches you."
)


def _has_clients(session: Session, user_id: int) -> bool:
    return (
        session.exec(
            select(col(Client.id)).where(Client.therapist_id == user_id, Client.status == "active")
        ).first()
        is not None
    )


def preferences_for(*, session: Session, user_id: int) -> NotificationPreferences:
    """The person's choices, with the defaults where they chose nothing."""
    stored = session.get(NotificationPreference, user_id) or NotificationPreference(user_id=user_id)
    required = _has_clients(session, user_id)
    return NotificationPreferences(
        urgent_alerts=stored.urgent_alerts or required,
        urgent_alerts_required=required,
        daily_digest=stored.daily_digest,
        weekly_digest=stored.weekly_digest,
    )


def change_preferences(
    *, session: Session, user_id: int, change: NotificationPreferencesUpdate
) -> NotificationPreferences:
    """Store the person's choices; refuses to turn urgent alerts off while they have clients."""
    if change.urgent_alerts is False and _has_clients(session, user_id):
        raise Conflict(URGENT_REQUIRED, field="urgent_alerts")
    stored = session.get(NotificationPreference, user_id) or NotificationPreference(user_id=user_id)
    for name, value in change.model_dump(exclude_none=True).items():
        setattr(stored, name, value)
    stored.updated_at = utcnow()
    session.add(stored)
    session.flush()
    return preferences_for(session=session, user_id=user_id)
