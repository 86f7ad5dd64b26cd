"""The load benchmark's baseline writes the way Rapport does, so the ratio is fair."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from backend.config import Settings
from backend.db import Database

ROOT = Path(__file__).resolve().parents[2]

#: Run apart: the bare app's table must not join Rapport's metadata in the test process.
BARE_RUN = """
import json
from concurrent.futures import ThreadPoolExecutor
from fastapi.testclient import TestClient
from bench.bare_insert_app import app, engine

with TestClient(app) as client, ThreadPoolExecutor(max_workers=16) as pool:
    body = {"scores": {"relationship": 9.0}, "wants_to_talk": False}
    statuses = list(pool.map(lambda n: client.post(f"/ratings/t{n}", json=body).status_code,
                             range(64)))
with engine.connect() as connection:
    pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
    print(json.dumps({"statuses": statuses, "journal_mode": pragma("journal_mode"),
                      "synchronous": pragma("synchronous")}))
"""


def _pragma(database: Database, name: str) -> object:
    with database.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_the_bare_endpoint_uses_wal_and_rapports_synchronous_and_writes_every_row(
    tmp_path: Path,
) -> None:
    bare_file = tmp_path / "bare.db"
    run = subprocess.run(
        [sys.executable, "-c", BARE_RUN],
        cwd=ROOT,
        env={**os.environ, "BARE_DATABASE_URL": f"sqlite:///{bare_file}"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    bare = json.loads(run.stdout.strip().splitlines()[-1])
    rapport = Database(
        Settings(
            mode="dev",
            database_url=f"sqlite:///{tmp_path / 'rapport.db'}",
            secret_key="bare-endpoint-test-secret-key-0123456789abcdef",
        )
    )
    try:
        rapport_journal, rapport_synchronous = (
            _pragma(rapport, "journal_mode"),
            _pragma(rapport, "synchronous"),
        )
    finally:
        rapport.engine.dispose()

    assert rapport_journal == "wal"
    assert bare["journal_mode"] == rapport_journal
    assert bare["synchronous"] == rapport_synchronous
    with sqlite3.connect(bare_file) as on_disk:  # WAL is a property of the file, not the app
        assert on_disk.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert on_disk.execute("SELECT count(*) FROM bare_rating").fetchone()[0] == 64
    assert bare["statuses"] == [201] * 64
