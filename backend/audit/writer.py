"""Writing the audit trail.

A change is audited in its own transaction, so the two commit or fail together. A
read is audited in a short write transaction before the data is returned; if that
fails the request fails (503) rather than serving clinical data unaudited. Reading
the trail is ``backend.audit.service``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from backend.audit.context import attempting, current_request
from backend.audit.models import AuditEvent
from backend.auth.caller import Caller
from backend.clock import utcnow
from backend.errors import RapportError

if TYPE_CHECKING:
    from backend.db import Database

AUDIT_UNAVAILABLE = "The service is briefly unavailable. Please try again in a moment."


class AuditUnavailable(RapportError):
    """The audit row could not be written, so the request must not go ahead."""

    status_code = 503
    headers = {"Retry-After": "5"}  # noqa: RUF012  (read-only)


def _event(
    action: str,
    outcome: str,
    caller: Caller | None,
    client_code: str | None,
    subject_user_id: int | None,
    object_id: str | None,
    login_key: str | None,
) -> AuditEvent:
    context = current_request()
    actor_id = caller.id if caller else (context.actor_id if context else None)
    actor_role = caller.role if caller else (context.actor_role if context else None)
    return AuditEvent(
        at=utcnow(),
        actor_id=actor_id,
        actor_role=str(actor_role) if actor_role else None,
        action=action[:40],
        outcome=outcome,
        client_code=client_code,
        subject_user_id=subject_user_id,
        object_id=object_id[:120] if object_id else None,
        request_id=context.request_id if context else None,
        address=context.address if context else None,
        login_key=login_key,
    )


def record(
    *,
    session: Session,
    action: str,
    outcome: str = "allowed",
    caller: Caller | None = None,
    client_code: str | None = None,
    subject_user_id: int | None = None,
    object_id: str | None = None,
    login_key: str | None = None,
) -> None:
    """Audit an action: inside ``session`` if it is a write transaction, else in a new one."""
    attempting(action, client_code=client_code, object_id=object_id)
    context = current_request()
    if context is not None and outcome != "allowed":
        context.refusal_recorded = True
    event = _event(action, outcome, caller, client_code, subject_user_id, object_id, login_key)
    if session.info.get("writing"):
        session.add(event)
        session.flush()
        return
    record_separately(database=session.info["database"], event=event)


def record_separately(*, database: Database, event: AuditEvent) -> None:
    try:
        with database.writing() as session:
            session.add(event)
    except SQLAlchemyError:
        raise AuditUnavailable(AUDIT_UNAVAILABLE) from None


def record_refusal(*, database: Database, status_code: int) -> None:
    """Audit a refused request of a signed-in caller, after its own transaction rolled back."""
    context = current_request()
    if context is None or context.actor_id is None or context.refusal_recorded:
        return
    record_separately(
        database=database,
        event=_event(
            action=context.action or "request",
            outcome="denied" if status_code in (403, 404) else "failed",
            caller=None,
            client_code=context.client_code,
            subject_user_id=None,
            object_id=context.object_id or context.route,
            login_key=None,
        ),
    )
