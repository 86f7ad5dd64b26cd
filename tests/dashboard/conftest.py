"""A real backend on a free port over a migrated SQLite file, for the Streamlit app tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from backend.config import Settings
from backend.db import Database, reset_database
from backend.flags.rescore_queue import score_queued
from tests.backend.factories import (
    SignedIn,
    alliance4,
    make_client,
    make_session_with_link,
    signed_in,
)
from tests.conftest import empty_all_tables, migrate

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
APP_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LiveBackend:
    url: str
    database: Database

    def get(self, path: str, who: SignedIn) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers=who.headers, timeout=10)

    def post(self, path: str, body: dict, who: SignedIn | None = None) -> httpx.Response:
        headers = who.headers if who else {}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=10)


@pytest.fixture(scope="session")
def live_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBackend]:
    from backend.main import app

    path = tmp_path_factory.mktemp("live") / "rapport-dashboard.db"
    database = Database(Settings(database_url=f"sqlite:///{path}", mode="dev"))
    migrate(database)
    reset_database(database)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            forwarded_allow_ips="",  # as make run starts it: no proxy believed
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test backend did not start")
        time.sleep(0.02)
    yield LiveBackend(url=f"http://127.0.0.1:{port}", database=database)
    server.should_exit = True
    thread.join(timeout=5)
    reset_database(None)
    database.engine.dispose()


@pytest.fixture
def backend(live_backend: LiveBackend, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveBackend]:
    """The live backend with empty tables, and the dashboard pointed at it."""
    from backend.main import app

    reset_database(live_backend.database)
    app.state.public_rate_limiter.reset()  # every test rates from 127.0.0.1
    monkeypatch.setenv("RAPPORT_API_URL", live_backend.url)
    yield live_backend
    empty_all_tables(live_backend.database)


def rate(backend: LiveBackend, client, scores: dict, *, weeks_ago: int, **extra) -> None:
    held_on = date.today() - timedelta(weeks=weeks_ago)
    _, token = make_session_with_link(backend.database, client, held_on=held_on)
    response = backend.post(f"/api/public/ratings/{token}", {"scores": scores, **extra})
    assert response.status_code == 201, response.text
    # The server scores right after answering; wait for it as a clinician's next look would.
    score_queued(backend.database)


def ruptured_client(backend: LiveBackend, therapist: SignedIn):
    """Four steady sessions, then a sharp drop with a comment and a request to talk."""
    client = make_client(backend.database, therapist)
    for n in range(4):
        rate(backend, client, alliance4(9.6, 9.5, 9.4, 9.5), weeks_ago=6 - n)
    rate(
        backend,
        client,
        alliance4(6.0, 7.0, 7.5, 7.0),
        weeks_ago=1,
        wants_to_talk=True,
        comment="I felt rushed today.",
    )
    return client


def calm_client(backend: LiveBackend, therapist: SignedIn):
    client = make_client(backend.database, therapist)
    for n in range(3):
        rate(backend, client, alliance4(9.2, 9.3, 9.4, 9.5), weeks_ago=4 - n)
    return client


@dataclass(frozen=True)
class Clinic:
    therapist: SignedIn
    colleague: SignedIn
    outsider: SignedIn
    supervisor: SignedIn
    admin: SignedIn
    ruptured: object
    calm: object
    colleagues_client: object
    outsiders_client: object


@pytest.fixture
def clinic(backend: LiveBackend) -> Clinic:
    db = backend.database
    therapist, colleague = signed_in(db, team="North"), signed_in(db, team="North")
    outsider = signed_in(db, team="South")
    return Clinic(
        therapist=therapist,
        colleague=colleague,
        outsider=outsider,
        supervisor=signed_in(db, role="supervisor", team="North"),
        admin=signed_in(db, role="admin", team="North"),
        ruptured=ruptured_client(backend, therapist),
        calm=calm_client(backend, therapist),
        colleagues_client=calm_client(backend, colleague),
        outsiders_client=ruptured_client(backend, outsider),
    )


def app_as(backend: LiveBackend, who: SignedIn | None) -> AppTest:
    """The dashboard, already signed in as ``who`` (the token only in session state)."""
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_SECONDS)
    if who is not None:
        at.session_state["token"] = who.headers["Authorization"].removeprefix("Bearer ")
        at.session_state["user"] = backend.get("/api/me", who).json()
        at.session_state["last_active"] = time.time()
    return at.run()
