"""Changing a password: by the signed-in user, or with a one-time code an admin issued.

Both check a secret (the current password, the code) and so count as sign-in attempts
for the throttle; like sign-in, argon2 runs between transactions, never inside one.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from backend.audit.context import current_request
from backend.audit.writer import record as audit
from backend.auth.caller import Caller
from backend.auth.passwords import hash_password, password_problem, verify_password
from backend.auth.service import login_key, sign_in_refusal
from backend.auth.tokens import link_token_hash, new_token
from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database, lock_until_commit
from backend.errors import InvalidInput, NotAuthenticated, NotFound, RapportError
from backend.teams.models import Team
from backend.users.models import User
from backend.users.service import revoke_access_tokens

#: How long an admin-issued reset code works (once).
RESET_VALID_FOR = timedelta(hours=24)
WRONG_CURRENT_PASSWORD = "The current password is not right."
BAD_RESET = "The email or reset code is not right, or the code has expired or been used."


def _policy_problem(session: Session, user: User, password: str) -> str | None:
    team = session.get(Team, user.team_id) if user.team_id else None
    return password_problem(
        password, email=user.email, name=user.display_name, team=team.name if team else ""
    )


def change_password(
    *, database: Database, settings: Settings, caller: Caller, current: str, new: str
) -> RapportError | None:
    """Set the caller's new password; their other sign-ins end. None when done."""
    key = login_key(caller.user.email, settings.secret_key)
    with database.reading() as session:
        user = session.get(User, caller.id)
        throttled = sign_in_refusal(session=session, login_key=key, address=_address())
        problem = _policy_problem(session, user, new)
    if throttled:
        return throttled
    valid = verify_password(user.password_hash, current)
    new_hash = hash_password(new) if valid and problem is None else None
    with database.writing() as session:
        if not valid:
            audit(session=session, action="change_password", outcome="failed", login_key=key)
            return InvalidInput(WRONG_CURRENT_PASSWORD, field="current_password")
        if problem is not None:
            return InvalidInput(problem, field="new_password")
        _set_password(session, caller.id, new_hash, keep_token_id=caller.token_id)
        audit(
            session=session,
            action="change_password",
            caller=caller,
            subject_user_id=caller.id,
            login_key=key,
        )
    return None


@dataclass(frozen=True)
class IssuedReset:
    code: str
    expires_at: datetime


def issue_password_reset(*, session: Session, user_id: int) -> IssuedReset:
    """A one-time code for the user to set a new password with; their sign-ins end."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    code = new_token()
    user.password_reset_hash = link_token_hash(code)
    user.password_reset_expires_at = utcnow() + RESET_VALID_FOR
    session.add(user)
    revoke_access_tokens(session=session, user_id=user.id)
    return IssuedReset(code=code, expires_at=user.password_reset_expires_at)


def redeem_password_reset(
    *, database: Database, settings: Settings, email: str, code: str, new: str
) -> RapportError | None:
    """Set a new password with an admin's one-time code. None when done."""
    key = login_key(email, settings.secret_key)
    with database.reading() as session:
        throttled = sign_in_refusal(session=session, login_key=key, address=_address())
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        usable = user is not None and user.active and _code_matches(user, code)
        problem = _policy_problem(session, user, new) if usable else None
    if throttled:
        return throttled
    if usable and problem is not None:
        return InvalidInput(problem, field="new_password")
    new_hash = hash_password(new) if usable else None
    with database.writing() as session:
        lock_until_commit(session, f"password-reset:{key}")
        current = session.get(User, user.id) if usable else None
        if current is None or not _code_matches(current, code):  # used meanwhile?
            audit(session=session, action="redeem_password_reset", outcome="failed", login_key=key)
            return NotAuthenticated(BAD_RESET)
        _set_password(session, current.id, new_hash, keep_token_id=None)
        audit(
            session=session,
            action="redeem_password_reset",
            subject_user_id=current.id,
            login_key=key,
        )
    return None


def _code_matches(user: User, code: str) -> bool:
    if user.password_reset_hash is None or user.password_reset_expires_at is None:
        return False
    if user.password_reset_expires_at <= utcnow():
        return False
    return hmac.compare_digest(user.password_reset_hash, link_token_hash(code))


def _set_password(
    session: Session, user_id: int, password_hash: str, *, keep_token_id: int | None
) -> None:
    user = session.get(User, user_id)
    user.password_hash = password_hash
    user.password_reset_hash = user.password_reset_expires_at = None
    session.add(user)
    revoke_access_tokens(session=session, user_id=user_id, keep_token_id=keep_token_id)


def _address() -> str | None:
    context = current_request()
    return context.address if context else None
