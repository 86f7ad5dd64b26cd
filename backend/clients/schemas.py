from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

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
