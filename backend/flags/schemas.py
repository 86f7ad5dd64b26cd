from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.flags.models import NOTE_MAX_LENGTH

Action = Literal[
    "raised_in_session",
    "adjusted_approach",
    "checked_in_outside_session",
    "consulted_supervisor",
    "referred",
    "no_action_needed",
]
FlagStatus = Literal["open", "acknowledged", "resolved", "withdrawn"]
Severity = Literal["info", "talk", "warning", "urgent"]


class FlagPublic(BaseModel):
    id: int
    client_code: str
    session_number: int
    held_on: date
    instrument: str
    rule: str
    item: str | None
    severity: Severity
    level: str | None
    explanation: str
    guidance: str
    evidence: dict[str, Any]
    rules_version: str
    status: FlagStatus
    created_at: datetime
    acknowledged_at: datetime | None
    action: Action | None
    note: str | None
    resolved_at: datetime | None
    resolution: str | None


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class EpisodePublic(BaseModel):
    id: int
    instrument: str
    opened_session: int
    opened_on: date
    trigger_rule: str
    pre_rupture_mean: float | None
    pre_rupture_sd: float | None
    recovery_threshold: float | None
    lowest_total: float
    status: Literal["open", "repaired", "unrepaired"]
    closed_session: int | None
    closed_on: date | None
    severity: Severity
    explanation: str
