"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.db import DatabaseDep
from backend.migrate import migration_heads

router = APIRouter(prefix="/health", tags=["health"])

_HEADS = migration_heads()


@router.get("/live")
def live() -> dict[str, str]:
    return {"status": "live"}


@router.get("/ready", responses={503: {"description": "Database unreachable or not migrated"}})
def ready(db: DatabaseDep) -> JSONResponse:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return JSONResponse(
            {"status": "unavailable", "detail": "The database cannot be reached."},
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
