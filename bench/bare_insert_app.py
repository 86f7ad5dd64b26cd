"""The load benchmark's baseline: the least a fair FastAPI + SQLModel service does per rating.

``POST /ratings/{token}`` validates the body with pydantic and, holding a process-wide
lock, opens a SQLModel session, adds one row, commits and releases the lock; it then
refreshes the row for its id and answers 201. The database is set up as Rapport sets up
its own (``backend/db.py``): WAL journal, ``synchronous = FULL``, ``busy_timeout``,
writers serialised in the process rather than by SQLite's busy handler.

It does none of the rest: no link lookup, no idempotency check, no savepoints, no
rescore request, no scoring, no audit, no rate limit, no security headers. Whatever
Rapport does on top of this is what the benchmark's ratio measures. Run by
``bench/load.py`` as ``uvicorn bench.bare_insert_app:app`` with ``BARE_DATABASE_URL``
set.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header
from sqlalchemy import JSON, Column, event
from sqlmodel import Field, Session, SQLModel, create_engine

DATABASE_URL = os.environ.get("BARE_DATABASE_URL", "sqlite:///bare.db")
#: As Rapport's ``backend/db.py``: every commit reaches the disk before the phone hears 201.
SYNCHRONOUS = "FULL"
BUSY_TIMEOUT_MS = 5000


class BareRating(SQLModel, table=True):
    __tablename__ = "bare_rating"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=512)
    scores: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    wants_to_talk: bool = False
    idempotency_key: str | None = None


class BareSubmission(SQLModel):
    scores: dict[str, float]
    comment: str | None = None
    wants_to_talk: bool = False


engine = create_engine(
    DATABASE_URL,
    connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
)


@event.listens_for(engine, "connect")
def _sqlite_like_rapport(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    cursor.close()


#: SQLite has one writer at a time; queueing in the process is fast and fair, where
#: SQLite's busy handler sleeps and retries (and, past its timeout, "database is locked").
_writer_lock = threading.Lock()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    BareRating.__table__.create(engine, checkfirst=True)
    yield


app = FastAPI(lifespan=lifespan)


@app.post("/ratings/{token}", status_code=201)
def insert_rating(
    token: str,
    body: BareSubmission,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> dict[str, int]:
    # The session opened in the route, as in the SQLModel tutorial's first API: the
    # ``Depends(get_session)`` version deadlocks at 200 phones (its teardown needs a
    # threadpool thread while every thread waits for a pooled connection).
    with Session(engine) as session:
        row = BareRating(
            token=token,
            scores=body.scores,
            wants_to_talk=body.wants_to_talk,
            idempotency_key=idempotency_key,
        )
        with _writer_lock:
            session.add(row)
            session.commit()
        session.refresh(row)
        return {"rating_id": row.id}


@app.get("/health/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}
