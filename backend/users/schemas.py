from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from backend.auth.passwords import MIN_LENGTH
from backend.users.models import Role


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    team_id: int | None
    team_name: str | None = None
    supervised_team_ids: list[int] = []
    active: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Self-hosted clinics use internal domains, so no deliverability check: shape only.
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    display_name: str = Field(min_length=1, max_length=120)
    role: Role
    team: str = Field(min_length=1, max_length=120, description="Team name; created if new.")
    # The schema states the minimum; the service checks it (and commonness) with a reason.
    password: str = Field(min_length=1, max_length=256, json_schema_extra={"minLength": MIN_LENGTH})


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: StrictBool | None = None  # 0 is not false: deactivating must be meant
    team: str | None = Field(default=None, min_length=1, max_length=120)
    display_name: str | None = Field(default=None, min_length=1, max_length=120)
