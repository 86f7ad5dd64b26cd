"""Submissions that arrive while another is being written are written together."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func
from sqlalchemy.exc import DataError
from sqlmodel import select

import backend.flows
from backend.errors import NotFound
from backend.flags.models import ClientSummary, RescoreRequest
from backend.flags.rescore_queue import score_queued
from backend.flows import submit_rating
from backend.ratings.models import Rating
from backend.ratings.schemas import RatingSubmission
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def send(db, token: str):
    return submit_rating(
        db=db,
        token=token,
        submission=RatingSubmission(scores=alliance4()),
        idempotency_key=None,
    )


def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_queued_submissions_are_written_together_and_each_answered_on_its_own(
    db, monkeypatch
) -> None:
    therapist = signed_in(db)
    clients = [make_client(db, therapist) for _ in range(4)]
    tokens = [make_session_with_link(db, client)[1] for client in clients]
    real_queue = backend.flows.queue_rescore
    queued_together: list[list[int]] = []
    first_writing, release = threading.Event(), threading.Event()

    def queue_held_open(session, client_ids):
        queued_together.append(sorted(client_ids))
        if len(queued_together) == 1:
            first_writing.set()
            release.wait(10)
        real_queue(session, client_ids)

    monkeypatch.setattr(backend.flows, "queue_rescore", queue_held_open)
    with ThreadPoolExecutor(max_workers=8) as pool:
        first = pool.submit(send, db, tokens[0])
        assert first_writing.wait(10)
        queued = [pool.submit(send, db, token) for token in [*tokens[1:], tokens[1], "nope"]]
        wait_until(lambda: len(backend.flows._batches[db]._queue) == len(queued))
        release.set()
        outcomes = [future.result() for future in [first, *queued[:-1]]]
        with pytest.raises(NotFound):
            queued[-1].result()

    assert queued_together == [[clients[0].id], sorted(c.id for c in clients[1:])]
    again = [o for o in outcomes if o.receipt.rating_id == outcomes[1].receipt.rating_id]
    assert sorted(o.created for o in again) == [False, True]
    assert len({o.receipt.rating_id for o in outcomes}) == 4
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Rating)).one() == 4
        waiting = session.exec(select(RescoreRequest.client_id)).all()
    assert sorted(waiting) == sorted(client.id for client in clients)

    assert score_queued(db).scored == 4
    with db.reading() as session:
        counts = session.exec(select(ClientSummary.client_id, ClientSummary.ratings_count)).all()
    assert sorted(counts) == sorted((client.id, 1) for client in clients)


def test_a_batch_that_fails_writes_nothing_and_fails_every_submission_in_it(
    db, monkeypatch
) -> None:
    client = make_client(db, signed_in(db))
    tokens = [make_session_with_link(db, client)[1] for _ in range(3)]
    real_queue = backend.flows.queue_rescore
    first_writing, release = threading.Event(), threading.Event()

    def fail_the_second_batch(session, client_ids):
        if not first_writing.is_set():
            first_writing.set()
            release.wait(10)
            return real_queue(session, client_ids)
        raise RuntimeError("injected failure while writing")

    monkeypatch.setattr(backend.flows, "queue_rescore", fail_the_second_batch)
    with ThreadPoolExecutor(max_workers=4) as pool:
        first = pool.submit(send, db, tokens[0])
        assert first_writing.wait(10)
        queued = [pool.submit(send, db, token) for token in tokens[1:]]
        wait_until(lambda: len(backend.flows._batches[db]._queue) == len(queued))
        release.set()
        assert first.result().created
        for future in queued:
            with pytest.raises(RuntimeError, match="injected"):
                future.result()

    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Rating)).one() == 1


def test_a_rating_the_database_refuses_costs_no_other_client_theirs(db, monkeypatch) -> None:
    """PostgreSQL cannot store NUL in text. The API refuses it (422) before this point;
    here one gets through anyway, queued with eleven good submissions in one batch."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL; only PostgreSQL refuses the row")
    therapist = signed_in(db)
    tokens = [make_session_with_link(db, make_client(db, therapist))[1] for _ in range(13)]
    real_queue = backend.flows.queue_rescore
    first_writing, release = threading.Event(), threading.Event()

    def queue_held_open(session, client_ids):
        if not first_writing.is_set():
            first_writing.set()
            release.wait(10)
        real_queue(session, client_ids)

    def send_nul(token: str):
        unstorable = RatingSubmission.model_construct(
            scores=alliance4(), comment="bad\x00comment", wants_to_talk=False
        )
        return submit_rating(db=db, token=token, submission=unstorable, idempotency_key=None)

    monkeypatch.setattr(backend.flows, "queue_rescore", queue_held_open)
    with ThreadPoolExecutor(max_workers=14) as pool:
        first = pool.submit(send, db, tokens[0])
        assert first_writing.wait(10)
        good = [pool.submit(send, db, token) for token in tokens[1:7]]
        bad = pool.submit(send_nul, tokens[7])
        good += [pool.submit(send, db, token) for token in tokens[8:]]
        wait_until(lambda: len(backend.flows._batches[db]._queue) == 12)
        release.set()
        assert all(future.result().created for future in [first, *good])
        with pytest.raises(DataError):
            bad.result()

    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Rating)).one() == 12
        assert len(session.exec(select(RescoreRequest.client_id)).all()) == 12
