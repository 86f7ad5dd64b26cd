from __future__ import annotations

from pydantic import BaseModel, ConfigDict, StrictBool


class NotificationPreferences(BaseModel):
    """What the person gets by mail."""

    #: Always true while the person has clients: an urgent flag reaches its therapist.
    urgent_alerts: bool
    #: True while the person has clients; urgent alerts cannot be turned off then.
    urgent_alerts_required: bool
    #: Therapists: each morning, how many clients have something open (only if any do).
    daily_digest: bool
    #: Supervisors: each Monday, their teams' waiting talk requests, unrepaired ruptures
    #: and response rate.
    weekly_digest: bool


class NotificationPreferencesUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urgent_alerts: StrictBool | None = None
    daily_digest: StrictBool | None = None
    weekly_digest: StrictBool | None = None
