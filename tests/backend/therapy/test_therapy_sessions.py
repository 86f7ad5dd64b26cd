"""Recording a session issues a one-time link; the token is shown once and stored hashed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from backend import clock
from backend.clock import today
from backend.config import get_settings
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def new_session(api, me, code: str, **body):
    return api.post(
        f"/api/clients/{code}/sessions", json={"held_on": "2026-11-20", **body}, headers=me.headers
    )


def token_of(url: str) -> str:
    return url.rsplit("/r/", 1)[1]


def test_recording_a_session_returns_the_link_once_with_a_qr_code(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    response = new_session(api, me, client.code)
    assert response.status_code == 201
    body = response.json()
    assert body["url"].startswith("http://127.0.0.1:8000/r/")
    assert len(token_of(body["url"])) >= 22  # >= 128 random bits
    assert body["qr_svg"].startswith("<svg")
    assert body["session"]["session_number"] == 1
    assert new_session(api, me, client.code).json()["session"]["session_number"] == 2


def test_the_plaintext_token_never_reaches_the_database(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    token = token_of(new_session(api, me, client.code).json()["url"])
    with db.engine.connect() as connection:
        for table in ("rating_link", "therapy_session"):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            assert token not in repr(rows)


def test_an_unknown_instrument_is_422_naming_the_choices(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    response = new_session(api, me, client.code, instrument="srs")
    assert response.status_code == 422
    assert "alliance4" in response.json()["detail"]


def test_a_date_not_written_yyyy_mm_dd_is_422(api, db) -> None:
    """Found by schemathesis from outside: 0 and "0" were taken as 1 January 1970."""
    me = signed_in(db)
    client = make_client(db, me)
    for held_on in ("yesterday", 0, "0", 1_700_000_000, "2026-11-20T10:00:00"):
        assert new_session(api, me, client.code, held_on=held_on).status_code == 422, held_on


def test_sessions_of_a_discharged_client_are_refused(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me, status="discharged")
    assert new_session(api, me, client.code).status_code == 409


def test_a_new_link_invalidates_the_old_one(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    old = token_of(new_session(api, me, client.code).json()["url"])
    reissued = api.post(
        f"/api/clients/{client.code}/sessions/1/link", json={"language": "es"}, headers=me.headers
    )
    assert reissued.status_code == 201
    assert reissued.json()["language"] == "es"
    assert api.get(f"/api/public/ratings/{old}").status_code == 404
    assert api.get(f"/api/public/ratings/{token_of(reissued.json()['url'])}").status_code == 200


def test_no_new_link_for_a_rated_session(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    _, token = make_session_with_link(db, client)
    api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})
    response = api.post(f"/api/clients/{client.code}/sessions/1/link", json={}, headers=me.headers)
    assert response.status_code == 409


def test_a_new_link_for_a_missing_session_is_404(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    assert (
        api.post(
            f"/api/clients/{client.code}/sessions/7/link", json={}, headers=me.headers
        ).status_code
        == 404
    )


def test_sessions_list_shows_which_were_rated(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    _, token = make_session_with_link(db, client)
    make_session_with_link(db, client)
    api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})
    listed = api.get(f"/api/clients/{client.code}/sessions", headers=me.headers).json()
    assert [s["rated"] for s in listed] == [True, False]


def test_ratings_of_a_client_in_session_order(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    _, first = make_session_with_link(db, client)
    _, second = make_session_with_link(db, client)
    api.post(
        f"/api/public/ratings/{second}",
        json={"scores": alliance4(overall=5), "comment": "Felt rushed."},
    )
    api.post(f"/api/public/ratings/{first}", json={"scores": alliance4(), "wants_to_talk": True})
    ratings = api.get(f"/api/clients/{client.code}/ratings", headers=me.headers).json()
    assert [r["session_number"] for r in ratings] == [1, 2]
    assert ratings[0]["wants_to_talk"] is True
    assert ratings[1]["comment"] == "Felt rushed."
    assert ratings[1]["total"] == 32.7


def _clinic_at(monkeypatch, moment: datetime, time_zone: str) -> None:
    """The clock reads ``moment`` and the clinic keeps ``time_zone``, for this test only."""
    from backend.main import app

    monkeypatch.setattr(clock, "utcnow", lambda: moment)
    settings = get_settings().model_copy(update={"clinic_time_zone": time_zone})
    monkeypatch.setattr(app, "dependency_overrides", {get_settings: lambda: settings})


EVENING_IN_UTC = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # already 2 December in Sydney


@pytest.mark.parametrize(
    ("time_zone", "held_on", "status"),
    [
        ("UTC", "2026-12-01", 201),
        ("UTC", "2026-12-02", 422),
        ("Australia/Sydney", "2026-12-02", 201),
        ("Australia/Sydney", "2026-12-03", 422),
        ("America/Denver", "2026-12-01", 201),
    ],
)
def test_a_session_is_dated_no_later_than_today_where_the_clinic_is(
    api, db, monkeypatch, time_zone: str, held_on: str, status: int
) -> None:
    _clinic_at(monkeypatch, EVENING_IN_UTC, time_zone)
    me = signed_in(db)
    client = make_client(db, me)
    response = new_session(api, me, client.code, held_on=held_on)
    assert response.status_code == status, response.text
    if status == 422:
        clinic_today = date.fromisoformat(held_on) - timedelta(days=1)
        assert response.json()["detail"] == (
            f"A session cannot be dated after today ({clinic_today}); check the date."
        )
        assert response.json()["errors"][0]["field"] == "held_on"


def test_a_session_dated_before_the_clients_latest_is_refused(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    latest = today() - timedelta(days=3)
    assert new_session(api, me, client.code, held_on=latest.isoformat()).status_code == 201
    earlier = new_session(api, me, client.code, held_on=(latest - timedelta(1)).isoformat())
    assert earlier.status_code == 422
    assert earlier.json()["detail"] == (
        f"This client's latest session is dated {latest.isoformat()}; "
        "a new session cannot be dated earlier."
    )
    same_day = new_session(api, me, client.code, held_on=latest.isoformat())
    assert same_day.status_code == 201  # a second session on one day is allowed
    sessions = api.get(f"/api/clients/{client.code}/sessions", headers=me.headers).json()
    assert [s["held_on"] for s in sessions] == [latest.isoformat()] * 2


def test_the_client_page_gives_the_dates_a_new_session_may_take(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    page = api.get(f"/api/clients/{client.code}/page", headers=me.headers).json()
    assert page["new_session_dates"] == {"earliest": None, "latest": today().isoformat()}
    new_session(api, me, client.code, held_on="2026-11-20")
    page = api.get(f"/api/clients/{client.code}/page", headers=me.headers).json()
    assert page["new_session_dates"]["earliest"] == "2026-11-20"
