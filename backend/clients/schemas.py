from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from backend.clients.models import LABEL_MAX_LENGTH

ClientStatus = Literal["active", "discharged"]
#: A user id as the database stores it (a 32-bit integer on PostgreSQL); never "12" or 12.0.
UserId = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    therapist_id: UserId | None = None


class ClientUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ClientStatus | None = None
    therapist_id: UserId | None = None


class ClientPublic(BaseModel):
    code: str
    therapist_id: int
    therapist_name: str
    status: ClientStatus
    created_at: datetime


#: One line: no control characters (line breaks, tabs, escapes) in a label.
LABEL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"


class ClientLabel(BaseModel):
    """The therapist's private name for a client; empty or null removes it."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=LABEL_MAX_LENGTH, pattern=LABEL_PATTERN)

    @field_validator("label")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return (value or "").strip() or None
