"""The API started as an operator starts it (uvicorn in its own process), probed from outside.

Two servers: one believing no proxy, with a low public rate limit; one behind a proxy
at 127.0.0.1, with the rate limit raised, which schemathesis also fuzzes from outside.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.config import Settings
from backend.db import Database
from tests.backend.factories import make_client, make_session_with_link, signed_in
from tests.backend.test_contract_fuzz import (
    ACCEPTED,
    DATA_DEPENDENT_REFUSALS,
    FuzzWorld,
    build_fuzz_world,
    fresh_access_token,
)
from tests.conftest import migrate
from tests.live_server import LiveServer, running_api

RATE_LIMIT = 5
#: Schemathesis from outside: examples per operation, and a bound on the whole run.
EXAMPLES = 5
TIME_BUDGET_SECONDS = 15


def migrated(path: Path) -> Database:
    database = Database(Settings(database_url=f"sqlite:///{path}", mode="dev"))
    migrate(database)
    return database


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[LiveServer, Database]]:
    """RAPPORT_TRUST_FORWARDED_FOR unset: no proxy is believed, loopback included."""
    workdir = tmp_path_factory.mktemp("live")
    database = migrated(workdir / "rapport-live.db")
    with running_api(
        database_url=str(database.engine.url),
        workdir=workdir,
        public_rate_limit_per_minute=str(RATE_LIMIT),
    ) as running:
        yield running, database
    database.engine.dispose()


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory) -> Iterator[tuple[LiveServer, Database, FuzzWorld]]:
    """RAPPORT_TRUST_FORWARDED_FOR=127.0.0.1, holding the contract test's clinic."""
    workdir = tmp_path_factory.mktemp("proxied")
    database = migrated(workdir / "rapport-proxied.db")
    world = build_fuzz_world(database)
    with running_api(
        database_url=str(database.engine.url),
        workdir=workdir,
        trust_forwarded_for="127.0.0.1",
        public_rate_limit_per_minute="1000000",  # every fuzzing case comes from one address
    ) as running:
        yield running, database, world
    database.engine.dispose()


def sign_in_addresses(database: Database) -> list[str | None]:
    with database.reading() as session:
        return list(
            session.exec(
                select(AuditEvent.address)
                .where(AuditEvent.action == "sign_in")
                .order_by(AuditEvent.id)
            )
        )


def failed_sign_in(server: LiveServer, forwarded_for: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/auth/login",
        json={"email": "nobody@clinic.test", "password": "wrong password!!"},
        headers={"X-Forwarded-For": forwarded_for},
    )


def test_a_forged_x_forwarded_for_from_loopback_is_ignored(server) -> None:
    running, database = server
    answers = [
        httpx.get(
            f"{running.url}/api/public/ratings/no-such-token",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        ).status_code
        for n in range(RATE_LIMIT + 1)
    ]
    assert answers == [404] * RATE_LIMIT + [429]
    assert failed_sign_in(running, "203.0.113.99").status_code == 401
    assert sign_in_addresses(database) == ["127.0.0.1"]


def test_the_address_a_named_proxy_forwards_is_believed(behind_proxy) -> None:
    running, database, _ = behind_proxy
    assert failed_sign_in(running, "198.51.100.1, 203.0.113.99").status_code == 401
    assert "203.0.113.99" in sign_in_addresses(database)  # the hop our proxy appended
    assert "198.51.100.1" not in sign_in_addresses(database)  # whatever the client said


def test_no_malformed_rating_path_writes_the_token_to_the_log(behind_proxy) -> None:
    running, database, _ = behind_proxy
    _, token = make_session_with_link(database, make_client(database, signed_in(database)))
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
        httpx.get(f"{running.url}{path}")
    time.sleep(0.3)  # the access log is written after the response
    log = running.log()
    assert log.count("[redacted]") >= len(paths)
    assert token not in log
    assert token[:20] not in log


def schemathesis_config(path: Path, world: FuzzWorld) -> Path:
    """schemathesis.toml: the same data-dependent refusals the in-process test allows, and
    ids that exist, so path-addressed operations reach their data rather than 404."""
    known = {
        "client_id": world.client_code,
        "flag_id": world.flag_ids[-1],
        "session_number": world.session_numbers[-1],
        "token": world.open_link_token,
        "user_id": world.user_ids["supervisor"],
    }
    lines = [f"parameters = {{ {', '.join(f'{k} = {json.dumps(v)}' for k, v in known.items())} }}"]
    lines += [
        "",
        "[generation]",
        f"max-examples = {EXAMPLES}",
        "deterministic = true",
    ]
    for operation, extra in DATA_DEPENDENT_REFUSALS.items():
        statuses = json.dumps([*ACCEPTED, *extra])
        lines += [
            "",
            "[[operations]]",
            f"include-name = {json.dumps(operation)}",
            f"checks.positive_data_acceptance.expected-statuses = {statuses}",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.contract_fuzz
def test_schemathesis_finds_nothing_against_the_running_server(behind_proxy, tmp_path) -> None:
    """All checks, signed in as a therapist, sign-out left out so the token survives."""
    running, database, world = behind_proxy
    token = fresh_access_token(database, world.user_ids["therapist"])
    command = [
        *(sys.executable, "-m", "schemathesis.cli"),
        *("--config-file", str(schemathesis_config(tmp_path / "schemathesis.toml", world))),
        *("run", f"{running.url}/openapi.json"),
        *("--checks", "all", "--header", f"Authorization: Bearer {token}"),
        *("--exclude-path", "/api/auth/logout"),
        *("--phases", "examples,coverage,fuzzing"),
        *("--max-time", str(TIME_BUDGET_SECONDS), "--no-color"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert tested and int(tested.group(1)) > 100, summary  # it ran
    assert "failed" not in done.stdout.split("Test cases:")[-1].splitlines()[1], summary
