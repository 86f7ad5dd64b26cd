"""Orchestration that spans domains. Each flow is one short write transaction."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from sqlalchemy.exc import SQLAlchemyError

from backend.auth.tokens import rating_receipt_id
from backend.db import Database
from backend.errors import RapportError
from backend.flags.rescore_queue import queue_rescore
from backend.ratings.schemas import RatingReceipt, RatingSubmission
from backend.ratings.service import RecordedRating, record_rating


@dataclass(frozen=True)
class SubmissionOutcome:
    receipt: RatingReceipt
    created: bool


def submit_rating(
    *, db: Database, token: str, submission: RatingSubmission, idempotency_key: str | None
) -> SubmissionOutcome:
    """Record a client's rating and queue their rescoring: all of it is written, or none.

    The caller schedules ``catch_up`` once the phone has its answer; the rescore
    request is durable, so the flags follow even if this process dies first (see
    ``backend.flags.rescore_queue``). Submissions that arrive while another is being
    written are written together (see ``_SubmissionBatches``).
    """
    with _batches_lock:
        batches = _batches.get(db) or _batches.setdefault(db, _SubmissionBatches())
    return batches.submit(
        db, _Pending(token=token, submission=submission, idempotency_key=idempotency_key)
    )


@dataclass
class _Pending:
    token: str
    submission: RatingSubmission
    idempotency_key: str | None
    done: bool = False
    outcome: SubmissionOutcome | None = None
    error: BaseException | None = None


class _SubmissionBatches:
    """Group commit: whoever gets to write takes every submission queued meanwhile.

    Under load, the commit (and its fsync) is paid once for all queued submissions. Each
    submission runs in its own savepoint, so a refused one (used link, bad score) or one
    the database refuses is answered on its own; a failure of the commit itself fails
    them all, and nothing of it is written.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def submit(self, db: Database, pending: _Pending) -> SubmissionOutcome:
        with self._changed:
            self._queue.append(pending)
            while self._writing and not pending.done:
                self._changed.wait()
            if not pending.done:
                self._writing = True
                batch, self._queue = self._queue, []
        if not pending.done:
            try:
                _write_batch(db, batch)
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.outcome


def _write_batch(db: Database, batch: list[_Pending]) -> None:
    """Answer every submission in ``batch``: its outcome, its refusal or the failure."""
    recorded: list[tuple[_Pending, RecordedRating]] = []
    try:
        with db.writing() as session:
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


_batches: WeakKeyDictionary[Database, _SubmissionBatches] = WeakKeyDictionary()
_batches_lock = threading.Lock()
