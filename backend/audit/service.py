"""Writing and reading the audit trail.

A change is audited in its own transaction, so the two commit or fail together. A
read is audited in a short write transaction before the data is returned; if that
fails the request fails (503) rather than serving clinical data unaudited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, or_
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from backend.audit.context import attempting, current_request
from backend.audit.models import AuditEvent
from backend.clock import utcnow
from backend.errors import Forbidden, RapportError
from backend.teams.models import TeamSupervisor
from backend.users.models import Role, User

if TYPE_CHECKING:
    from backend.auth.service import Caller
    from backend.db import Database

AUDIT_UNAVAILABLE = "The service is briefly unavailable. Please try again in a moment."


class AuditUnavailable(RapportError):
    """The audit row could not be written, so the request must not go ahead."""

    status_code = 503
    headers = {"Retry-After": "5"}  # noqa: RUF012  (read-only)


def _event(
    *,
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
    event = _event(
        action=action,
        outcome=outcome,
        caller=caller,
        client_code=client_code,
        subject_user_id=subject_user_id,
        object_id=object_id,
        login_key=login_key,
    )
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


#: Audited actions that check a password or a reset code.
CREDENTIAL_CHECKS = ("sign_in", "change_password", "redeem_password_reset")


@dataclass(frozen=True)
class SignInHistory:
    """What the sign-in throttle needs to know about an account key and an address."""

    #: Failed sign-ins for the account key in the window, since its last success.
    account_failures: int
    last_account_failure: datetime | None
    #: The same, counting only attempts from this address.
    account_failures_here: int
    last_account_failure_here: datetime | None
    #: Whether the account signed in successfully from this address lately.
    known_address: bool
    #: Failed sign-ins from this address in the window, for any account.
    address_failures: int


def sign_in_history(
    *,
    session: Session,
    login_key: str,
    address: str | None,
    window: timedelta,
    known_for: timedelta,
) -> SignInHistory:
    """Read the audit trail for the sign-in throttle (see ``backend.auth.service``)."""
    now = utcnow()
    since = now - window
    # A wrong current password or reset code counts like a wrong password at sign-in.
    sign_ins = select(func.count(), func.max(AuditEvent.at)).where(
        col(AuditEvent.action).in_(CREDENTIAL_CHECKS)
    )
    last_success = session.exec(
        select(func.max(AuditEvent.at)).where(
            AuditEvent.login_key == login_key,
            AuditEvent.action == "sign_in",
            AuditEvent.outcome == "allowed",
        )
    ).one()
    account_since = max(since, last_success) if last_success else since
    account_failed = sign_ins.where(
        AuditEvent.login_key == login_key,
        AuditEvent.outcome == "failed",
        col(AuditEvent.at) > account_since,
    )
    account_failures, last_failure = session.exec(account_failed).one()
    if address is None:
        return SignInHistory(account_failures, last_failure, 0, None, False, 0)
    failures_here, last_here = session.exec(
        account_failed.where(AuditEvent.address == address)
    ).one()
    known = session.exec(
        select(AuditEvent.id)
        .where(
            AuditEvent.login_key == login_key,
            AuditEvent.action == "sign_in",
            AuditEvent.outcome == "allowed",
            AuditEvent.address == address,
            col(AuditEvent.at) > now - known_for,
        )
        .limit(1)
    ).first()
    address_failures, _ = session.exec(
        sign_ins.where(
            AuditEvent.address == address,
            AuditEvent.outcome == "failed",
            col(AuditEvent.at) > since,
        )
    ).one()
    return SignInHistory(
        account_failures,
        last_failure,
        failures_here,
        last_here,
        known is not None,
        address_failures,
    )


def audit_events(
    *,
    session: Session,
    caller: Caller,
    client_code: str | None = None,
    user_id: int | None = None,
    action: str | None = None,
    since: date | None = None,
    until: date | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """Newest first. Admins see everything; supervisors what concerns their teams."""
    from backend.clients.models import Client
    from backend.clients.scope import visible_clients

    query = select(AuditEvent)
    if caller.role == Role.supervisor:
        supervised = select(TeamSupervisor.team_id).where(TeamSupervisor.user_id == caller.id)
        team_users = select(User.id).where(col(User.team_id).in_(supervised))
        team_codes = select(Client.code).where(visible_clients(caller))
        query = query.where(
            or_(
                col(AuditEvent.client_code).in_(team_codes),
                col(AuditEvent.actor_id).in_(team_users),
                col(AuditEvent.subject_user_id).in_(team_users),
            )
        )
    elif caller.role != Role.admin:
        raise Forbidden("Only supervisors and administrators can read the audit trail.")
    if client_code is not None:
        query = query.where(AuditEvent.client_code == client_code.upper())
    if user_id is not None:
        query = query.where(
            or_(AuditEvent.actor_id == user_id, AuditEvent.subject_user_id == user_id)
        )
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(col(AuditEvent.at) >= datetime.combine(since, time(), UTC))
    if until is not None:
        day_after = datetime.combine(until + timedelta(days=1), time(), UTC)
        query = query.where(col(AuditEvent.at) < day_after)
    if before is not None:
        query = query.where(col(AuditEvent.id) < before)
    return list(session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit)))
