"""Every table, imported once so Alembic and the app see the same metadata."""

from backend.audit.models import AuditEvent
from backend.auth.models import AccessToken
from backend.clients.models import Client, ClientErasure
from backend.db import SQLModel
from backend.flags.models import ClientSummary, Episode, Flag, RescoreRequest, ScoringCalibration
from backend.jobs.models import JobRun, ScheduledJob
from backend.notifications.models import NotificationPreference, OutboxMessage
from backend.ratings.models import Rating
from backend.teams.models import Team, TeamSupervisor
from backend.therapy.models import RatingLink, TherapySession
from backend.users.models import User

metadata = SQLModel.metadata

__all__ = [
    "AccessToken",
    "AuditEvent",
    "Client",
    "ClientErasure",
    "ClientSummary",
    "Episode",
    "Flag",
    "JobRun",
    "NotificationPreference",
    "OutboxMessage",
    "Rating",
    "RatingLink",
    "RescoreRequest",
    "ScheduledJob",
    "ScoringCalibration",
    "Team",
    "TeamSupervisor",
    "TherapySession",
    "User",
    "metadata",
]
