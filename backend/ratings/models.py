from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime

COMMENT_MAX_LENGTH = 1000


class Rating(SQLModel, table=True):
    """A client's answer for one therapy session. Never updated or deleted through the API."""

    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        CheckConstraint(f"length(comment) <= {COMMENT_MAX_LENGTH}", name="comment_length"),
        # Weekly means read a session's rating through this index alone, never the row with
        # its answers and comment.
        Index(
            "ix_rating_therapy_session_id_instrument_total",
            "therapy_session_id",
            "instrument",
            "total",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    therapy_session_id: int = Field(foreign_key="therapy_session.id", unique=True)
    instrument: str = Field(max_length=40)
    #: The item wording the client read (``scoring.instruments.WORDING_VERSIONS``); kept
    #: when the wording changes later, so each answer stays tied to the question it answered.
    wording_version: int
    scores: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    total: float
    comment: str | None = Field(default=None, max_length=COMMENT_MAX_LENGTH)
    wants_to_talk: bool = False
    payload_hash: str = Field(max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=128)
    submitted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
