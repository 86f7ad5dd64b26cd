"""Scoring follows a submission instead of holding it up.

A submission records the rating and a rescore request for its client in one short
transaction and answers the phone. Right after, in the same process, ``catch_up``
scores what is queued: whoever finds no pass running starts one and keeps going while
requests keep arriving, starting a pass at most every ``RAPPORT_SCORING_INTERVAL_SECONDS``
(2 s), so a stream of submissions is scored in a few vectorised batches instead of one
pass per rating, each holding the interpreter lock the phones' submissions need. With
nothing else going on, the flags are there a few milliseconds after the phone's answer.

Requests live in the database, so a rating committed just before a crash, or a pass
that failed, is scored by the next pass in whichever process runs it: after any
submission, when the API starts, or by ``rapport rescore``. A pass reads and scores
outside the write lock, so submissions are not held up by it; it then stores only for
clients whose request still has the version it read (each new request draws a new one) and
that no other worker holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A newer answer
thus leaves its client queued for the next pass instead of being overwritten by an
older score, and two workers never store the same client at once. The measurements
behind this: docs/decisions.md, "Scoring after the answer, from a durable queue".
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session

from backend.clock import utcnow
from backend.db import Database
from backend.flags.models import ClientSummary, Flag, RescoreRequest
from backend.flags.scoring_sync import calibrate, score_clients, store_scores
from scoring import RULES_VERSION
from scoring.vocabulary import LIVE_FLAG_STATUSES

log = logging.getLogger("rapport")

_REQUEST: Table = RescoreRequest.__table__
#: Clients scored per transaction. A batch's fixed cost (queries, one vectorised
#: evaluation: about 25 ms of CPU) is paid once for all of them; its store takes tens of
#: milliseconds, which a submission waits for at most once (it goes before other queued
#: writes, see ``Database.writing``).
BATCH = 200
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
#: The database cannot be reached: trying the rest of the queue one by one is pointless.
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def queue_outdated(database: Database) -> int:
    """Queue every client whose stored scores come from another rules version.

    Run before the first pass after an upgrade, so the new rules reach every client's
    flags, episodes and summary without anyone running ``rapport rescore``; with nothing
    outdated it is one quick query. Returns how many were queued.
    """
    with database.reading() as db:
        outdated = set(
            db.scalars(
                select(ClientSummary.client_id).where(ClientSummary.rules_version != RULES_VERSION)
            )
        ) | set(
            db.scalars(
                select(Flag.client_id)
                .where(
                    Flag.rules_version != RULES_VERSION,
                    Flag.status.in_([s.value for s in LIVE_FLAG_STATUSES]),
                )
                .distinct()
            )
        )
    if outdated:
        with database.writing() as db:
            calibrate(db)
            queue_rescore(db, outdated)
    return len(outdated)


def queue_rescore(db: Session, client_ids: Iterable[int]) -> None:
    """Ask for these clients to be rescored, in the caller's transaction."""
    ids = sorted(set(client_ids))  # one lock order for every writer: no deadlocks
    if not ids:
        return
    insert = _UPSERTS[db.get_bind().dialect.name]
    now = utcnow()
    statement = insert(_REQUEST).values(
        [
            {"client_id": client_id, "version": secrets.randbits(62), "requested_at": now}
            for client_id in ids
        ]
    )
    db.execute(
        statement.on_conflict_do_update(
            index_elements=[_REQUEST.c.client_id],
            set_={
                "version": statement.excluded.version,
                "requested_at": statement.excluded.requested_at,
            },
        )
    )


def queued_count(database: Database) -> int:
    """Clients waiting to be rescored (zero unless a burst is being scored or a pass failed)."""
    with database.reading() as db:
        return db.execute(select(func.count()).select_from(_REQUEST)).scalar_one()


@dataclass
class ScoringPass:
    """What one pass over the queue did."""

    scored: int = 0
    #: Clients whose scoring failed; they stay queued for the next pass.
    stuck: int = 0
    failure: str | None = None


def score_queued(database: Database, *, batch: int = BATCH) -> ScoringPass:
    """Score everything queued when called, once each, a batch at a time.

    A batch's history is read and scored outside the write lock; the write transaction
    only stores the differences, for the clients whose request is still the one that
    was read (a newer answer leaves its client for the next pass) and that no other
    worker holds. A batch that fails is scored again one client at a time, so a client
    whose history trips scoring stays queued without holding up the rest. A database
    that cannot be reached ends the pass (raises); what was not scored stays queued.
    """
    outcome = ScoringPass()
    after = 0  # client ids start at 1; each pass takes them in order, once
    while True:
        with database.reading() as db:
            taken = dict(
                db.execute(
                    select(_REQUEST.c.client_id, _REQUEST.c.version)
                    .where(_REQUEST.c.client_id > after)
                    .order_by(_REQUEST.c.client_id)
                    .limit(batch)
                ).all()
            )
            if not taken:
                return outcome
            try:
                scores = score_clients(db, sorted(taken))
            except _UNAVAILABLE:
                raise
            except Exception as failure:
                outcome.failure = outcome.failure or type(failure).__name__
                scores = None
        if scores is not None:
            with database.writing() as db:
                current = _still_requested(db, taken)
                try:
                    with db.begin_nested():
                        store_scores(db, current, scores)
                except _UNAVAILABLE:
                    raise
                except Exception as failure:
                    outcome.failure = outcome.failure or type(failure).__name__
                    scores = None
                else:
                    _done(db, current)
                    outcome.scored += len(current)
        if scores is None:
            _score_one_by_one(database, taken, outcome)
        after = max(taken)
        if len(taken) < batch:
            return outcome


def _still_requested(db: Session, taken: dict[int, int]) -> list[int]:
    """Of the requests read, those unchanged since and now held by this transaction."""
    current = db.execute(
        select(_REQUEST.c.client_id, _REQUEST.c.version)
        .where(_REQUEST.c.client_id.in_(sorted(taken)))
        .order_by(_REQUEST.c.client_id)
        .with_for_update(skip_locked=True)
    ).all()
    return [client_id for client_id, version in current if taken[client_id] == version]


def _done(db: Session, client_ids: list[int]) -> None:
    if client_ids:
        db.execute(delete(_REQUEST).where(_REQUEST.c.client_id.in_(client_ids)))


def _score_one_by_one(database: Database, taken: dict[int, int], outcome: ScoringPass) -> None:
    for client_id, version in sorted(taken.items()):
        with database.writing() as db:
            if not _still_requested(db, {client_id: version}):
                continue
            try:
                with db.begin_nested():
                    store_scores(db, [client_id], score_clients(db, [client_id]))
            except _UNAVAILABLE:
                raise
            except Exception:
                outcome.stuck += 1
                continue
            _done(db, [client_id])
            outcome.scored += 1


@dataclass
class _Pass:
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False
    #: Set by anyone who queued work while a pass was running: go round once more.
    wanted: bool = False
    #: ``time.monotonic()`` when the last pass started.
    last_started: float = float("-inf")


_passes: WeakKeyDictionary[Database, _Pass] = WeakKeyDictionary()
_passes_lock = threading.Lock()


def wake(database: Database) -> bool:
    """Ask for a pass over the queue; True when none is running and the caller must start
    one (``catch_up``), False when the running pass will go round once more for it."""
    state = _pass_state(database)
    with state.lock:
        state.wanted = True
        return not state.running


def _pass_state(database: Database) -> _Pass:
    with _passes_lock:
        return _passes.get(database) or _passes.setdefault(database, _Pass())


def catch_up(database: Database) -> None:
    """Score what is queued, unless a pass in this process is already at it; never raises.

    Runs after the response is sent (a background task), so nothing here reaches the
    phone. A failure is logged, without anything about the client, and leaves the
    requests queued for the next pass.
    """
    state = _pass_state(database)
    with state.lock:
        state.wanted = True
        if state.running:
            return
        state.running = True
    interval = database.settings.scoring_interval_seconds
    try:
        while True:
            with state.lock:
                if not state.wanted:
                    state.running = False  # in the same breath as the check: no lost wake-up
                    return
            # A pass's fixed cost (queries; for a batch, one vectorised evaluation) is most
            # of what scoring a client costs, and it holds the interpreter lock the phones'
            # submissions need: while answers keep coming, let them gather into one pass.
            time.sleep(max(0.0, state.last_started + interval - time.monotonic()))
            with state.lock:
                state.wanted = False  # what arrived while waiting is in this pass
            state.last_started = time.monotonic()
            scoring = score_queued(database)
            if scoring.stuck:
                log.warning(
                    "Scoring failed for %d client(s) (%s); they stay queued for the next pass.",
                    scoring.stuck,
                    scoring.failure,
                )
    except BaseException as failure:
        with state.lock:
            state.running = False
        if not isinstance(failure, Exception):
            raise
        log.warning(
            "Scoring queued ratings failed (%s); they stay queued for the next pass.",
            type(failure).__name__,
        )
