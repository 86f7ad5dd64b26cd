from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor_role: str | None
    action: str
    outcome: Literal["allowed", "denied", "failed"]
    client_code: str | None
    subject_user_id: int | None
    object_id: str | None
    request_id: str | None
