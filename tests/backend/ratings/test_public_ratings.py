"""The client's link: one rating per session, retries are safe, nothing is half-written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, text
from sqlmodel import select

import backend.flows
from backend.clock import utcnow
from backend.ratings.models import Rating
from backend.therapy.models import RatingLink
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


@pytest.fixture
def link(db) -> str:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client)
    return token


def submit(api, token: str, body: dict | None = None, **headers):
    return api.post(
        f"/api/public/ratings/{token}", json=body or {"scores": alliance4()}, headers=headers
    )


def rating_count(db) -> int:
    with db.reading() as session:
        return session.exec(select(func.count()).select_from(Rating)).one()


def expire(db) -> None:
    with db.writing() as session:
        for row in session.exec(select(RatingLink)).all():
            row.expires_at = utcnow() - timedelta(minutes=1)
            session.add(row)


def test_the_form_describes_the_instrument_and_nothing_about_the_client(api, db, link) -> None:
    body = api.get(f"/api/public/ratings/{link}").json()
    assert body["state"] == "open"
    assert [i["key"] for i in body["instrument"]["items"]] == [
        "relationship",
        "goals",
        "approach",
        "overall",
    ]
    assert (body["instrument"]["item_min"], body["instrument"]["item_max"]) == (0, 10)
    assert not {"client", "code", "therapist", "client_code"} & set(body)


def test_the_form_speaks_the_links_language(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, language="es", instrument="wai12")
    body = api.get(f"/api/public/ratings/{token}").json()
    assert body["language"] == "es"
    assert body["instrument"]["choices"][0] == "Rara vez"
    assert len(body["instrument"]["items"]) == 12


def test_an_unknown_token_is_404_saying_nothing_more(api, db) -> None:
    for token in ("x" * 43, "short"):
        response = api.get(f"/api/public/ratings/{token}")
        assert response.status_code == 404
        assert response.json() == {"detail": "This link is not valid."}
    assert submit(api, "y" * 43).status_code == 404


def test_first_submission_is_201_and_marks_the_link_used(api, db, link) -> None:
    response = submit(api, link)
    assert response.status_code == 201
    assert rating_count(db) == 1
    used = api.get(f"/api/public/ratings/{link}")
    assert used.status_code == 410
    assert used.json()["state"] == "used"


def test_an_expired_link_is_410_expired_for_both_reading_and_submitting(api, db, link) -> None:
    expire(db)
    for response in (api.get(f"/api/public/ratings/{link}"), submit(api, link)):
        assert response.status_code == 410
        assert response.json()["state"] == "expired"
    assert rating_count(db) == 0


def test_a_retry_with_the_same_idempotency_key_returns_the_original(api, db, link) -> None:
    first = submit(api, link, **{"Idempotency-Key": "abc-123"})
    again = submit(api, link, **{"Idempotency-Key": "abc-123"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert rating_count(db) == 1


def test_a_retry_of_the_same_body_without_a_key_returns_the_original(api, db, link) -> None:
    body = {"scores": alliance4(), "comment": "Good today.", "wants_to_talk": False}
    first, again = submit(api, link, body), submit(api, link, body)
    assert again.status_code == 200
    assert again.json()["rating_id"] == first.json()["rating_id"]
    assert rating_count(db) == 1


def test_a_retry_after_the_link_expired_still_returns_the_original(api, db, link) -> None:
    first = submit(api, link)
    expire(db)
    assert submit(api, link).json() == first.json()


def test_different_answers_on_a_used_link_are_409(api, db, link) -> None:
    submit(api, link)
    response = submit(api, link, {"scores": alliance4(overall=2.0)})
    assert response.status_code == 409
    assert rating_count(db) == 1


@pytest.mark.parametrize(
    ("scores", "item"),
    [
        ({**alliance4(), "overall": 10.5}, "overall"),
        ({**alliance4(), "goals": -1}, "goals"),
        ({**alliance4(), "approach": 7.25}, "approach"),
        ({k: v for k, v in alliance4().items() if k != "relationship"}, "relationship"),
        ({**alliance4(), "mood": 5}, "mood"),
    ],
)
def test_bad_scores_are_422_naming_the_item_and_write_nothing(api, db, link, scores, item) -> None:
    response = submit(api, link, {"scores": scores})
    assert response.status_code == 422
    assert response.json()["item"] == item
    assert item in response.json()["detail"]
    assert rating_count(db) == 0
    assert api.get(f"/api/public/ratings/{link}").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"scores": alliance4(), "comment": "x" * 1001},
        {"scores": alliance4(), "therapist_id": 1},
        {"scores": {"overall": "ten"}},
        {"scores": alliance4(), "wants_to_talk": "maybe"},
    ],
)
def test_malformed_bodies_are_422(api, db, link, body) -> None:
    response = submit(api, link, body)
    assert response.status_code == 422
    assert response.json()["detail"]
    assert rating_count(db) == 0


def test_the_values_are_stored_as_sent(api, db, link) -> None:
    submit(
        api,
        link,
        {"scores": alliance4(7.5, 8, 9, 10), "comment": " Felt heard. ", "wants_to_talk": True},
    )
    with db.reading() as session:
        rating = session.exec(select(Rating)).one()
    assert rating.scores == {"relationship": 7.5, "goals": 8.0, "approach": 9.0, "overall": 10.0}
    assert (rating.total, rating.comment, rating.wants_to_talk) == (34.5, "Felt heard.", True)


def test_twenty_concurrent_identical_submissions_make_one_rating(api, db, link) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: submit(api, link), range(20)))
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["rating_id"] for r in responses}) == 1
    assert rating_count(db) == 1


def test_a_failure_just_before_commit_leaves_no_rating_and_the_link_usable(
    api, db, link, monkeypatch
) -> None:
    real = backend.flows.record_rating

    def record_then_fail(**kwargs):
        real(**kwargs)
        raise RuntimeError("injected failure before commit")

    monkeypatch.setattr(backend.flows, "record_rating", record_then_fail)
    assert submit(api, link).status_code == 500
    assert rating_count(db) == 0
    monkeypatch.setattr(backend.flows, "record_rating", real)
    assert api.get(f"/api/public/ratings/{link}").status_code == 200
    assert submit(api, link).status_code == 201


def test_an_unexpected_error_is_a_plain_500_with_headers_and_request_id(
    api, db, link, monkeypatch, caplog
) -> None:
    def fail(**_kwargs):
        raise RuntimeError(f"boom with {link}")

    monkeypatch.setattr(backend.flows, "record_rating", fail)
    response = submit(api, link)
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side."}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Request-ID"]
    assert "RuntimeError" in caplog.text
    assert link not in caplog.text


def test_a_database_error_is_503_with_retry_after(api, db, link, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    def unavailable(**_kwargs):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(backend.flows, "record_rating", unavailable)
    response = submit(api, link)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "Traceback" not in response.text
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM rating")).scalar() == 0


def test_the_receipt_id_says_nothing_about_how_many_ratings_exist(api, db) -> None:
    from tests.backend.factories import make_client, make_session_with_link, signed_in

    client = make_client(db, signed_in(db))
    receipts = []
    for _ in range(3):
        _, token = make_session_with_link(db, client)
        answer = api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})
        receipts.append(answer.json()["rating_id"])
    assert len(set(receipts)) == 3
    for receipt in receipts:
        assert len(receipt) == 32 and not receipt.isdigit()
        assert receipt not in {"1", "2", "3"}
