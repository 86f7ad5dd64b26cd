"""While ratings keep arriving, they are scored in one pass per interval, not one pass each.

A scoring pass holds the interpreter lock for about as long for one client as for fifty,
and the phones' submissions wait on that lock: gathering a stream of ratings into few
passes is what keeps the 50-phone p99 of the load benchmark down.
"""

from __future__ import annotations

import threading
import time
from weakref import WeakKeyDictionary

import pytest
from fastapi import BackgroundTasks
from sqlmodel import select

import backend.flags.rescore_queue as rescore_queue
from backend.clock import utcnow
from backend.flags.models import ClientSummary
from backend.flags.rescore_queue import catch_up, queued_count
from backend.flows import SubmissionOutcome, after_submission, submit_rating
from backend.ratings.schemas import RatingReceipt, RatingSubmission
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in

INTERVAL = 1.0


@pytest.fixture
def pass_starts(db, monkeypatch) -> list[float]:
    """A fresh pass state for ``db``, a 1 s interval, and when each pass started."""
    monkeypatch.setattr(rescore_queue, "_passes", WeakKeyDictionary())
    monkeypatch.setattr(db.settings, "scoring_interval_seconds", INTERVAL)
    starts: list[float] = []
    real = rescore_queue.score_queued

    def counted(database, **kwargs):
        starts.append(time.monotonic())
        return real(database, **kwargs)

    monkeypatch.setattr(rescore_queue, "score_queued", counted)
    return starts


def answer(db, client) -> None:
    _, token = make_session_with_link(db, client)
    submission = RatingSubmission(scores=alliance4())
    assert submit_rating(db=db, token=token, submission=submission, idempotency_key=None).created


def scored(db) -> dict[int, int]:
    with db.reading() as session:
        return dict(
            session.exec(select(ClientSummary.client_id, ClientSummary.ratings_count)).all()
        )


def test_the_first_rating_after_a_quiet_spell_is_scored_at_once(db, pass_starts) -> None:
    client = make_client(db, signed_in(db))
    answer(db, client)

    called = time.monotonic()
    catch_up(db)

    assert len(pass_starts) == 1
    assert pass_starts[0] - called < INTERVAL / 2
    assert scored(db) == {client.id: 1}


def test_ratings_arriving_within_the_interval_share_the_next_pass(db, pass_starts) -> None:
    therapist = signed_in(db)
    first, *others = [make_client(db, therapist) for _ in range(4)]
    answer(db, first)
    catch_up(db)  # the quiet-spell pass, at once
    for client in others:
        answer(db, client)

    arrivals = [threading.Thread(target=catch_up, args=(db,)) for _ in others]
    for arrival in arrivals:
        arrival.start()
    for arrival in arrivals:
        arrival.join(10)

    assert len(pass_starts) == 2
    assert pass_starts[1] - pass_starts[0] >= INTERVAL
    assert queued_count(db) == 0
    assert scored(db) == {client.id: 1 for client in [first, *others]}


def test_a_rating_that_arrives_while_a_pass_runs_schedules_no_task_and_is_scored(
    db, pass_starts, held_pass
) -> None:
    therapist = signed_in(db)
    early, late = make_client(db, therapist), make_client(db, therapist)
    answer(db, early)
    held_pass.start(db)

    answer(db, late)
    background = BackgroundTasks()
    receipt = RatingReceipt(rating_id="r_opaque", submitted_at=utcnow())
    after_submission(background, db=db, outcome=SubmissionOutcome(receipt=receipt, created=True))
    held_pass.finish()

    assert background.tasks == []
    assert len(pass_starts) == 2
    assert scored(db) == {early.id: 1, late.id: 1}
