"""Schemathesis from outside: the real server, its published /openapi.json, every check.

The in-process contract test (test_contract_fuzz.py) fuzzes each role with real ids
mixed into paths; this one fuzzes the service as deployed (uvicorn in its own
process, over HTTP), signed in as a therapist. Sign-out is left out so the token
survives the run, and the public rate limit is raised because every case comes from
127.0.0.1. Bounded in time: it must stay well under a minute.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config import Settings
from backend.db import Database
from tests.backend.test_contract_fuzz import (
    ACCEPTED,
    DATA_DEPENDENT_REFUSALS,
    FuzzWorld,
    build_fuzz_world,
    fresh_access_token,
)
from tests.conftest import migrate
from tests.live_server import running_api

pytestmark = pytest.mark.contract_fuzz

EXAMPLES = 5
TIME_BUDGET_SECONDS = 25


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


def test_schemathesis_finds_nothing_against_the_running_server(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'rapport-external-fuzz.db'}"
    database = Database(Settings(database_url=url, mode="dev"))
    migrate(database)
    world = build_fuzz_world(database)
    token = fresh_access_token(database, world.user_ids["therapist"])
    database.engine.dispose()
    with running_api(
        database_url=url, workdir=tmp_path, public_rate_limit_per_minute="1000000"
    ) as server:
        command = [
            *(sys.executable, "-m", "schemathesis.cli"),
            *("--config-file", str(schemathesis_config(tmp_path / "schemathesis.toml", world))),
            *("run", f"{server.url}/openapi.json"),
            *("--checks", "all", "--header", f"Authorization: Bearer {token}"),
            *("--exclude-path", "/api/auth/logout"),
            *("--phases", "examples,coverage,fuzzing"),
            *("--max-time", str(TIME_BUDGET_SECONDS), "--no-color"),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    summary = done.stdout[-6000:]
    assert done.returncode == 0, summary
    tested = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert tested and int(tested.group(1)) > 500, summary
    assert "failed" not in done.stdout.split("Test cases:")[-1].splitlines()[1], summary
