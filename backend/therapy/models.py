from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime


class TherapySession(SQLModel, table=True):
    __tablename__ = "therapy_session"
    __table_args__ = (
        UniqueConstraint("client_id", "session_number"),
        CheckConstraint("session_number >= 1", name="session_number_positive"),
        # The team overview reads each visible client's sessions in a date range; this
        # also serves every lookup by client alone.
        Index("ix_therapy_session_client_id_held_on", "client_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    session_number: int
    held_on: date
    instrument: str = Field(max_length=40)
    created_by: int = Field(foreign_key="user.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class RatingLink(SQLModel, table=True):
    """The client's personal link for one session. Only the SHA-256 of its token is kept."""

    __tablename__ = "rating_link"

    id: int | None = Field(default=None, primary_key=True)
    therapy_session_id: int = Field(foreign_key="therapy_session.id", unique=True)
    token_hash: str = Field(max_length=64, unique=True)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
