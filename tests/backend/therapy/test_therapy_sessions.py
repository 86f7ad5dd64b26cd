"""Recording a session issues a one-time link; the token is shown once and stored hashed."""

from __future__ import annotations

from sqlalchemy import text

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
