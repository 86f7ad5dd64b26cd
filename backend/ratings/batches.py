"""Group commit for rating submissions: whoever gets to write takes every one queued meanwhile.

Under load, the commit (and its fsync) is paid once for all queued submissions. What a
batch's transaction does is the caller's (``backend.flows`` records the ratings and
queues their rescoring); this module only decides who writes which batch and hands each
submission its own answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from backend.db import Database
from backend.ratings.schemas import RatingReceipt, RatingSubmission


@dataclass(frozen=True)
class SubmissionOutcome:
    receipt: RatingReceipt
    #: False for a retry of an earlier submission: the phone is answered with that rating.
    created: bool


@dataclass
class PendingSubmission:
    """One phone's submission, waiting for its batch; the writer fills in the answer."""

    token: str
    submission: RatingSubmission
    idempotency_key: str | None
    done: bool = False
    outcome: SubmissionOutcome | None = None
    error: BaseException | None = None


#: Writes a batch in one transaction and answers each of its submissions (outcome or error).
WriteBatch = Callable[[Database, list[PendingSubmission]], None]


class SubmissionBatches:
    """The submissions of one database waiting to be written, and whether one is writing.

    The writer answers every submission of its batch: a refused one (used link, bad
    score) gets its own refusal; a failure of the commit itself fails them all.
    """

    def __init__(self, write: WriteBatch) -> None:
        self._write = write
        self._changed = threading.Condition()
        self._queue: list[PendingSubmission] = []
        self._writing = False

    def submit(self, db: Database, pending: PendingSubmission) -> SubmissionOutcome:
        with self._changed:
            self._queue.append(pending)
            while self._writing and not pending.done:
                self._changed.wait()
            if not pending.done:
                self._writing = True
                batch, self._queue = self._queue, []
        if not pending.done:
            try:
                self._write(db, batch)
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()
        if pending.error is not None:
            raise pending.error
        return pending.outcome


class BatchesPerDatabase:
    """One ``SubmissionBatches`` per database (tests run several), made on first use."""

    def __init__(self, write: WriteBatch) -> None:
        self._write = write
        self._batches: WeakKeyDictionary[Database, SubmissionBatches] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def __getitem__(self, db: Database) -> SubmissionBatches:
        with self._lock:
            batches = self._batches.get(db)
            if batches is None:
                batches = self._batches[db] = SubmissionBatches(self._write)
            return batches
