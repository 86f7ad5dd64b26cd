from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime


class AccessToken(SQLModel, table=True):
    """A signed-in session. Only a keyed hash of the bearer token is stored."""

    __tablename__ = "access_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    last_used_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    #: The same sign-in as held by the browser in an HttpOnly cookie, so a refreshed
    #: dashboard finds it (keyed hash, like token_hash; set through a one-time ticket).
    browser_secret_hash: str | None = Field(default=None, max_length=64, unique=True)
    browser_ticket_hash: str | None = Field(default=None, max_length=64, unique=True)
    browser_ticket_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
