"""Orchestration that spans domains. Each flow is one short write transaction."""

from __future__ import annotations

from dataclasses import dataclass

from backend.db import Database
from backend.flags.scoring_sync import rescore_clients
from backend.ratings.schemas import RatingReceipt, RatingSubmission
from backend.ratings.service import record_rating


@dataclass(frozen=True)
class SubmissionOutcome:
    receipt: RatingReceipt
    created: bool


def submit_rating(
    *, db: Database, token: str, submission: RatingSubmission, idempotency_key: str | None
) -> SubmissionOutcome:
    """Record a client's rating and rescore the client: all of it is written, or none.

    Scoring runs in the same transaction, so the dashboard never shows a rating
    without the flags it raises.
    """
    with db.writing() as session:
        recorded = record_rating(
            session=session, token=token, submission=submission, idempotency_key=idempotency_key
        )
        if recorded.created:
            rescore_clients(session=session, client_ids=[recorded.therapy_session.client_id])
        receipt = RatingReceipt(
            rating_id=recorded.rating.id, submitted_at=recorded.rating.submitted_at
        )
    return SubmissionOutcome(receipt=receipt, created=recorded.created)
