"""Ratings: the public, token-addressed submission and the clinician's read of them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.auth.caller import Caller
from backend.auth.tokens import link_token_hash
from backend.clients.scope import client_for
from backend.clock import utcnow
from backend.errors import Conflict, Gone, InvalidInput, NotFound
from backend.i18n import translations_for
from backend.ratings.models import Rating
from backend.ratings.schemas import (
    RatingForm,
    RatingPublic,
    RatingSubmission,
)
from backend.ratings.wording import instrument_public
from backend.therapy.models import RatingLink, TherapySession
from scoring.instruments import Instrument, ScoreError, current_wording_version, get_instrument

LINK_NOT_FOUND = "This link is not valid."
LINK_USED = "This rating has already been sent. Thank you."
LINK_EXPIRED = "This link has expired. Please ask your therapist for a new one."
LINK_REUSED = "This link has already been used to send different answers."


@dataclass(frozen=True)
class OpenLink:
    link: RatingLink
    therapy_session: TherapySession
    instrument: Instrument


def _link(session: Session, token: str, *, for_update: bool = False) -> OpenLink:
    query = (
        select(RatingLink, TherapySession)
        .join(TherapySession, col(TherapySession.id) == RatingLink.therapy_session_id)
        .where(RatingLink.token_hash == link_token_hash(token))
    )
    found = session.exec(query.with_for_update(of=RatingLink) if for_update else query).first()
    if found is None:
        raise NotFound(LINK_NOT_FOUND)
    link, therapy_session = found
    return OpenLink(link, therapy_session, get_instrument(therapy_session.instrument))


def _ensure_open(opened: OpenLink) -> None:
    if opened.link.used_at is not None:
        raise Gone(LINK_USED, state="used")
    if opened.link.expires_at <= utcnow():
        raise Gone(LINK_EXPIRED, state="expired")


def link_language(*, session: Session, token: str) -> str | None:
    """The language a link was issued in, whatever its state; ``None`` for an unknown token."""
    return session.exec(
        select(RatingLink.language).where(RatingLink.token_hash == link_token_hash(token))
    ).first()


def rating_form(*, session: Session, token: str) -> RatingForm:
    opened = _link(session, token)
    _ensure_open(opened)
    return RatingForm(
        language=opened.link.language,
        expires_at=opened.link.expires_at,
        instrument=instrument_public(opened.instrument, translations_for(opened.link.language)),
    )


def _payload_hash(scores: dict[str, float], submission: RatingSubmission) -> str:
    canonical = json.dumps(
        {
            "scores": scores,
            "comment": submission.comment or None,
            "wants_to_talk": submission.wants_to_talk,
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RecordedRating:
    rating: Rating
    therapy_session: TherapySession
    created: bool


def record_rating(
    *, session: Session, token: str, submission: RatingSubmission, idempotency_key: str | None
) -> RecordedRating:
    """Record the client's answer once; a retry of the same answer returns the first."""
    opened = _link(session, token, for_update=True)
    try:
        scores = opened.instrument.validated_scores(submission.scores)
    except ScoreError as error:
        raise InvalidInput(f"Item '{error.item}' {error.message}.", item=error.item) from None
    payload_hash = _payload_hash(scores, submission)
    if opened.link.used_at is not None:
        existing = session.exec(
            select(Rating).where(Rating.therapy_session_id == opened.therapy_session.id)
        ).one()
        if existing.payload_hash != payload_hash:
            raise Conflict(LINK_REUSED, state="used")
        return RecordedRating(existing, opened.therapy_session, created=False)
    _ensure_open(opened)
    now = utcnow()
    rating = Rating(
        therapy_session_id=opened.therapy_session.id,
        instrument=opened.instrument.id,
        wording_version=current_wording_version(opened.instrument.id),
        scores=scores,
        total=opened.instrument.total(scores),
        comment=(submission.comment or "").strip() or None,
        wants_to_talk=submission.wants_to_talk,
        payload_hash=payload_hash,
        idempotency_key=idempotency_key,
        submitted_at=now,
    )
    opened.link.used_at = now
    session.add(rating)
    session.add(opened.link)
    session.flush()
    return RecordedRating(rating, opened.therapy_session, created=True)


def ratings_of(*, session: Session, caller: Caller, code: str) -> list[RatingPublic]:
    client = client_for(session=session, caller=caller, code=code, action="read_ratings")
    return ratings_of_client(session=session, client_id=client.id)


def ratings_of_client(*, session: Session, client_id: int) -> list[RatingPublic]:
    """Every rating of a client already in the caller's scope, oldest session first."""
    rows = session.exec(
        select(Rating, TherapySession)
        .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
        .where(TherapySession.client_id == client_id)
        .order_by(TherapySession.session_number)
    )
    return [
        RatingPublic(
            session_number=ts.session_number,
            held_on=ts.held_on,
            instrument=rating.instrument,
            wording_version=rating.wording_version,
            scores=rating.scores,
            total=rating.total,
            comment=rating.comment,
            wants_to_talk=rating.wants_to_talk,
            submitted_at=rating.submitted_at,
        )
        for rating, ts in rows
    ]
