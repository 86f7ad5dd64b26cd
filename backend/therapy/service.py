"""Therapy sessions and the rating links issued for them."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import segno
from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.auth.caller import TREAT_CLIENTS, Caller, require
from backend.auth.tokens import link_token_hash, new_token
from backend.clients.models import Client
from backend.clients.scope import client_for
from backend.clock import today_in, utcnow
from backend.config import Settings
from backend.errors import Conflict, InvalidInput, NotFound
from backend.ratings.models import Rating
from backend.therapy.models import RatingLink, TherapySession
from backend.therapy.schemas import (
    IssuedLink,
    NewSessionDates,
    TherapySessionCreate,
    TherapySessionPublic,
)
from scoring.instruments import UnknownInstrument, get_instrument, instrument_ids


def _treating_therapist(
    session: Session, caller: Caller, code: str, action: str, object_id: str | None = None
) -> Client:
    client = client_for(
        session=session, caller=caller, code=code, action=action, object_id=object_id
    )
    require(caller, TREAT_CLIENTS)
    if client.status != "active":
        raise Conflict("This client is discharged; reactivate them before recording a session.")
    return client


@dataclass(frozen=True)
class _Issued:
    link: RatingLink
    token: str


def issue_link(
    session: Session, settings: Settings, therapy_session: TherapySession, language: str
) -> _Issued:
    token = new_token()
    link = session.exec(
        select(RatingLink).where(RatingLink.therapy_session_id == therapy_session.id)
    ).first() or RatingLink(therapy_session_id=therapy_session.id)
    now = utcnow()
    # Reissuing replaces the hash: the old link stops working at once.
    link.token_hash = link_token_hash(token)
    link.language = language
    link.created_at = now
    link.expires_at = now + timedelta(days=settings.link_ttl_days)
    link.used_at = None
    session.add(link)
    session.flush()
    return _Issued(link=link, token=token)


def link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/r/{token}"


def _qr_svg(url: str) -> str:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False, title="Rating link"
    )
    return buffer.getvalue().decode()


def _issued_link(
    therapy_session: TherapySession, issued: _Issued, settings: Settings
) -> IssuedLink:
    url = link_url(settings, issued.token)
    return IssuedLink(
        session=_public(therapy_session, issued.link, rated=False),
        url=url,
        expires_at=issued.link.expires_at,
        language=issued.link.language,
        qr_svg=_qr_svg(url),
    )


def _public(
    therapy_session: TherapySession, link: RatingLink | None, *, rated: bool
) -> TherapySessionPublic:
    return TherapySessionPublic(
        session_number=therapy_session.session_number,
        held_on=therapy_session.held_on,
        instrument=therapy_session.instrument,
        rated=rated,
        link_expires_at=link.expires_at if link else None,
        link_used_at=link.used_at if link else None,
    )


SESSION_IN_THE_FUTURE = "A session cannot be dated after today ({today}); check the date."
SESSION_BEFORE_THE_LATEST = (
    "This client's latest session is dated {latest}; a new session cannot be dated earlier."
)


def new_session_dates(*, session: Session, settings: Settings, client_id: int) -> NewSessionDates:
    """Where a new session's date may fall: not in the future, and not before the latest
    session, so that session numbers and dates run in the same order."""
    latest_held = session.exec(
        select(func.max(TherapySession.held_on)).where(TherapySession.client_id == client_id)
    ).one()
    return NewSessionDates(earliest=latest_held, latest=today_in(settings.clinic_time_zone))


def _check_held_on(held_on: date, dates: NewSessionDates) -> None:
    if held_on > dates.latest:
        raise InvalidInput(SESSION_IN_THE_FUTURE.format(today=dates.latest), field="held_on")
    if dates.earliest is not None and held_on < dates.earliest:
        raise InvalidInput(SESSION_BEFORE_THE_LATEST.format(latest=dates.earliest), field="held_on")


def record_session(
    *, session: Session, settings: Settings, caller: Caller, code: str, new: TherapySessionCreate
) -> IssuedLink:
    client = _treating_therapist(session, caller, code, "create_session")
    try:
        get_instrument(new.instrument)
    except UnknownInstrument:
        raise InvalidInput(
            f"Unknown instrument {new.instrument!r}; choose one of {', '.join(instrument_ids())}.",
            field="instrument",
        ) from None
    _check_held_on(
        new.held_on, new_session_dates(session=session, settings=settings, client_id=client.id)
    )
    last = session.exec(
        select(func.max(TherapySession.session_number)).where(TherapySession.client_id == client.id)
    ).one()
    therapy_session = TherapySession(
        client_id=client.id,
        session_number=(last or 0) + 1,
        held_on=new.held_on,
        instrument=new.instrument,
        created_by=caller.id,
    )
    session.add(therapy_session)
    session.flush()
    issued = issue_link(session, settings, therapy_session, new.language)
    return _issued_link(therapy_session, issued, settings)


def reissue_link(
    *,
    session: Session,
    settings: Settings,
    caller: Caller,
    code: str,
    session_number: int,
    language: str | None,
) -> IssuedLink:
    client = _treating_therapist(
        session, caller, code, "reissue_link", object_id=f"session:{session_number}"
    )
    therapy_session = session.exec(
        select(TherapySession).where(
            TherapySession.client_id == client.id, TherapySession.session_number == session_number
        )
    ).first()
    if therapy_session is None:
        raise NotFound("No such session for this client.")
    if session.exec(
        select(Rating.id).where(Rating.therapy_session_id == therapy_session.id)
    ).first():
        raise Conflict("This session has already been rated; a new link is not needed.")
    old = session.exec(
        select(RatingLink).where(RatingLink.therapy_session_id == therapy_session.id)
    ).first()
    issued = issue_link(
        session, settings, therapy_session, language or (old.language if old else "en")
    )
    return _issued_link(therapy_session, issued, settings)


def sessions_of(*, session: Session, caller: Caller, code: str) -> list[TherapySessionPublic]:
    client = client_for(session=session, caller=caller, code=code, action="read_sessions")
    return sessions_of_client(session=session, client_id=client.id)


def sessions_of_client(*, session: Session, client_id: int) -> list[TherapySessionPublic]:
    """Every session of a client already in the caller's scope, first session first."""
    rows = session.exec(
        select(TherapySession, RatingLink, Rating.id)
        .join(RatingLink, col(RatingLink.therapy_session_id) == TherapySession.id, isouter=True)
        .join(Rating, col(Rating.therapy_session_id) == TherapySession.id, isouter=True)
        .where(TherapySession.client_id == client_id)
        .order_by(TherapySession.session_number)
    )
    return [_public(ts, link, rated=rating_id is not None) for ts, link, rating_id in rows]


def last_link_language(*, session: Session, client_id: int) -> str | None:
    """The language of the client's most recent rating link, if any was issued."""
    return session.exec(
        select(RatingLink.language)
        .join(TherapySession, col(TherapySession.id) == RatingLink.therapy_session_id)
        .where(TherapySession.client_id == client_id)
        .order_by(col(TherapySession.session_number).desc())
        .limit(1)
    ).first()
