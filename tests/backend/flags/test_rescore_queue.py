"""Scoring follows each answer right after the phone has it, and is never lost on the way."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import backend.flags.rescore_queue as rescore_queue
from backend.flags.models import ClientSummary, RescoreRequest
from backend.flags.rescore_queue import catch_up, queued_count, score_queued
from backend.flows import submit_rating
from backend.ratings.schemas import RatingSubmission
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def answer(db, client, scores: dict | None = None) -> None:
    """A recorded rating whose scoring is still queued, as a crash right after it leaves it."""
    _, token = make_session_with_link(db, client)
    submission = RatingSubmission(scores=scores or alliance4())
    assert submit_rating(db=db, token=token, submission=submission, idempotency_key=None).created


def ratings_counted(db) -> dict[int, int]:
    with db.reading() as session:
        return dict(
            session.exec(select(ClientSummary.client_id, ClientSummary.ratings_count)).all()
        )


def test_flags_follow_an_answer_and_nothing_stays_queued(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    for scores in (alliance4(9.6, 9.5, 9.4, 9.5),) * 4 + (alliance4(6.0, 7.0, 7.5, 7.0),):
        _, token = make_session_with_link(db, client)
        assert api.post(f"/api/public/ratings/{token}", json={"scores": scores}).status_code == 201
        assert queued_count(db) == 0

    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    assert {"below_personal_baseline", "below_cutoff"} <= {f["rule"] for f in flags}
    assert ratings_counted(db) == {client.id: 5}


def test_a_failed_scoring_pass_keeps_the_rating_and_the_next_pass_scores_it(
    api, db, monkeypatch, caplog
) -> None:
    therapist = signed_in(db)
    first, second = make_client(db, therapist), make_client(db, therapist)
    real_score = rescore_queue.score_clients

    def database_gone(*_args, **_kwargs):
        raise OperationalError("SELECT ...", {}, Exception("injected: database gone"))

    monkeypatch.setattr(rescore_queue, "score_clients", database_gone)
    _, token = make_session_with_link(db, first)
    with caplog.at_level(logging.WARNING):
        response = api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})

    assert response.status_code == 201  # the phone's answer does not depend on scoring
    assert queued_count(db) == 1
    warnings = [r.getMessage() for r in caplog.records if "Scoring" in r.getMessage()]
    assert warnings == [
        "Scoring queued ratings failed (OperationalError); they stay queued for the next pass."
    ]
    assert first.code not in caplog.text

    monkeypatch.setattr(rescore_queue, "score_clients", real_score)
    _, token = make_session_with_link(db, second)
    assert api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()}).status_code == 201
    assert queued_count(db) == 0
    assert ratings_counted(db) == {first.id: 1, second.id: 1}


def test_what_an_earlier_run_left_queued_is_scored_before_the_api_serves(db) -> None:
    from backend.main import app

    client = make_client(db, signed_in(db))
    answer(db, client)
    assert queued_count(db) == 1 and ratings_counted(db) == {}

    with TestClient(app):
        assert queued_count(db) == 0
        assert ratings_counted(db) == {client.id: 1}


def test_passes_running_at_once_score_every_client_and_leave_nothing_queued(db) -> None:
    therapist = signed_in(db)
    clients = [make_client(db, therapist) for _ in range(12)]
    for client in clients:
        for _ in range(2):
            answer(db, client)

    with ThreadPoolExecutor(max_workers=3) as pool:
        passes = list(pool.map(lambda _: score_queued(db, batch=4), range(3)))

    assert sum(p.scored for p in passes) == len(clients)  # each client scored by exactly one pass
    assert queued_count(db) == 0
    assert ratings_counted(db) == {client.id: 2 for client in clients}


def test_a_client_whose_scoring_fails_stays_queued_without_holding_up_the_rest(
    db, monkeypatch, caplog
) -> None:
    therapist = signed_in(db)
    clients = [make_client(db, therapist) for _ in range(5)]
    for client in clients:
        answer(db, client)
    troubled = clients[1].id
    real_score = rescore_queue.score_clients

    def trips_on_one_client(session, client_ids, **kwargs):
        if troubled in client_ids:
            raise ValueError("injected: a history scoring cannot handle")
        return real_score(session, client_ids, **kwargs)

    monkeypatch.setattr(rescore_queue, "score_clients", trips_on_one_client)
    with caplog.at_level(logging.WARNING):
        catch_up(db)

    assert ratings_counted(db) == {c.id: 1 for c in clients if c.id != troubled}
    with db.reading() as session:
        assert session.exec(select(RescoreRequest.client_id)).all() == [troubled]
    assert "Scoring failed for 1 client(s) (ValueError)" in caplog.text
    assert clients[1].code not in caplog.text


def test_an_answer_queued_during_a_pass_is_scored_before_the_passes_stop(db, held_pass) -> None:
    therapist = signed_in(db)
    early, late = make_client(db, therapist), make_client(db, therapist)
    answer(db, early)
    held_pass.start(db)

    def answer_then_catch_up() -> None:
        answer(db, late)
        catch_up(db)

    arriving = threading.Thread(target=answer_then_catch_up)
    arriving.start()
    held_pass.finish()
    arriving.join(10)

    assert queued_count(db) == 0
    assert ratings_counted(db) == {early.id: 1, late.id: 1}
    with db.reading() as session:
        assert session.exec(select(RescoreRequest)).all() == []


def test_a_newer_answer_for_a_client_being_scored_is_not_overwritten_by_the_older_score(
    db, monkeypatch
) -> None:
    client = make_client(db, signed_in(db))
    answer(db, client)
    real_score = rescore_queue.score_clients
    scoring, release = threading.Event(), threading.Event()

    def held_open(session, client_ids, **kwargs):
        scores = real_score(session, client_ids, **kwargs)  # sees the first answer only
        if not scoring.is_set():
            scoring.set()
            assert release.wait(10)
        return scores

    monkeypatch.setattr(rescore_queue, "score_clients", held_open)
    first_pass = ThreadPoolExecutor(max_workers=1).submit(score_queued, db)
    assert scoring.wait(10)
    answer(db, client)  # lands while the pass holds a score of the first answer alone
    release.set()

    assert first_pass.result(10).scored == 0  # the request it read is no longer current
    assert ratings_counted(db) == {}
    assert score_queued(db).scored == 1
    assert ratings_counted(db) == {client.id: 2}


def test_a_pass_that_falls_behind_another_worker_never_removes_a_newer_request(
    db, monkeypatch
) -> None:
    """Two workers' passes overlap: the slow one must not mistake a request written after
    the fast one finished for the one it read (this once happened with a counter)."""
    client = make_client(db, signed_in(db))
    answer(db, client)
    real_score = rescore_queue.score_clients
    slow_reading, release = threading.Event(), threading.Event()

    def slow_the_first(session, client_ids, **kwargs):
        scores = real_score(session, client_ids, **kwargs)
        if threading.current_thread().name == "slow worker":
            slow_reading.set()
            assert release.wait(10)
        return scores

    monkeypatch.setattr(rescore_queue, "score_clients", slow_the_first)
    slow = ThreadPoolExecutor(max_workers=1, thread_name_prefix="slow worker")
    slow_pass = slow.submit(lambda: _named("slow worker", score_queued, db))
    assert slow_reading.wait(10)
    assert score_queued(db).scored == 1  # the fast worker scores and removes the request
    answer(db, client)  # a new request for the same client
    release.set()

    assert slow_pass.result(10).scored == 0
    assert score_queued(db).scored == 1
    assert ratings_counted(db) == {client.id: 2}


def _named(name: str, function, *args):
    threading.current_thread().name = name
    return function(*args)
