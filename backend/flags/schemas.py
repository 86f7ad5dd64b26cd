from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.flags.models import (
    ACTIONS,
    EPISODE_STATUSES,
    FLAG_STATUSES,
    NOTE_MAX_LENGTH,
    SEVERITIES,
)
from backend.text_fields import Text

# The database CHECK constraints and these API types come from the same tuples.
Action = Literal[*ACTIONS]
FlagStatus = Literal[*FLAG_STATUSES]
Severity = Literal[*SEVERITIES]
EpisodeStatus = Literal[*EPISODE_STATUSES]


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
    note: Text | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Text | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


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
    status: EpisodeStatus
    closed_session: int | None
    closed_on: date | None
    severity: Severity
    explanation: str
