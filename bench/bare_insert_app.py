"""The load benchmark's baseline: the least a FastAPI + SQLModel service does per rating.

One endpoint that inserts one row with a tutorial-style sync session and commits, on
the same kind of SQLite file (WAL, the default ``synchronous=FULL``) under the same
uvicorn settings as Rapport. No validation beyond pydantic, no lock, no scoring, no
audit: whatever Rapport does on top of this is what the benchmark's ratio measures.

Run by ``bench/load.py`` as ``uvicorn bench.bare_insert_app:app`` with
``BARE_DATABASE_URL`` set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Header
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, create_engine

DATABASE_URL = os.environ.get("BARE_DATABASE_URL", "sqlite:///bare.db")


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


engine = create_engine(DATABASE_URL, connect_args={"check_same_thread": False})


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
        session.add(row)
        session.commit()
        session.refresh(row)
        return {"rating_id": row.id}


@app.get("/health/ready")
def ready() -> dict[str, str]:
    return {"status": "ready"}
