"""Sign-in sessions: opaque tokens with an idle timeout and an absolute lifetime."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from backend.audit.service import recent_failed_sign_ins
from backend.audit.service import record as audit
from backend.auth.models import AccessToken
from backend.auth.passwords import hash_password, needs_rehash, verify_password
from backend.auth.tokens import access_token_hash, new_token
from backend.clock import utcnow
from backend.config import Settings
from backend.errors import NotAuthenticated, RapportError, TooManyRequests
from backend.users.models import User

#: last_used_at is refreshed at most this often, so reads do not all become writes.
_TOUCH_INTERVAL = timedelta(seconds=60)

BAD_CREDENTIALS = "Email or password is incorrect."


#: Sign-in throttling (OWASP Authentication Cheat Sheet): failures counted in the database,
#: so every API worker sees the same numbers.
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)
TOO_MANY_ATTEMPTS = "Too many sign-in attempts. Please wait 15 minutes and try again."


@dataclass(frozen=True)
class SignIn:
    token: str
    expires_at: datetime
    user: User


def login_key(email: str, secret_key: str) -> str:
    """A keyed hash of the normalised email: throttles unknown emails like known ones."""
    normalised = email.strip().lower()
    return hmac.new(secret_key.encode(), b"login:" + normalised.encode(), "sha256").hexdigest()


def sign_in(
    *, session: Session, settings: Settings, email: str, password: str, address: str | None = None
) -> SignIn | RapportError:
    """A new session, or the error to answer with once the audit record is committed.

    Every attempt is audited in ``session``; the caller commits it even on refusal.
    """
    key = login_key(email, settings.secret_key)
    for_account, from_address = recent_failed_sign_ins(
        session=session, login_key=key, address=address, window=THROTTLE_WINDOW
    )
    if for_account >= MAX_FAILURES_PER_ACCOUNT or from_address >= MAX_FAILURES_PER_ADDRESS:
        audit(session=session, action="sign_in", outcome="denied", login_key=key)
        return TooManyRequests(
            TOO_MANY_ATTEMPTS, retry_after_seconds=int(THROTTLE_WINDOW.total_seconds())
        )
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    # Always verify (against a dummy hash for unknown emails) so timing says nothing.
    valid = verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        audit(
            session=session,
            action="sign_in",
            outcome="failed",
            login_key=key,
            subject_user_id=user.id if user else None,
        )
        return NotAuthenticated(BAD_CREDENTIALS)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    now = utcnow()
    token = new_token()
    record = AccessToken(
        token_hash=access_token_hash(token, settings.secret_key),
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
    )
    session.add(record)
    session.flush()
    audit(
        session=session,
        action="sign_in",
        outcome="allowed",
        caller=Caller(user=user, token_id=record.id, needs_touch=False),
        subject_user_id=user.id,
        login_key=key,
    )
    return SignIn(token=token, expires_at=record.expires_at, user=user)


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request."""

    user: User
    token_id: int
    needs_touch: bool

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role


def caller_for_token(*, session: Session, settings: Settings, token: str) -> Caller:
    record = session.exec(
        select(AccessToken).where(
            AccessToken.token_hash == access_token_hash(token, settings.secret_key)
        )
    ).first()
    now = utcnow()
    if (
        record is None
        or record.revoked_at is not None
        or record.expires_at <= now
        or record.last_used_at + timedelta(minutes=settings.session_idle_minutes) <= now
    ):
        raise NotAuthenticated("Your session has ended. Please sign in again.")
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("Your session has ended. Please sign in again.")
    return Caller(
        user=user, token_id=record.id, needs_touch=now - record.last_used_at > _TOUCH_INTERVAL
    )


def touch(*, session: Session, token_id: int) -> None:
    record = session.get(AccessToken, token_id)
    if record is not None:
        record.last_used_at = utcnow()
        session.add(record)


def sign_out(*, session: Session, token_id: int) -> None:
    audit(session=session, action="sign_out")
    record = session.get(AccessToken, token_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        session.add(record)
