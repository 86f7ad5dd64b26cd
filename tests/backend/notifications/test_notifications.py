"""An urgent flag reaches its therapist by mail, once, and the mail tells no one else anything.

Every test delivers to a real SMTP server (aiosmtpd) started on a free port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlmodel import select

from backend.clock import today
from backend.config import ConfigurationError, Settings, get_settings
from backend.db import Database
from backend.flags.models import Episode
from backend.flags.rescore_queue import score_queued
from backend.flows import submit_rating
from backend.notifications.digests import queue_due_digests
from backend.notifications.models import MessageStatus, OutboxMessage
from backend.notifications.outbox import pending_count, queue_urgent_alerts
from backend.notifications.sender import Sender, open_smtp
from backend.ratings.schemas import RatingSubmission
from tests.backend.factories import (
    alliance4,
    make_client,
    make_session_with_link,
    make_user,
    sign_in_as,
    signed_in,
)

DASHBOARD = "https://rapport.clinic.test"
COMMENT = "CANARY my mother and the panic attacks"
#: Item scores no header or wording could contain by chance.
DISTINCT_SCORES = alliance4(3.7, 2.9, 4.1, 3.3)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts; it can refuse the next few messages."""

    def __init__(self) -> None:
        self.received: list = []
        self.raw: list[bytes] = []
        self.refusals_left = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, _server, _session, envelope) -> str:
        with self._lock:
            if self.refusals_left:
                self.refusals_left -= 1
                return "451 4.3.0 Try again later"
            self.raw.append(envelope.content)
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 60.0) -> float:
        """Seconds until ``count`` messages had arrived."""
        started = time.monotonic()
        while len(self.received) < count:
            assert time.monotonic() - started < timeout, f"{len(self.received)} of {count} arrived"
            time.sleep(0.02)
        return time.monotonic() - started


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port, self.mailbox, self._controller = port, Mailbox(), None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> SmtpServer:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


def mail_settings(db: Database, port: int, **overrides) -> Settings:
    values = dict(
        database_url=db.settings.database_url,
        mode="dev",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_sender="rapport@clinic.test",
        dashboard_url=DASHBOARD,
        notify_interval_seconds=0.05,
        notify_retry_seconds=0.2,
        notify_lease_seconds=60,
    )
    return Settings(**(values | overrides))


def talk_request(db: Database, client, *, comment: str | None = COMMENT) -> None:
    """A rating asking to talk (an urgent flag), recorded and scored as the API does."""
    _, token = make_session_with_link(db, client, held_on=today())
    submission = RatingSubmission(scores=DISTINCT_SCORES, comment=comment, wants_to_talk=True)
    submit_rating(db=db, token=token, submission=submission, idempotency_key=None)
    score_queued(db)


def clients_with_an_alert_waiting(db: Database, count: int) -> list:
    therapist = signed_in(db)
    clients = [make_client(db, therapist) for _ in range(count)]
    with db.writing() as session:
        queue_urgent_alerts(
            session,
            raised=[{"client_id": c.id, "severity": "urgent", "held_on": today()} for c in clients],
        )
    return clients


def outbox(db: Database) -> list[OutboxMessage]:
    with db.reading() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def body_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_a_talk_request_mails_its_therapist_within_a_minute_of_the_rating(
    db, smtp, monkeypatch
) -> None:
    from backend.main import app

    therapist = make_user(db, email="sam.lee@clinic.test")
    client = make_client(db, therapist)
    _, token = make_session_with_link(db, client, held_on=today())
    for name, value in mail_settings(db, smtp.port).model_dump().items():
        if name in {"smtp_host", "smtp_port", "smtp_security", "smtp_sender", "dashboard_url"}:
            monkeypatch.setenv(f"RAPPORT_{name.upper()}", str(value))
    monkeypatch.setenv("RAPPORT_NOTIFY_INTERVAL_SECONDS", "0.1")
    get_settings.cache_clear()
    try:
        with TestClient(app) as api:  # the lifespan starts the sender loop
            answered = time.monotonic()
            response = api.post(
                f"/api/public/ratings/{token}",
                json={"scores": DISTINCT_SCORES, "wants_to_talk": True},
            )
            assert response.status_code == 201
            smtp.mailbox.wait_for(1, timeout=60)
            assert time.monotonic() - answered < 60
    finally:
        get_settings.cache_clear()

    (mail,) = smtp.mailbox.received
    assert mail["To"] == "sam.lee@clinic.test"
    assert mail["From"] == "rapport@clinic.test"
    assert f"{DASHBOARD}/client?client={client.code}" in body_of(mail)
    assert [m.status for m in outbox(db)] == [MessageStatus.sent]


def test_the_mail_says_only_that_a_client_needs_attention_and_where_to_look(db, smtp) -> None:
    client = make_client(db, signed_in(db))
    talk_request(db, client)
    Sender(db, mail_settings(db, smtp.port)).run_pass()

    (raw,) = smtp.mailbox.raw
    (mail,) = smtp.mailbox.received
    assert mail["Subject"] == "Rapport: a client on your caseload needs attention"
    text = raw.decode()
    assert "CANARY" not in text and "panic" not in text
    for score in ("3.7", "2.9", "4.1", "3.3", "14.0", "14"):
        assert score not in body_of(mail) + mail["Subject"]
    for revealing in ("talk", "score", "rupture", "urgent", "drop", "comment", "rating", "risk"):
        assert revealing not in (body_of(mail) + mail["Subject"]).lower()
    assert client.code in body_of(mail)  # the pseudonymous code, in the link, and nothing else


def test_several_urgent_flags_at_once_make_one_mail_per_client(db, smtp) -> None:
    therapist = signed_in(db)
    first, second, quiet, old = (make_client(db, therapist) for _ in range(4))
    recent, long_ago = today(), today() - timedelta(days=40)

    def flag(client, severity="urgent", held_on=recent) -> dict:
        return {"client_id": client.id, "severity": severity, "held_on": held_on}

    with db.writing() as session:
        queue_urgent_alerts(
            session,
            raised=[
                *(flag(first), flag(first), flag(second)),
                flag(quiet, "warning"),
                flag(old, held_on=long_ago),
            ],
        )
    with db.writing() as session:  # more of the same burst, before the first mail went out
        queue_urgent_alerts(session, raised=[flag(first)])
    assert Sender(db, mail_settings(db, smtp.port)).run_pass().sent == 2

    codes = sorted(body_of(m).split("client=")[1].split()[0] for m in smtp.mailbox.received)
    assert codes == sorted([first.code, second.code])


@pytest.mark.parametrize("trouble", ["server down", "server refusing"])
def test_a_mail_server_in_trouble_for_a_while_gets_the_mail_later_exactly_once(db, trouble) -> None:
    server = SmtpServer(free_port())
    if trouble == "server refusing":
        server.mailbox.refusals_left = 2
        server.start()
    client = make_client(db, signed_in(db))
    talk_request(db, client)
    sender = Sender(db, mail_settings(db, server.port))
    try:
        first = sender.run_pass()
        assert (first.sent, first.failed) == (0, 1)
        (waiting,) = outbox(db)
        assert waiting.status == MessageStatus.pending and waiting.attempts == 1
        assert waiting.next_attempt_at > datetime.now(UTC)  # backs off, not hammering
        assert COMMENT not in (waiting.last_error or "")
        if trouble == "server down":
            server.start()
        deadline = time.monotonic() + 10
        while not server.mailbox.received:
            assert time.monotonic() < deadline
            sender.run_pass()
            time.sleep(0.05)
        for _ in range(3):
            sender.run_pass()
    finally:
        server.stop()

    assert len(server.mailbox.received) == 1
    (sent,) = outbox(db)
    assert sent.status == MessageStatus.sent and sent.attempts >= 2


def test_two_sender_loops_deliver_every_message_exactly_once(db, smtp) -> None:
    clients = clients_with_an_alert_waiting(db, 25)
    # Two processes' worth: each sender has its own engine and, on SQLite, its own writer lock.
    settings = mail_settings(db, smtp.port)
    databases = [Database(settings), Database(settings)]
    senders = [Sender(database, settings) for database in databases]
    for sender in senders:
        sender.start()
    try:
        smtp.mailbox.wait_for(len(clients), timeout=30)
        time.sleep(0.3)  # time for a duplicate to show up, were there one
    finally:
        for sender in senders:
            sender.stop()
        for database in databases:
            database.engine.dispose()

    codes = [body_of(m).split("client=")[1].split()[0] for m in smtp.mailbox.received]
    assert sorted(codes) == sorted(c.code for c in clients)
    assert pending_count(db) == 0


def test_the_outbox_survives_a_process_killed_between_commit_and_send(db, smtp) -> None:
    """The process commits the flag and its alert, takes the alert to send, and dies."""
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, held_on=today())
    settings = mail_settings(db, smtp.port, notify_lease_seconds=1)
    script = textwrap.dedent(
        f"""
        import os, signal
        from backend.config import Settings
        from backend.db import Database
        from backend.flags.rescore_queue import score_queued
        from backend.flows import submit_rating
        from backend.notifications.outbox import claim_due
        from backend.ratings.schemas import RatingSubmission

        settings = Settings.model_validate_json({settings.model_dump_json()!r})
        db = Database(settings)
        submission = RatingSubmission(scores={DISTINCT_SCORES!r}, wants_to_talk=True)
        submit_rating(db=db, token={token!r}, submission=submission, idempotency_key=None)
        score_queued(db)
        assert claim_due(db, settings).message_ids
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    dying = subprocess.run(
        [sys.executable, "-c", script], env=os.environ.copy(), capture_output=True, timeout=120
    )
    assert dying.returncode == -signal.SIGKILL, dying.stderr.decode()[-2000:]
    assert smtp.mailbox.received == [] and pending_count(db) == 1

    sender = Sender(db, settings)
    assert sender.run_pass().sent == 0  # the dead process's lease still holds
    time.sleep(1.1)
    assert sender.run_pass().sent == 1
    assert sender.run_pass().sent == 0
    assert len(smtp.mailbox.received) == 1


def test_supervisors_get_one_weekly_digest_of_their_own_teams_counts(db, smtp) -> None:
    north, south = make_user(db, team="North"), make_user(db, team="South")
    watching_north = make_user(db, role="supervisor", team="North")
    watching_south = make_user(db, role="supervisor", team="South")
    opted_out = make_user(db, role="supervisor", team="North")
    sign_in_and_patch(db, opted_out, {"weekly_digest": False})
    ours, theirs = make_client(db, north), make_client(db, south)
    talk_request(db, ours)  # held this week: a request waiting, one session held and rated
    talk_request(db, theirs)
    make_session_with_link(db, ours, held_on=today())  # held, not rated
    with db.writing() as session:
        session.add(unrepaired_episode(ours.id))

    monday = today() + timedelta(days=7 - today().weekday())
    at_eight = datetime.combine(monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=8)
    settings = mail_settings(db, smtp.port)
    assert queue_due_digests(db, settings, now=at_eight - timedelta(hours=2)) == 0  # not yet
    assert queue_due_digests(db, settings, now=at_eight) == 2
    assert queue_due_digests(db, settings, now=at_eight + timedelta(hours=3)) == 0  # one a week
    Sender(db, settings).run_pass(now=at_eight + timedelta(hours=3))

    digests = [m for m in smtp.mailbox.received if m["Subject"] == "Rapport: your teams' week"]
    by_recipient = {m["To"]: body_of(m) for m in digests}
    assert set(by_recipient) == {watching_north.email, watching_south.email}
    north_digest = by_recipient[watching_north.email]
    assert "Requests to talk waiting: 1" in north_digest
    assert "Ruptures unrepaired: 1" in north_digest
    assert ": 50% of 2 sessions rated" in north_digest
    assert "Ruptures unrepaired: 0" in by_recipient[watching_south.email]
    assert ours.code not in north_digest and COMMENT not in north_digest


def test_a_therapist_gets_a_daily_digest_only_if_they_chose_it_and_something_is_open(
    db, smtp
) -> None:
    chose, did_not, nothing_open = (make_user(db) for _ in range(3))
    for therapist in (chose, nothing_open):
        sign_in_and_patch(db, therapist, {"daily_digest": True})
    talk_request(db, make_client(db, chose))
    talk_request(db, make_client(db, did_not))
    make_client(db, nothing_open)
    morning = datetime.combine(today(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)

    settings = mail_settings(db, smtp.port)
    assert queue_due_digests(db, settings, now=morning) == 1
    assert queue_due_digests(db, settings, now=morning) == 0
    Sender(db, settings).run_pass(now=morning)

    digests = [m for m in smtp.mailbox.received if "today" in m["Subject"]]
    assert [m["To"] for m in digests] == [chose.email]
    assert "1 client on your caseload has something open" in body_of(digests[0])


def sign_in_and_patch(db: Database, user, change: dict) -> None:
    from backend.main import app

    with TestClient(app) as api:
        response = api.patch(
            "/api/me/notifications", json=change, headers=sign_in_as(db, user).headers
        )
    assert response.status_code == 200, response.text


def unrepaired_episode(client_id: int) -> Episode:
    return Episode(
        client_id=client_id,
        instrument="alliance4",
        opened_session=40,  # earlier than scoring's own: an old rupture never repaired
        opened_on=today() - timedelta(days=30),
        trigger_rule="reliable_drop",
        lowest_total=12.0,
        status="unrepaired",
        severity="urgent",
        explanation="Not repaired within three sessions.",
        rules_version="test",
    )


def test_urgent_alerts_stay_on_while_the_person_has_clients_and_digests_are_theirs(api, db) -> None:
    therapist = signed_in(db)
    supervisor = signed_in(db, role="supervisor")
    make_client(db, therapist)

    mine = api.get("/api/me/notifications", headers=therapist.headers).json()
    assert mine == {
        "urgent_alerts": True,
        "urgent_alerts_required": True,
        "daily_digest": False,
        "weekly_digest": True,
    }
    refused = api.patch(
        "/api/me/notifications", json={"urgent_alerts": False}, headers=therapist.headers
    )
    assert refused.status_code == 409
    assert "cannot be turned off while you have clients" in refused.json()["detail"]
    chosen = api.patch(
        "/api/me/notifications", json={"daily_digest": True}, headers=therapist.headers
    )
    assert chosen.status_code == 200 and chosen.json()["daily_digest"] is True
    assert api.get("/api/me/notifications", headers=therapist.headers).json()["daily_digest"]

    quiet = api.patch(
        "/api/me/notifications",
        json={"urgent_alerts": False, "weekly_digest": False},
        headers=supervisor.headers,
    )
    assert quiet.status_code == 200
    assert quiet.json()["urgent_alerts"] is False and quiet.json()["weekly_digest"] is False
    unknown = api.patch("/api/me/notifications", json={"sms": True}, headers=supervisor.headers)
    assert unknown.status_code == 422 and "sms" in unknown.json()["detail"]


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"RAPPORT_SMTP_HOST": "mail.clinic.test"}, "RAPPORT_SMTP_SENDER"),
        (
            {
                "RAPPORT_SMTP_HOST": "mail.clinic.test",
                "RAPPORT_SMTP_SENDER": "r@c.test",
                "RAPPORT_SMTP_USER": "rapport",
            },
            "RAPPORT_SMTP_PASSWORD",
        ),
        ({"RAPPORT_SMTP_SECURITY": "ssl"}, "RAPPORT_SMTP_SECURITY"),
        ({"RAPPORT_DASHBOARD_URL": "rapport.clinic.test"}, "RAPPORT_DASHBOARD_URL"),
    ],
)
def test_a_mail_setting_that_cannot_work_names_the_variable(
    monkeypatch, environment, named
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match=named):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_rapport_notify_sends_what_is_due_and_says_what_waits(db, smtp, monkeypatch) -> None:
    from typer.testing import CliRunner

    from backend.cli import app

    talk_request(db, make_client(db, signed_in(db)))
    get_settings.cache_clear()
    refused = CliRunner().invoke(app, ["notify"])
    assert refused.exit_code == 1 and "RAPPORT_SMTP_HOST is not set" in refused.output

    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_SENDER": "rapport@clinic.test",
    }.items():
        monkeypatch.setenv(f"RAPPORT_{name}", value)
    get_settings.cache_clear()
    try:
        sent = CliRunner().invoke(app, ["notify"])
    finally:
        get_settings.cache_clear()
    assert sent.exit_code == 0, sent.output
    assert sent.output.strip() == "Sent 1; 0 waiting."
    assert len(smtp.mailbox.received) == 1


def test_a_slow_server_makes_a_sender_give_back_what_it_could_not_send_in_half_its_lease(
    db, smtp
) -> None:
    """So that no message is still being sent when another sender may take it."""
    clients_with_an_alert_waiting(db, 3)
    settings = mail_settings(db, smtp.port, notify_lease_seconds=2.0)

    def slow_server(settings: Settings):
        connection = open_smtp(settings)
        send = connection.send_message

        def slowly(message):
            time.sleep(1.1)
            return send(message)

        connection.send_message = slowly
        return connection

    first = Sender(db, settings, connect=slow_server).run_pass()
    assert first.sent == 1  # then half the lease (1 s) was gone
    waiting = [m for m in outbox(db) if m.status == MessageStatus.pending]
    assert len(waiting) == 2
    assert all(m.claim_token is None and m.attempts == 0 for m in waiting)
    Sender(db, settings).run_pass()
    assert len(smtp.mailbox.received) == 3


def test_someone_without_active_clients_who_turned_alerts_off_gets_none(db) -> None:
    """A discharged client's late rating, say: the choice was theirs to make."""
    from backend.notifications.schemas import NotificationPreferencesUpdate
    from backend.notifications.service import change_preferences

    quiet, busy = make_user(db), make_user(db)
    discharged = make_client(db, quiet, status="discharged")
    with db.writing() as session:
        change_preferences(
            session=session,
            user_id=quiet.id,
            change=NotificationPreferencesUpdate(urgent_alerts=False),
        )
    active = make_client(db, busy)
    with db.writing() as session:
        queue_urgent_alerts(
            session,
            raised=[
                {"client_id": c.id, "severity": "urgent", "held_on": today()}
                for c in (discharged, active)
            ],
        )
    assert [m.recipient_id for m in outbox(db)] == [busy.id]


def test_an_alert_is_committed_with_its_flag_or_not_at_all(db, monkeypatch) -> None:
    import backend.flags.scoring_sync as scoring_sync
    from backend.flags.models import Flag
    from backend.flags.rescore_queue import queued_count

    def fails_after_the_flags(*_args, **_kwargs):
        raise RuntimeError("injected: scoring's transaction fails after the flags are written")

    monkeypatch.setattr(scoring_sync, "_sync_episodes", fails_after_the_flags)
    talk_request(db, make_client(db, signed_in(db)))
    with db.reading() as session:
        assert session.exec(select(Flag)).all() == []
    assert outbox(db) == [] and queued_count(db) == 1  # to be scored, and alerted, again

    monkeypatch.undo()
    score_queued(db)
    assert len(outbox(db)) == 1
