"""The things Rapport does that cross domains, each one function:

* ``submit_rating``: a client's rating is recorded (ratings) and their rescoring queued
  (flags) in one short write transaction, shared with the submissions that arrive
  meanwhile (group commit, ``backend/ratings/batches.py``);
* ``after_submission``: once the phone has its answer, the new rating is scored and the
  client's flags, episodes, summary and any urgent alert follow
  (``backend/flags/rescore_queue.py``).

Every entry point that takes a rating (the JSON API, the no-JavaScript page) calls both.
"""

from __future__ import annotations

from fastapi import BackgroundTasks
from sqlalchemy.exc import SQLAlchemyError

from backend.auth.tokens import rating_receipt_id
from backend.db import Database
from backend.errors import RapportError
from backend.flags.rescore_queue import catch_up, queue_rescore, wake
from backend.ratings.batches import BatchesPerDatabase, PendingSubmission, SubmissionOutcome
from backend.ratings.schemas import RatingReceipt, RatingSubmission
from backend.ratings.service import RecordedRating, record_rating

__all__ = ["SubmissionOutcome", "after_submission", "submit_rating"]


def submit_rating(
    *, db: Database, token: str, submission: RatingSubmission, idempotency_key: str | None
) -> SubmissionOutcome:
    """Record a client's rating and queue their rescoring: all of it is written, or none.

    The caller hands the outcome to ``after_submission``; the rescore request is
    durable, so the flags follow even if this process dies first (see
    ``backend.flags.rescore_queue``).
    """
    pending = PendingSubmission(token=token, submission=submission, idempotency_key=idempotency_key)
    return _batches[db].submit(db, pending)


def after_submission(
    background: BackgroundTasks, *, db: Database, outcome: SubmissionOutcome
) -> None:
    """Score a new rating once the response is sent; a retry of an old one needs nothing.

    When a scoring pass is already running it takes this rating too, so no task (and no
    thread hop) is scheduled.
    """
    if outcome.created and wake(db):
        background.add_task(catch_up, db)


def _write_batch(db: Database, batch: list[PendingSubmission]) -> None:
    """Answer every submission in ``batch``: its outcome, its refusal or the failure.

    Each submission runs in its own savepoint, so a refused one (used link, bad score)
    or one the database refuses is answered on its own; a failure of the commit itself
    fails them all, and nothing of it is written.
    """
    recorded: list[tuple[PendingSubmission, RecordedRating]] = []
    try:
        with db.writing(urgent=True) as session:
            for pending in batch:
                try:
                    with session.begin_nested():
                        rating = record_rating(
                            session=session,
                            token=pending.token,
                            submission=pending.submission,
                            idempotency_key=pending.idempotency_key,
                        )
                except RapportError as refusal:
                    pending.error = refusal
                    continue
                except SQLAlchemyError as failure:
                    # Only this submission's savepoint is rolled back: one row the
                    # database refuses must not cost the other clients their ratings.
                    pending.error = failure
                    continue
                recorded.append((pending, rating))
            queue_rescore(session, [r.therapy_session.client_id for _, r in recorded if r.created])
        for pending, rating in recorded:
            receipt = RatingReceipt(
                rating_id=rating_receipt_id(rating.rating.id, db.settings.secret_key),
                submitted_at=rating.rating.submitted_at,
            )
            pending.outcome = SubmissionOutcome(receipt=receipt, created=rating.created)
    except BaseException as failure:
        for pending in batch:
            if pending.error is None:
                pending.error, pending.outcome = failure, None
    finally:
        for pending in batch:
            pending.done = True


_batches = BatchesPerDatabase(_write_batch)
