from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime

ERASURE_REASON_MAX_LENGTH = 500
LABEL_MAX_LENGTH = 24


class Client(SQLModel, table=True):
    """A client known only by a random pseudonymous code; no names or contact details."""

    __table_args__ = (CheckConstraint("status IN ('active', 'discharged')", name="status_known"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    therapist_id: int = Field(foreign_key="user.id", index=True)
    status: str = Field(default="active", max_length=20)
    #: The therapist's private name for the client (e.g. initials): clinical data, shown only
    #: to the therapist and their supervisors, never on the client's phone page.
    label: str | None = Field(default=None, max_length=LABEL_MAX_LENGTH)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    #: When the client was last discharged; retention counts from here.
    discharged_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ClientErasure(SQLModel, table=True):
    """The tombstone of an erased client: the code, who erased it, when and why, nothing else.

    Its primary key keeps the code from ever being given to another client.
    """

    __tablename__ = "client_erasure"
    __table_args__ = (
        CheckConstraint(
            f"length(reason) BETWEEN 1 AND {ERASURE_REASON_MAX_LENGTH}", name="reason_length"
        ),
    )

    code: str = Field(max_length=16, primary_key=True)
    #: The admin who erased the client; None when retention did.
    erased_by: int | None = Field(default=None, foreign_key="user.id")
    erased_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))
