"""Sign-in: opaque access tokens with an idle timeout and an absolute lifetime."""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, select

from backend.audit.service import sign_in_history
from backend.audit.writer import record as audit
from backend.auth.caller import Caller
from backend.auth.models import AccessToken
from backend.auth.passwords import hash_password, needs_rehash, verify_password
from backend.auth.tokens import access_token_hash, new_token
from backend.clock import utcnow
from backend.config import Settings
from backend.db import Database, lock_until_commit
from backend.errors import NotAuthenticated, RapportError, TooManyRequests
from backend.users.models import User

#: last_used_at is refreshed at most this often, so reads do not all become writes.
_TOUCH_INTERVAL = timedelta(seconds=60)

BAD_CREDENTIALS = "Email or password is incorrect."


#: Sign-in throttling (OWASP Authentication Cheat Sheet), counted in the audit trail so
#: every API worker sees the same numbers. An address that keeps failing is blocked for
#: the window; it is the browser's own address (see ``browser_address``), so it blocks
#: only whoever is guessing from it. An account is never closed: past its free failures
#: each attempt waits longer (15 s, 30 s, ... at most 5 minutes) after the last failure,
#: and an address the account signed in from lately waits only on its own failures, so a
#: stranger can slow an account down but cannot keep its owner out.
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)
FREE_ACCOUNT_FAILURES = 5
FIRST_DELAY = timedelta(seconds=15)
LONGEST_DELAY = timedelta(minutes=5)
KNOWN_ADDRESS_FOR = timedelta(days=30)
TOO_MANY_FROM_HERE = (
    "Too many failed sign-ins from this address. Please wait 15 minutes and try again."
)


def too_many_for_account(seconds: int) -> str:
    return (
        f"Too many failed sign-ins for this account. Please wait {seconds} seconds and try again."
    )


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
    *,
    database: Database,
    settings: Settings,
    email: str,
    password: str,
    address: str | None = None,
) -> SignIn | RapportError:
    """A new access token, or the error to answer with; every attempt is audited either way.

    The password is checked between two short transactions, never inside one: argon2id
    takes about 0.2 s, and on SQLite a write transaction holds the database's only write
    lock, so every rating submission would queue behind each sign-in. The throttle is
    counted again in the write, so attempts made at the same moment cannot slip past it.
    """
    key = login_key(email, settings.secret_key)
    with database.reading() as session:
        throttled = sign_in_refusal(session=session, login_key=key, address=address)
        user = None if throttled else _user_by_email(session=session, email=email)
    # Always verify (against a dummy hash for unknown emails) so timing says nothing.
    valid = not throttled and verify_password(user.password_hash if user else None, password)
    upgraded_hash = hash_password(password) if valid and needs_rehash(user.password_hash) else None
    with database.writing() as session:
        lock_until_commit(session, *_throttle_counters(login_key=key, address=address))
        throttled = throttled or sign_in_refusal(session=session, login_key=key, address=address)
        if throttled:
            audit(session=session, action="sign_in", outcome="denied", login_key=key)
            return throttled
        current = session.get(User, user.id) if user else None  # deactivated meanwhile?
        if current is None or not valid or not current.active:
            audit(
                session=session,
                action="sign_in",
                outcome="failed",
                login_key=key,
                subject_user_id=current.id if current else None,
            )
            return NotAuthenticated(BAD_CREDENTIALS)
        if upgraded_hash is not None:
            current.password_hash = upgraded_hash
            session.add(current)
        return _new_access_token(session=session, settings=settings, user=current, login_key=key)


def sign_in_refusal(
    *, session: Session, login_key: str, address: str | None
) -> TooManyRequests | None:
    """The refusal for an attempt made now, or None when it may be checked."""
    history = sign_in_history(
        session=session,
        login_key=login_key,
        address=address,
        window=THROTTLE_WINDOW,
        known_for=KNOWN_ADDRESS_FOR,
    )
    if history.address_failures >= MAX_FAILURES_PER_ADDRESS:
        return TooManyRequests(
            TOO_MANY_FROM_HERE, retry_after_seconds=int(THROTTLE_WINDOW.total_seconds())
        )
    if history.known_address:
        failures, last = history.account_failures_here, history.last_account_failure_here
    else:
        failures, last = history.account_failures, history.last_account_failure
    wait = account_delay(failures)
    if last is None or not wait:
        return None
    remaining = (last + wait - utcnow()).total_seconds()
    if remaining <= 0:
        return None
    seconds = math.ceil(remaining)
    return TooManyRequests(too_many_for_account(seconds), retry_after_seconds=seconds)


def account_delay(failures: int) -> timedelta:
    """How long after the last failure an account with ``failures`` recent ones waits."""
    if failures < FREE_ACCOUNT_FAILURES:
        return timedelta(0)
    return min(FIRST_DELAY * 2 ** (failures - FREE_ACCOUNT_FAILURES), LONGEST_DELAY)


def _throttle_counters(*, login_key: str, address: str | None) -> list[str]:
    return [f"sign-in:{login_key}", *([f"sign-in-from:{address}"] if address else [])]


def _user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def _new_access_token(
    *, session: Session, settings: Settings, user: User, login_key: str
) -> SignIn:
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
        login_key=login_key,
    )
    return SignIn(token=token, expires_at=record.expires_at, user=user)


def caller_for_token(*, session: Session, settings: Settings, token: str) -> Caller:
    """The caller behind a bearer token, or behind the browser secret of the same sign-in."""
    hashed = access_token_hash(token, settings.secret_key)
    record = session.exec(
        select(AccessToken).where(
            or_(AccessToken.token_hash == hashed, AccessToken.browser_secret_hash == hashed)
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


#: How long the browser has to redeem a ticket for its cookie: it does so as the first
#: page after sign-in loads, within a second.
BROWSER_TICKET_LIFETIME = timedelta(seconds=60)
BROWSER_TICKET_INVALID = "This sign-in ticket is not valid. Please sign in again."


@dataclass(frozen=True)
class BrowserTicket:
    ticket: str
    expires_at: datetime


def browser_ticket(*, session: Session, settings: Settings, caller: Caller) -> BrowserTicket:
    """A one-time ticket with which the caller's browser gets this sign-in as a cookie.

    The dashboard signs in on the server side, so the browser never sees the token; it
    posts this ticket to the API, which answers with an HttpOnly cookie holding a second
    secret of the same sign-in (same idle and absolute limits, revoked with it).
    """
    record = session.get(AccessToken, caller.token_id)
    ticket = new_token()
    record.browser_ticket_hash = access_token_hash(ticket, settings.secret_key)
    record.browser_ticket_expires_at = utcnow() + BROWSER_TICKET_LIFETIME
    session.add(record)
    return BrowserTicket(ticket=ticket, expires_at=record.browser_ticket_expires_at)


def redeem_browser_ticket(*, session: Session, settings: Settings, ticket: str) -> SignIn:
    """Exchange a ticket (once) for the browser's secret of the same sign-in."""
    record = session.exec(
        select(AccessToken).where(
            AccessToken.browser_ticket_hash == access_token_hash(ticket, settings.secret_key)
        )
    ).first()
    now = utcnow()
    if (
        record is None
        or record.browser_ticket_expires_at is None
        or record.browser_ticket_expires_at <= now
        or record.revoked_at is not None
        or record.expires_at <= now
    ):
        raise NotAuthenticated(BROWSER_TICKET_INVALID)
    secret = new_token()
    record.browser_ticket_hash = record.browser_ticket_expires_at = None
    record.browser_secret_hash = access_token_hash(secret, settings.secret_key)
    session.add(record)
    user = session.get(User, record.user_id)
    audit(
        session=session,
        action="sign_in_browser",
        caller=Caller(user=user, token_id=record.id, needs_touch=False),
        subject_user_id=user.id,
    )
    return SignIn(token=secret, expires_at=record.expires_at, user=user)
