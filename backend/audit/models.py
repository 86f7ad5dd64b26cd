"""The audit trail: who did what to which client, and whether they were allowed to.

Append-only: the service inserts rows and never updates or deletes them. Rows name
people and objects by id or pseudonymous client code only; they never hold rating
contents, comments, notes, tokens, passwords or email addresses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime

OUTCOMES = ("allowed", "denied", "failed")


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        CheckConstraint("outcome IN ('allowed', 'denied', 'failed')", name="outcome_known"),
        # Sign-in throttling counts recent failures per account key and per address.
        Index("ix_audit_event_login_key_at", "login_key", "at"),
        Index("ix_audit_event_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False, index=True)
    )
    actor_id: int | None = Field(default=None, index=True)
    actor_role: str | None = Field(default=None, max_length=20)
    action: str = Field(max_length=40)
    outcome: str = Field(max_length=10)
    client_code: str | None = Field(default=None, max_length=16, index=True)
    #: The user an account change or sign-in is about, or the client's therapist.
    subject_user_id: int | None = Field(default=None, index=True)
    #: Flag id, session number, ...: whatever else the action names.
    object_id: str | None = Field(default=None, max_length=120)
    request_id: str | None = Field(default=None, max_length=64)
    #: Network address of the request; used to throttle sign-in attempts.
    address: str | None = Field(default=None, max_length=64)
    #: Keyed hash of the email a sign-in was attempted for (the email itself is not kept).
    login_key: str | None = Field(default=None, max_length=64)
