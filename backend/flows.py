"""Orchestration that spans domains. Each flow is one short write transaction."""

from __future__ import annotations

from dataclasses import dataclass

from backend.db import Database
from backend.ratings.schemas import RatingReceipt, RatingSubmission
from backend.ratings.service import record_rating


@dataclass(frozen=True)
class SubmissionOutcome:
    receipt: RatingReceipt
    created: bool


def submit_rating(
    *, db: Database, token: str, submission: RatingSubmission, idempotency_key: str | None
) -> SubmissionOutcome:
    """Record a client's rating; nothing is written unless all of it is."""
    with db.writing() as session:
        recorded = record_rating(
            session=session, token=token, submission=submission, idempotency_key=idempotency_key
        )
        receipt = RatingReceipt(
            rating_id=recorded.rating.id, submitted_at=recorded.rating.submitted_at
        )
    return SubmissionOutcome(receipt=receipt, created=recorded.created)
