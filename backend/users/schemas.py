from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from backend.auth.passwords import MIN_LENGTH
from backend.text_fields import CONTROL_CHARACTERS, Text
from backend.users.models import Role

#: Shape only (self-hosted clinics use internal domains), and no control characters.
EMAIL_SHAPE = (
    rf"^[^@\s{CONTROL_CHARACTERS}]+@[^@\s{CONTROL_CHARACTERS}]+\.[^@\s{CONTROL_CHARACTERS}]+$"
)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    role: Role
    team_id: int | None
    team_name: str | None = None
    supervised_team_ids: list[int] = []
    supervised_teams: list[str] = []
    active: bool


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254, pattern=EMAIL_SHAPE)
    display_name: Text = Field(min_length=1, max_length=120)
    role: Role
    team: Text = Field(min_length=1, max_length=120, description="Team name; created if new.")
    # The schema states the minimum; the service checks it (and commonness) with a reason.
    password: str = Field(min_length=1, max_length=256, json_schema_extra={"minLength": MIN_LENGTH})


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: StrictBool | None = None  # 0 is not false: deactivating must be meant
    team: Text | None = Field(default=None, min_length=1, max_length=120)
    display_name: Text | None = Field(default=None, min_length=1, max_length=120)


class SupervisedTeams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    teams: list[Annotated[Text, Field(min_length=1, max_length=120)]] = Field(
        max_length=50,
        description="Names of every team the supervisor oversees from now on; new names "
        "create the team. An empty list oversees none.",
    )
