"""The API started as an operator starts it (uvicorn in its own process), probed from outside."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.config import Settings
from backend.db import Database
from tests.backend.factories import make_client, make_session_with_link, signed_in
from tests.conftest import empty_all_tables, migrate
from tests.live_server import LiveServer, running_api

RATE_LIMIT = 5


@pytest.fixture(scope="module")
def live_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'rapport-live.db'}"
    database = Database(Settings(database_url=url, mode="dev"))
    migrate(database)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="module")
def server(live_database: Database, tmp_path_factory) -> Iterator[LiveServer]:
    """RAPPORT_TRUST_FORWARDED_FOR unset: no proxy is believed, loopback included."""
    with running_api(
        database_url=str(live_database.engine.url),
        workdir=tmp_path_factory.mktemp("live-log"),
        public_rate_limit_per_minute=str(RATE_LIMIT),
    ) as running:
        yield running


@pytest.fixture
def live_db(live_database: Database) -> Iterator[Database]:
    yield live_database
    empty_all_tables(live_database)


def sign_in_addresses(database: Database) -> list[str | None]:
    with database.reading() as session:
        return list(
            session.exec(
                select(AuditEvent.address)
                .where(AuditEvent.action == "sign_in")
                .order_by(AuditEvent.id)
            )
        )


def test_a_forged_x_forwarded_for_from_loopback_is_ignored(server, live_db) -> None:
    answers = [
        httpx.get(
            f"{server.url}/api/public/ratings/no-such-token",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(RATE_LIMIT + 1)
    ]
    assert answers == [404] * RATE_LIMIT + [429]
    refused = httpx.post(
        f"{server.url}/api/auth/login",
        json={"email": "nobody@clinic.test", "password": "wrong password!!"},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert refused.status_code == 401
    assert sign_in_addresses(live_db) == ["127.0.0.1"]


def test_the_address_a_named_proxy_forwards_is_believed(live_db, tmp_path) -> None:
    with running_api(
        database_url=str(live_db.engine.url),
        workdir=tmp_path,
        trust_forwarded_for="127.0.0.1",
    ) as behind_proxy:
        refused = httpx.post(
            f"{behind_proxy.url}/api/auth/login",
            json={"email": "nobody@clinic.test", "password": "wrong password!!"},
            headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.99"},
        )
    assert refused.status_code == 401
    assert sign_in_addresses(live_db) == ["203.0.113.99"]  # the hop our proxy appended


def test_no_malformed_rating_path_writes_the_token_to_the_log(server, live_db) -> None:
    _, token = make_session_with_link(live_db, make_client(live_db, signed_in(live_db)))
    paths = [
        f"/r/{token}",
        f"/r//{token}",
        f"/R/{token}",
        f"/r/%E2%80%8B{token}",
        f"/api/public/ratings//{token}",
        f"/api/public/ratings/{token}?x=1",
        f"/static/../r/{token}",
    ]
    for path in paths:
        httpx.get(f"{server.url}{path}")
    time.sleep(0.3)  # the access log is written after the response
    log = server.log()
    assert log.count("[redacted]") >= len(paths)
    assert token not in log
    assert token[:20] not in log
