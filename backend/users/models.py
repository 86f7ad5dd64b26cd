from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime


class Role(StrEnum):
    therapist = "therapist"
    supervisor = "supervisor"
    admin = "admin"


class User(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("role IN ('therapist', 'supervisor', 'admin')", name="role_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    display_name: str = Field(max_length=120)
    role: str = Field(max_length=20)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    password_hash: str = Field(max_length=255)
    active: bool = True
    #: A one-time reset code an admin issued (SHA-256 of it), until it is used or expires.
    password_reset_hash: str | None = Field(default=None, max_length=64)
    password_reset_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
