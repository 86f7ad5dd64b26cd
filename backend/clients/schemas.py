from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

ClientStatus = Literal["active", "discharged"]


class ClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    therapist_id: int | None = None


class ClientUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: ClientStatus | None = None
    therapist_id: int | None = None


class ClientPublic(BaseModel):
    code: str
    therapist_id: int
    therapist_name: str
    status: ClientStatus
    created_at: datetime
