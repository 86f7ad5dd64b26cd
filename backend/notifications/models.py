"""The outbox of messages to send, and what each person chose to receive."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from backend.clock import utcnow
from backend.db import UTCDateTime


class MessageKind(StrEnum):
    #: "A client on your caseload needs attention", with a link to the client's page.
    urgent_alert = "urgent_alert"
    #: Monday's counts for a supervisor's teams.
    supervisor_digest = "supervisor_digest"
    #: The morning's count of open flags on a therapist's caseload (opt-in).
    therapist_digest = "therapist_digest"


class MessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    #: Its recipient was deactivated before it could be sent.
    cancelled = "cancelled"


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class OutboxMessage(SQLModel, table=True):
    """A message to send, written in the same transaction as what caused it.

    It holds no prose: the wording is rendered when it is sent, from the kind, the
    client's code and, for digests, the counts in ``payload``.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (
        CheckConstraint(_in("kind", MessageKind), name="kind_known"),
        CheckConstraint(_in("status", MessageStatus), name="status_known"),
        # A burst of urgent flags for one client is one mail: while an alert about the
        # client is waiting, another is not queued.
        Index(
            "uq_notification_outbox_waiting_alert",
            "recipient_id",
            "client_id",
            unique=True,
            sqlite_where=text("status = 'pending' AND client_id IS NOT NULL"),
            postgresql_where=text("status = 'pending' AND client_id IS NOT NULL"),
        ),
        # What the sender looks for on every pass.
        Index(
            "ix_notification_outbox_due",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30)
    recipient_id: int = Field(foreign_key="user.id", index=True)
    #: The client an alert is about (pseudonymous); None for digests.
    client_id: int | None = Field(default=None, foreign_key="client.id", ondelete="CASCADE")
    #: Digests: the counts the message reports.
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    #: Digests: one per person and period ("weekly:12:2026-W49"), however many senders run.
    dedup_key: str | None = Field(default=None, max_length=80, unique=True)
    status: str = Field(default=MessageStatus.pending, max_length=20)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    attempts: int = 0
    #: A sender holds the message until then; past it, another sender may take it.
    claimed_until: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    claim_token: str | None = Field(default=None, max_length=32)
    #: Why the last attempt failed: an exception name or SMTP reply code, nothing from the mail.
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class NotificationPreference(SQLModel, table=True):
    """What one person chose; without a row, the defaults below apply."""

    __tablename__ = "notification_preference"

    user_id: int = Field(foreign_key="user.id", primary_key=True, ondelete="CASCADE")
    #: Only honoured while the person has no clients: a therapist always gets urgent alerts.
    urgent_alerts: bool = True
    #: Therapists: a morning count of what is open on their caseload (off unless chosen).
    daily_digest: bool = False
    #: Supervisors: Monday's counts for their teams.
    weekly_digest: bool = True
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
