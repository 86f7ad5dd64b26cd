from __future__ import annotations

from fastapi import APIRouter

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.deps import CallerDep
from backend.db import DatabaseDep
from backend.notifications.schemas import NotificationPreferences, NotificationPreferencesUpdate
from backend.notifications.service import change_preferences, preferences_for
from backend.problems import refusals

router = APIRouter(prefix="/api/me", tags=["notifications"], responses=refusals(401, 422))


@router.get("/notifications", response_model=NotificationPreferences)
def my_notifications(caller: CallerDep, db: DatabaseDep) -> NotificationPreferences:
    """What the signed-in person gets by mail."""
    with db.reading() as session:
        return preferences_for(session=session, user_id=caller.id)


@router.patch("/notifications", response_model=NotificationPreferences, responses=refusals(409))
def change_my_notifications(
    body: NotificationPreferencesUpdate, caller: CallerDep, db: DatabaseDep
) -> NotificationPreferences:
    """Choose the digests; urgent alerts stay on while the person has clients (409)."""
    with db.writing() as session:
        attempting("change_notifications")
        preferences = change_preferences(session=session, user_id=caller.id, change=body)
        record(session=session, action="change_notifications", caller=caller)
        return preferences
