from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from backend.clients.models import ERASURE_REASON_MAX_LENGTH, LABEL_MAX_LENGTH

ClientStatus = Literal["active", "discharged"]

#: A client's code as it appears in a path (``/api/clients/{client_id}/...``).
ClientCode = Annotated[str, Path(min_length=3, max_length=16, pattern=r"^[A-Za-z0-9-]+$")]


def _json_integer(value: Any) -> Any:
    """JSON Schema's "integer": 12 and 12.0 alike (a generated client may send either);
    never "12" or true, which the schema does not allow."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: A user id as the database stores it (a 32-bit integer on PostgreSQL).
UserId = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_json_integer)]


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


class ErasureRequest(BaseModel):
    """An administrator's erasure: why, and the client's code typed again to confirm."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=3, max_length=ERASURE_REASON_MAX_LENGTH
        ),
    ]
    confirm_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)]


class ErasurePublic(BaseModel):
    """The tombstone that remains, and how many rows of each table were deleted."""

    code: str
    erased_at: datetime
    reason: str
    deleted: dict[str, int]


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
