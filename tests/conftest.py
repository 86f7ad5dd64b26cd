"""Test databases: each backend migrated once with Alembic, emptied after every test.

The database tests run on SQLite and, when it is reachable, on PostgreSQL
(127.0.0.1:5432). In CI an unreachable PostgreSQL is a failure, not a skip.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

os.environ["RAPPORT_MODE"] = "dev"
os.environ.setdefault("RAPPORT_SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
# Never var/: each test picks its own database; this one is only the settings' default.
# Scheduled jobs would rescore a test's database behind its back; tests run them by hand.
os.environ["RAPPORT_RUN_SCHEDULED_JOBS"] = "false"
# Each test's ratings are scored before its request returns, as with nothing else going on;
# the interval that gathers a stream of ratings into one pass has its own tests
# (tests/backend/test_scoring_interval.py).
os.environ["RAPPORT_SCORING_INTERVAL_SECONDS"] = "0"
os.environ["RAPPORT_DATABASE_URL"] = (
    f"sqlite:///{tempfile.mkdtemp(prefix='rapport-tests-')}/unused.db"
)

import psycopg
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from backend.config import Settings
from backend.db import Database, reset_database
from backend.migrate import alembic_config
from backend.models import metadata

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def migrate(database: Database, revision: str = "head") -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def postgres_available() -> bool:
    try:
        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            raise
        return False


def create_pg_database() -> str:
    name = f"rapport_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'rapport-test.db'}"


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = create_pg_database()
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    drop_pg_database(name)


_migrated: dict[str, Database] = {}


@pytest.fixture(params=["sqlite", "postgresql"], scope="session")
def migrated_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    url = request.getfixturevalue(f"{request.param}_url")
    database = Database(Settings(database_url=url, mode="dev"))
    migrate(database)
    yield database
    database.engine.dispose()


def empty_all_tables(database: Database) -> None:
    with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def db(migrated_database: Database) -> Iterator[Database]:
    """A migrated, empty database that the app uses for this test."""
    reset_database(migrated_database)
    yield migrated_database
    reset_database(None)
    empty_all_tables(migrated_database)


@pytest.fixture
def api(db: Database) -> Iterator[TestClient]:
    from backend.main import app

    app.state.public_rate_limiter.reset()  # the limiter is per process; tests share one IP
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
