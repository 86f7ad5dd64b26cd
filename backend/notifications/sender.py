"""Delivering the outbox over SMTP: a pass, and the loop that runs passes in the API.

A message is marked sent right after the server accepted it, under the sender's claim.
If that mark cannot be written (the database is briefly gone), this process keeps it
and writes it first on its next pass, so the message is not sent again. Only a process
that dies between the server's acceptance and the mark leaves a message to be sent a
second time when its lease runs out; the copy carries the same Message-ID, which mail
programs use to show it once.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from backend.clients.models import Client
from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database
from backend.notifications.digests import queue_due_digests
from backend.notifications.messages import Mail, render
from backend.notifications.models import OutboxMessage
from backend.notifications.outbox import (
    Claim,
    claim_due,
    mark_cancelled,
    mark_failed,
    mark_sent,
    release,
)
from backend.users.models import User

log = logging.getLogger("rapport")

_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
#: Digests are looked for this often, not on every pass: they are due once a day at most.
DIGEST_CHECK_SECONDS = 300.0


@dataclass
class DeliveryPass:
    """What one pass did."""

    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    #: Why the last failure happened: an exception name or SMTP reply code.
    failure: str | None = None


@dataclass(frozen=True)
class _Outgoing:
    message_id: int
    to: str | None
    mail: Mail | None
    header_id: str


def open_smtp(settings: Settings) -> smtplib.SMTP:
    """A connection to the configured server, secured and signed in as configured."""
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    if settings.smtp_security == "tls":
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if settings.smtp_security == "starttls":
            connection.starttls(context=context)
        if settings.smtp_user:
            connection.login(settings.smtp_user, settings.smtp_password.get_secret_value())
    except BaseException:
        connection.close()
        raise
    return connection


class Sender:
    """Sends the outbox of one database; one per process and database."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        connect: Callable[[Settings], smtplib.SMTP] = open_smtp,
    ) -> None:
        self.database = database
        self.settings = settings
        self._connect = connect
        #: Delivered, but the mark could not be written yet: (claim, message id).
        self._unconfirmed: list[tuple[Claim, int]] = []
        self._digests_checked_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one pass ---------------------------------------------------------------------

    def run_pass(self, *, now: datetime | None = None) -> DeliveryPass:
        """Queue due digests, then send everything due; raises only if the database is gone."""
        outcome = DeliveryPass()
        self._confirm_unconfirmed()
        now = now or utcnow()
        if (
            self._digests_checked_at is None
            or (now - self._digests_checked_at).total_seconds() >= DIGEST_CHECK_SECONDS
        ):
            queue_due_digests(self.database, self.settings, now=now)
            self._digests_checked_at = now
        while True:
            claim = claim_due(self.database, self.settings)
            if not claim.message_ids:
                return outcome
            finished = self._deliver(claim, outcome)
            if not finished or outcome.failed:  # slow, or not taking mail: next pass
                return outcome

    def _deliver(self, claim: Claim, outcome: DeliveryPass) -> bool:
        """Send the claimed messages; False if it stopped short (slow server, lease half gone)."""
        outgoing = self._outgoing(claim)
        to_send = [item for item in outgoing if item.to is not None]
        for item in outgoing:
            if item.to is None:
                with self.database.writing() as session:
                    mark_cancelled(
                        session, claim=claim, message_id=item.message_id, reason="no recipient"
                    )
                outcome.cancelled += 1
        if not to_send:
            return True
        try:
            connection = self._connect(self.settings)
        except (OSError, smtplib.SMTPException) as failure:
            self._fail(claim, [item.message_id for item in to_send], failure, outcome)
            return False
        try:
            for position, item in enumerate(to_send):
                if time.monotonic() > claim.send_by:
                    rest = [later.message_id for later in to_send[position:]]
                    with self.database.writing() as session:
                        release(session, claim=claim, message_ids=rest)
                    return False
                try:
                    connection.send_message(self._email(item))
                except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as refused:
                    self._fail(claim, [item.message_id], refused, outcome)
                    continue
                except (OSError, smtplib.SMTPException) as failure:
                    rest = [later.message_id for later in to_send[position:]]
                    self._fail(claim, rest, failure, outcome)
                    return False
                outcome.sent += 1
                self._confirm(claim, item.message_id)
            return True
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                connection.close()

    def _outgoing(self, claim: Claim) -> list[_Outgoing]:
        """The claimed messages with their recipient's address, rendered."""
        therapist = User.__table__.alias("therapist")
        with self.database.reading() as session:
            rows = session.execute(
                select(
                    OutboxMessage.id,
                    OutboxMessage.kind,
                    OutboxMessage.payload,
                    OutboxMessage.created_at,
                    Client.code,
                    User.email,
                    User.active,
                    therapist.c.email,
                    therapist.c.active,
                )
                .join(User, User.id == OutboxMessage.recipient_id)
                .outerjoin(Client, Client.id == OutboxMessage.client_id)
                .outerjoin(therapist, therapist.c.id == Client.therapist_id)
                .where(OutboxMessage.id.in_(claim.message_ids))
                .order_by(OutboxMessage.id)
            ).all()
        outgoing = []
        for id_, kind, payload, created_at, code, email, active, t_email, t_active in rows:
            # An alert goes to whoever treats the client now (reassigned in between: the new one).
            to, live = (t_email, t_active) if code is not None else (email, active)
            mail = render(
                kind, dashboard_url=self.settings.dashboard_url, client_code=code, payload=payload
            )
            header_id = f"<rapport.{id_}.{int(created_at.timestamp())}@{self._domain()}>"
            outgoing.append(_Outgoing(id_, to if live else None, mail, header_id))
        return outgoing

    def _domain(self) -> str:
        return self.settings.smtp_sender.rpartition("@")[2] or "rapport.invalid"

    def _email(self, item: _Outgoing) -> EmailMessage:
        assert item.mail is not None and item.to is not None
        message = EmailMessage()
        message["From"] = self.settings.smtp_sender
        message["To"] = item.to
        message["Subject"] = item.mail.subject
        message["Date"] = format_datetime(utcnow())
        # The same for every attempt: a copy sent again after a crash is shown once.
        message["Message-ID"] = item.header_id
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(item.mail.body)
        return message

    def _fail(
        self, claim: Claim, message_ids: list[int], failure: Exception, outcome: DeliveryPass
    ) -> None:
        reason = _reason(failure)
        with self.database.writing() as session:
            for message_id in message_ids:
                mark_failed(
                    session,
                    claim=claim,
                    message_id=message_id,
                    reason=reason,
                    settings=self.settings,
                )
        outcome.failed += len(message_ids)
        outcome.failure = reason

    def _confirm(self, claim: Claim, message_id: int) -> None:
        try:
            with self.database.writing() as session:
                mark_sent(session, claim=claim, message_id=message_id)
        except _UNAVAILABLE:
            self._unconfirmed.append((claim, message_id))

    def _confirm_unconfirmed(self) -> None:
        waiting, self._unconfirmed = self._unconfirmed, []
        if not waiting:
            return
        try:
            with self.database.writing() as session:
                for claim, message_id in waiting:
                    mark_sent(session, claim=claim, message_id=message_id)
        except _UNAVAILABLE:
            self._unconfirmed = waiting + self._unconfirmed
            raise

    # -- the loop ---------------------------------------------------------------------

    def start(self) -> None:
        """Run passes every ``notify_interval_seconds`` in a background thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="rapport-notify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_logged()
            self._stop.wait(self.settings.notify_interval_seconds)

    def run_logged(self) -> DeliveryPass | None:
        """A pass that never raises: a failure is logged without anything about anyone."""
        try:
            outcome = self.run_pass()
        except Exception as failure:
            log.warning(
                "Sending notifications failed (%s); they stay queued for the next pass.",
                type(failure).__name__,
            )
            return None
        if outcome.failed:
            log.warning(
                "The mail server did not take %d notification(s) (%s); they will be retried.",
                outcome.failed,
                outcome.failure,
            )
        return outcome


def _reason(failure: Exception) -> str:
    """An exception name and SMTP reply code: never the server's text, which may quote the mail."""
    code = getattr(failure, "smtp_code", None)
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(reply[0]) for reply in failure.recipients.values()})
        return f"{type(failure).__name__} {','.join(codes)}"
    return f"{type(failure).__name__} {code}" if code is not None else type(failure).__name__


_told_no_server = False


def start_sender(database: Database, settings: Settings) -> Sender | None:
    """The API's sender loop, or None (logged) when no mail server is configured."""
    global _told_no_server
    if not settings.sends_mail:
        if not _told_no_server:
            log.warning(
                "RAPPORT_SMTP_HOST is not set: notifications are kept in the outbox, not sent."
            )
            _told_no_server = True
        return None
    sender = Sender(database, settings)
    sender.start()
    return sender


__all__ = ["DeliveryPass", "Sender", "open_smtp", "start_sender"]
