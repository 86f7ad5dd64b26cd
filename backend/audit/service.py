"""Reading the audit trail: the audit page, and the sign-in throttle's counts.

Writing it is ``backend.audit.writer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from backend.audit.models import AuditEvent
from backend.auth.caller import READ_AUDIT_TRAIL, Caller, require
from backend.clients.models import Client
from backend.clients.scope import visible_clients
from backend.clock import utcnow
from backend.teams.service import supervised_therapists
from backend.users.models import Role

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
    require(caller, READ_AUDIT_TRAIL)
    query = select(AuditEvent)
    if caller.role == Role.supervisor:
        team_users = supervised_therapists(caller)
        team_codes = select(Client.code).where(visible_clients(caller))
        query = query.where(
            or_(
                col(AuditEvent.client_code).in_(team_codes),
                col(AuditEvent.actor_id).in_(team_users),
                col(AuditEvent.subject_user_id).in_(team_users),
            )
        )
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
