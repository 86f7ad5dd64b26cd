from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from backend.audit.context import attempting
from backend.audit.schemas import AuditEventPublic
from backend.audit.service import audit_events
from backend.audit.writer import record
from backend.auth.deps import CallerDep
from backend.db import DatabaseDep
from backend.errors import InvalidInput
from backend.problems import refusals

router = APIRouter(prefix="/api", tags=["audit"], responses=refusals(401, 403, 422))


#: A day as YYYY-MM-DD (a bare number would otherwise be read as a Unix time).
DAY = r"^\d{4}-\d{2}-\d{2}$"


def _day_query(description: str) -> Any:
    return Query(pattern=DAY, json_schema_extra={"format": "date"}, description=description)


def _day(value: str | None, field: str) -> date | None:
    try:
        return None if value is None else date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{field} must be a day of the calendar (YYYY-MM-DD).", field=field
        ) from None


@router.get("/audit", response_model=list[AuditEventPublic])
def audit_trail(
    caller: CallerDep,
    db: DatabaseDep,
    client_code: Annotated[
        str | None, Query(min_length=3, max_length=16, pattern=r"^[A-Za-z0-9-]+$")
    ] = None,
    user_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    action: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    since: Annotated[str | None, _day_query("Events on or after this day (UTC)")] = None,
    until: Annotated[str | None, _day_query("Events on or before this day (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Only events with a smaller id")
    ] = None,
) -> list[AuditEventPublic]:
    """Who did what, newest first. Admins: everything; supervisors: their teams; others: 403."""
    attempting("read_audit", client_code=client_code)
    with db.writing() as session:
        events = audit_events(
            session=session,
            caller=caller,
            client_code=client_code,
            user_id=user_id,
            action=action,
            since=_day(since, "since"),
            until=_day(until, "until"),
            before=before,
            limit=limit,
        )
        record(session=session, action="read_audit", caller=caller, client_code=client_code)
        return [AuditEventPublic.model_validate(e) for e in events]
