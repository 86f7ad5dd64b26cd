"""Database engine, session dependencies and the SQLite settings that keep writes safe.

SQLite serialises writers on one lock. A transaction that starts as a reader and
later writes can fail or queue badly under load, so write requests take a
process-wide writer lock and begin ``IMMEDIATE``: writers queue in the process
(fast, fair) rather than polling SQLite's busy handler, and a second worker
process still waits politely on ``busy_timeout``. Why and the numbers:
docs/decisions.md, "SQLite writers queue on one lock in the process".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from backend.config import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every backend and always hands back an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime; use backend.clock.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is wrong).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL itself needs the lock another worker may hold.
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def build_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if settings.is_sqlite:
        Path(settings.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
            },
            pool_size=settings.db_pool_size,
            max_overflow=20,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=10,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={"connect_timeout": 5},
    )


class _WriterLock:
    """SQLite's one writer, queued in the process; a write a client's phone is waiting on
    goes before the writes queued by staff requests and background work.

    Therapists' reads are audited in writes of their own and scoring stores its results
    in one: without an order, a submission could wait behind several of them.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held = False
        self._urgent_waiting = 0

    @contextmanager
    def held(self, *, urgent: bool) -> Iterator[None]:
        with self._changed:
            self._urgent_waiting += urgent
            try:
                while self._held or (not urgent and self._urgent_waiting):
                    self._changed.wait()
            finally:
                self._urgent_waiting -= urgent
            self._held = True
        try:
            yield
        finally:
            with self._changed:
                self._held = False
                self._changed.notify_all()


class Database:
    """The engine plus the writer discipline that goes with it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = build_engine(settings)
        self._writer_lock = _WriterLock() if settings.is_sqlite else None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            session.info.update(database=self, writing=False)
            yield session

    @contextmanager
    def writing(self, *, urgent: bool = False) -> Iterator[Session]:
        """A short write transaction; commits on success, rolls back on any error.

        ``urgent``: a client's phone is waiting on it; on SQLite it goes before the
        other writes queued in this process.
        """
        with (
            self._writer_lock.held(urgent=urgent) if self._writer_lock else nullcontext(),
            Session(self.engine, expire_on_commit=False) as session,
        ):
            session.info.update(database=self, writing=True)
            if self._writer_lock is not None:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def lock_until_commit(session: Session, *names: str) -> None:
    """Make write transactions that name the same thing run one after another.

    For a check that reads before it writes, such as counting failed sign-ins: SQLite's
    write transactions already exclude each other, but PostgreSQL's run side by side and
    would each count before any of them had written. There this takes a transaction-scoped
    advisory lock per name, in a fixed order so two transactions never wait on each other.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted({_advisory_key(name) for name in names}):
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)


_database: Database | None = None


def get_database() -> Database:
    global _database
    if _database is None:
        _database = Database(get_settings())
    return _database


def reset_database(database: Database | None) -> None:
    """Swap the process-wide database (tests, CLI with another URL); the caller owns both."""
    global _database
    _database = database


async def _database_dependency() -> Database:
    # async: FastAPI runs a plain ``def`` dependency in its threadpool, a thread hop per
    # request for what is a lookup (its cost showed in the load benchmark's profile).
    return get_database()


#: Write routes open ``db.writing()`` themselves so the commit happens before the response.
DatabaseDep = Annotated[Database, Depends(_database_dependency)]
