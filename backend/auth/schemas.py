from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.auth.passwords import MIN_LENGTH
from backend.text_fields import Text
from backend.users.schemas import UserPublic


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Text = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=256)
    # The schema states the minimum; the service also refuses guessable ones, saying why.
    new_password: str = Field(
        min_length=1, max_length=256, json_schema_extra={"minLength": MIN_LENGTH}
    )


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Text = Field(min_length=1, max_length=254)
    reset_code: str = Field(min_length=1, max_length=128)
    new_password: str = Field(
        min_length=1, max_length=256, json_schema_extra={"minLength": MIN_LENGTH}
    )


class IssuedPasswordReset(BaseModel):
    """Shown once to the admin, who passes it on; it works once, until ``expires_at``."""

    reset_code: str
    expires_at: datetime


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserPublic


class BrowserTicketPublic(BaseModel):
    """Shown once, to the dashboard, which has the user's browser redeem it."""

    ticket: str
    expires_at: datetime
