"""Writing messages into the outbox, and taking them out to send, at most one sender each.

A sender claims a few due messages in one short transaction (``FOR UPDATE SKIP LOCKED``
on PostgreSQL; SQLite's writers take turns), which leases them to it for a while, then
sends them outside any transaction and marks each one sent under its claim. A sender
that dies mid-way leaves its messages pending; when the lease runs out another sender
takes them. A failed delivery is tried again later, each wait twice the last.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from backend.clients.models import Client
from backend.clock import today, utcnow
from backend.config import Settings
from backend.db import Database
from backend.notifications.models import (
    MessageKind,
    MessageStatus,
    NotificationPreference,
    OutboxMessage,
)

_OUTBOX: Table = OutboxMessage.__table__
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_WAITING_ALERT = text("status = 'pending' AND client_id IS NOT NULL")
#: Messages a sender takes per claim: a pass sends them over one SMTP connection.
CLAIM_BATCH = 20
#: Only a flag on a session this recent is news. A rules change that flags sessions
#: from months ago (``rapport rescore``) shows them on the dashboard without a mail.
ALERT_WINDOW = timedelta(days=14)


def queue_urgent_alerts(session: Session, *, raised: Iterable[Mapping[str, Any]]) -> None:
    """Queue a mail to the therapist of each client with a new urgent flag among ``raised``.

    Called with the flags a scoring pass inserts, in its transaction, so the alert is
    committed with the flag or not at all. Several urgent flags of one client, in this
    pass or while an earlier alert about them waits to be sent, make one mail.
    """
    since = today() - ALERT_WINDOW
    client_ids = sorted(
        {
            int(flag["client_id"])
            for flag in raised
            if flag["severity"] == "urgent" and _day(flag["held_on"]) >= since
        }
    )
    if not client_ids:
        return
    therapists = session.execute(
        select(Client.id, Client.therapist_id).where(Client.id.in_(client_ids))
    ).all()
    opted_out = _opted_out_of_alerts(session, {therapist for _, therapist in therapists})
    therapists = [
        (client, therapist) for client, therapist in therapists if therapist not in opted_out
    ]
    if not therapists:
        return
    now = utcnow()
    insert = _UPSERTS[session.get_bind().dialect.name]
    session.execute(
        insert(_OUTBOX)
        .values(
            [
                {
                    "kind": MessageKind.urgent_alert.value,
                    "recipient_id": therapist_id,
                    "client_id": client_id,
                    "status": MessageStatus.pending.value,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                }
                for client_id, therapist_id in sorted(therapists)
            ]
        )
        .on_conflict_do_nothing(
            index_elements=[_OUTBOX.c.recipient_id, _OUTBOX.c.client_id],
            index_where=_WAITING_ALERT,
        )
    )


def _opted_out_of_alerts(session: Session, user_ids: set[int]) -> set[int]:
    """Those who turned urgent alerts off and have no active client (e.g. a late rating from
    a discharged client); with an active client the choice is not theirs to make."""
    has_active = (
        select(Client.id)
        .where(Client.therapist_id == NotificationPreference.user_id, Client.status == "active")
        .exists()
    )
    return set(
        session.scalars(
            select(NotificationPreference.user_id).where(
                NotificationPreference.user_id.in_(sorted(user_ids)),
                NotificationPreference.urgent_alerts.is_(False),
                ~has_active,
            )
        )
    )


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def queue_digest(
    session: Session,
    *,
    kind: MessageKind,
    recipient_id: int,
    dedup_key: str,
    payload: dict[str, Any],
) -> bool:
    """Queue a digest unless one with this key was queued before; True if this one was."""
    now = utcnow()
    insert = _UPSERTS[session.get_bind().dialect.name]
    result = session.execute(
        insert(_OUTBOX)
        .values(
            kind=kind.value,
            recipient_id=recipient_id,
            payload=payload,
            dedup_key=dedup_key,
            status=MessageStatus.pending.value,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=[_OUTBOX.c.dedup_key])
    )
    return bool(result.rowcount)


@dataclass(frozen=True)
class Claim:
    """Messages leased to one sender, and the token that proves the lease is still theirs."""

    token: str
    message_ids: tuple[int, ...]
    #: When this sender must stop sending them (by its own clock, with a margin).
    send_by: float = 0.0


def claim_due(database: Database, settings: Settings, *, limit: int = CLAIM_BATCH) -> Claim:
    """Lease the messages that are due and that no live sender holds."""
    token = secrets.token_hex(16)
    with database.writing() as session:
        now = utcnow()
        ids = tuple(
            session.scalars(
                select(_OUTBOX.c.id)
                .where(
                    _OUTBOX.c.status == MessageStatus.pending.value,
                    _OUTBOX.c.next_attempt_at <= now,
                    (_OUTBOX.c.claimed_until.is_(None)) | (_OUTBOX.c.claimed_until < now),
                )
                .order_by(_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id.in_(ids))
                .values(
                    claim_token=token,
                    claimed_until=now + timedelta(seconds=settings.notify_lease_seconds),
                    attempts=_OUTBOX.c.attempts + 1,
                )
            )
    # Half the lease: a slow server never makes this sender overrun it, so a message is
    # never sent by two senders at once.
    send_by = time.monotonic() + settings.notify_lease_seconds / 2
    return Claim(token=token, message_ids=ids, send_by=send_by)


def mark_sent(session: Session, *, claim: Claim, message_id: int) -> bool:
    """Record a delivery; False if the lease was lost (another sender has it now)."""
    return _settle(session, claim, message_id, status=MessageStatus.sent.value, sent_at=utcnow())


def mark_cancelled(session: Session, *, claim: Claim, message_id: int, reason: str) -> bool:
    return _settle(
        session, claim, message_id, status=MessageStatus.cancelled.value, last_error=reason
    )


def mark_failed(
    session: Session, *, claim: Claim, message_id: int, reason: str, settings: Settings
) -> bool:
    """Put a message back for a later try, waiting twice as long as after the last failure."""
    attempts = session.scalar(select(_OUTBOX.c.attempts).where(_OUTBOX.c.id == message_id)) or 1
    return _settle(
        session,
        claim,
        message_id,
        next_attempt_at=utcnow() + retry_delay(attempts, settings),
        last_error=reason[:200],
    )


def release(session: Session, *, claim: Claim, message_ids: list[int]) -> None:
    """Give back messages not yet tried, for the next pass (of any sender) to take."""
    for message_id in message_ids:
        _settle(session, claim, message_id, attempts=_OUTBOX.c.attempts - 1)


def retry_delay(attempts: int, settings: Settings) -> timedelta:
    """Exponential backoff: the first retry after ``notify_retry_seconds``, capped."""
    seconds = settings.notify_retry_seconds * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, settings.notify_retry_max_seconds))


def _settle(session: Session, claim: Claim, message_id: int, **values: Any) -> bool:
    result = session.execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id == message_id, _OUTBOX.c.claim_token == claim.token)
        .values(claimed_until=None, claim_token=None, **values)
    )
    return bool(result.rowcount)


def pending_count(database: Database) -> int:
    """Messages not yet sent (waiting, being sent, or waiting for a retry)."""
    with database.reading() as session:
        return session.execute(
            select(func.count()).where(_OUTBOX.c.status == MessageStatus.pending.value)
        ).scalar_one()
