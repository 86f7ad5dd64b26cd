"""Scoring follows a submission instead of holding it up.

A submission records the rating and a rescore request for its client in one short
transaction and answers the phone. Right after, in the same process, ``catch_up``
scores what is queued: whoever finds no pass running starts one and keeps going while
requests keep arriving, so a burst of submissions is scored in a few vectorised batches
instead of one client at a time under the write lock. With nothing else going on, the
flags are there a few milliseconds after the phone's answer.

Requests live in the database, so a rating committed just before a crash, or a pass
that failed, is scored by the next pass in whichever process runs it: after any
submission, when the API starts, or by ``rapport rescore``. A pass holds the requests it
takes until it commits: on SQLite through the write lock, on PostgreSQL with ``FOR
UPDATE SKIP LOCKED``, so two workers never score the same client at once, and a request
written meanwhile (its rating not yet visible to the pass) waits and is taken by the
next pass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from backend.clock import utcnow
from backend.db import Database
from backend.flags.models import RescoreRequest
from backend.flags.scoring_sync import rescore_clients

log = logging.getLogger("rapport")

_REQUEST: Table = RescoreRequest.__table__
#: Clients scored per transaction: large enough to vectorise, small enough that a
#: submission never waits long for SQLite's write lock.
BATCH = 50
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def queue_rescore(session: Session, client_ids: Iterable[int]) -> None:
    """Ask for these clients to be rescored, in the caller's transaction."""
    ids = sorted(set(client_ids))  # one lock order for every writer: no deadlocks
    if not ids:
        return
    insert = _UPSERTS[session.get_bind().dialect.name]
    now = utcnow()
    statement = insert(_REQUEST).values(
        [{"client_id": client_id, "requested_at": now} for client_id in ids]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_REQUEST.c.client_id],
            set_={"requested_at": statement.excluded.requested_at},
        )
    )


def queued_count(database: Database) -> int:
    """Clients waiting to be rescored (zero unless a burst is being scored or a pass failed)."""
    with database.reading() as session:
        return session.execute(select(func.count()).select_from(_REQUEST)).scalar_one()


def score_queued(database: Database, *, batch: int = BATCH) -> int:
    """Score everything queued when called, a batch per short transaction; how many clients.

    Raises on a database failure; what was not scored stays queued.
    """
    scored = 0
    while True:
        with database.writing() as session:
            taken = session.scalars(
                select(_REQUEST.c.client_id)
                .order_by(_REQUEST.c.client_id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not taken:
                return scored
            rescore_clients(session=session, client_ids=taken)
            session.execute(delete(_REQUEST).where(_REQUEST.c.client_id.in_(taken)))
        scored += len(taken)
        if len(taken) < batch:
            return scored


@dataclass
class _Pass:
    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False
    #: Set by anyone who queued work while a pass was running: go round once more.
    wanted: bool = False


_passes: WeakKeyDictionary[Database, _Pass] = WeakKeyDictionary()
_passes_lock = threading.Lock()


def catch_up(database: Database) -> None:
    """Score what is queued, unless a pass in this process is already at it; never raises.

    Runs after the response is sent (a background task), so nothing here reaches the
    phone. A failure is logged, without anything about the client, and leaves the
    requests queued for the next pass.
    """
    with _passes_lock:
        state = _passes.get(database) or _passes.setdefault(database, _Pass())
    with state.lock:
        state.wanted = True
        if state.running:
            return
        state.running = True
    try:
        while True:
            with state.lock:
                if not state.wanted:
                    state.running = False  # in the same breath as the check: no lost wake-up
                    return
                state.wanted = False
            score_queued(database)
    except BaseException as failure:
        with state.lock:
            state.running = False
        if not isinstance(failure, Exception):
            raise
        log.warning(
            "Scoring queued ratings failed (%s); they stay queued for the next pass.",
            type(failure).__name__,
        )
