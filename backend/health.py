"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from backend.db import DatabaseDep
from backend.migrate import migration_heads

router = APIRouter(prefix="/health", tags=["health"])

_HEADS = migration_heads()


def _accepts_writes(connection: Connection) -> bool:
    """Cheaply, without writing: a SQLite write lock can be taken (not read-only, not
    locked past busy_timeout); a PostgreSQL server is a primary with writes allowed."""
    if connection.dialect.name == "sqlite":
        connection.commit()  # end the read transaction before taking the write lock
        try:
            with connection.execution_options(sqlite_begin="IMMEDIATE").begin() as probe:
                probe.rollback()
        except SQLAlchemyError:
            return False
        return True
    in_recovery = connection.execute(text("SELECT pg_is_in_recovery()")).scalar()
    read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
    return not in_recovery and read_only == "off"


@router.get("/live")
def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/ready", responses={503: {"description": "Database unreachable or not migrated"}})
def ready(db: DatabaseDep) -> JSONResponse:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
            writable = _accepts_writes(connection)
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "detail": "The database cannot be reached."},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if not writable:
        return JSONResponse(
            {"status": "unavailable", "detail": "The database accepts no writes."},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if current != _HEADS:
        return JSONResponse(
            {
                "status": "unavailable",
                "detail": "The database schema is not at the latest migration.",
            },
            status_code=503,
            headers={"Retry-After": "30"},
        )
    return JSONResponse({"status": "ready"})
