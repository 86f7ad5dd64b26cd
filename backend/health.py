"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from backend.db import DatabaseDep

router = APIRouter(prefix="/health", tags=["health"])

ROOT = Path(__file__).resolve().parent.parent


def migration_heads() -> set[str]:
    config = Config(str(ROOT / "alembic.ini"))
    return set(ScriptDirectory.from_config(config).get_heads())


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
