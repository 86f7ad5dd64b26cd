from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from backend.flags.models import (
    ACTIONS,
    ACTIONS_NEEDING_A_NOTE,
    EPISODE_STATUSES,
    FLAG_STATUSES,
    NOTE_MAX_LENGTH,
    RESOLUTIONS,
    SEVERITIES,
)
from backend.text_fields import NOT_BLANK_NO_CONTROL_CHARACTERS, Text

# The database CHECK constraints and these API types come from the same tuples.
Action = Literal[*ACTIONS]
FlagStatus = Literal[*FLAG_STATUSES]
Severity = Literal[*SEVERITIES]
EpisodeStatus = Literal[*EPISODE_STATUSES]
FlagResolution = Literal[*RESOLUTIONS]


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
    #: What the therapist planned before they recorded what was done (``action``, ``note``).
    planned_action: Action | None = None
    plan_note: str | None = None
    planned_at: datetime | None = None
    resolved_at: datetime | None
    resolution: FlagResolution | None
    #: Why scoring no longer raises a withdrawn flag; what was written about it stays.
    withdrawn_reason: str | None = None


class _AcknowledgementBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgementOfAction(_AcknowledgementBase):
    """One of the listed actions; the note is optional."""

    action: Literal[*(a for a in ACTIONS if a not in ACTIONS_NEEDING_A_NOTE)]
    note: Text | None = Field(default=None, max_length=NOTE_MAX_LENGTH)


class AcknowledgementOfOther(_AcknowledgementBase):
    """'Other': the note says what was done, so it is required and not blank."""

    action: Literal[*ACTIONS_NEEDING_A_NOTE]
    note: Text = Field(
        min_length=1,
        max_length=NOTE_MAX_LENGTH,
        json_schema_extra={"pattern": NOT_BLANK_NO_CONTROL_CHARACTERS},
    )

    @field_validator("note")
    @classmethod
    def _says_what(cls, note: str) -> str:
        if not note.strip():
            raise PydanticCustomError("note_required", "Say in the note what you did.")
        return note


#: What the therapist did about a flag; the action decides whether a note is required.
Acknowledgement = Annotated[
    AcknowledgementOfAction | AcknowledgementOfOther, Field(discriminator="action")
]


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


class CalibrationPublic(BaseModel):
    """Which week-to-week SD a new client's range starts from, for one instrument."""

    instrument: str
    within_sd: float
    #: "clinic estimate" (from the clinic's own ratings) or "instrument default".
    source: str
    ratings: int | None
    clients: int | None
    estimated_at: datetime | None


class RangePublic(BaseModel):
    """One rating with the client's usual range that scoring judged it by."""

    session_number: int
    instrument: str
    total: float
    #: The client's usual level and its spread; None until two earlier ratings exist.
    usual: float | None
    usual_sd: float | None
    #: Below this line a rating reads as a possible dip.
    usual_low: float | None
    change_from_previous: float | None
    in_episode: bool
