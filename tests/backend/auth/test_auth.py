"""Sign-in: opaque tokens stored as hashes, idle and absolute expiry, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.auth.models import AccessToken
from backend.clock import utcnow
from tests.backend.factories import PASSWORD, make_user, sign_in_as


def login(api, email: str, password: str = PASSWORD):
    return api.post("/api/auth/login", json={"email": email, "password": password})


def test_login_returns_a_bearer_token_and_the_user(api, db) -> None:
    user = make_user(db, role="therapist")
    response = login(api, user.email)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == user.email
    me = api.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["id"] == user.id


def test_the_token_is_stored_only_as_a_hash(api, db) -> None:
    user = make_user(db)
    token = login(api, user.email).json()["access_token"]
    with db.reading() as session:
        stored = session.exec(select(AccessToken.token_hash)).all()
    assert stored and token not in stored


def test_email_is_matched_case_insensitively(api, db) -> None:
    user = make_user(db)
    assert login(api, user.email.upper()).status_code == 200


@pytest.mark.parametrize("which", ["wrong password", "unknown email", "deactivated"])
def test_every_failed_login_gives_the_same_401(api, db, which: str) -> None:
    user = make_user(db, active=which != "deactivated")
    email = "nobody@clinic.test" if which == "unknown email" else user.email
    password = "not the password at all" if which == "wrong password" else PASSWORD
    response = login(api, email, password)
    assert response.status_code == 401
    assert response.json() == {"detail": "Email or password is incorrect."}


def test_logout_revokes_the_token(api, db) -> None:
    me = sign_in_as(db, make_user(db))
    assert api.post("/api/auth/logout", headers=me.headers).status_code == 204
    assert api.get("/api/me", headers=me.headers).status_code == 401


def _age_token(db, *, idle: timedelta = timedelta(0), expired: bool = False) -> None:
    with db.writing() as session:
        for token in session.exec(select(AccessToken)).all():
            token.last_used_at = utcnow() - idle
            if expired:
                token.expires_at = utcnow() - timedelta(seconds=1)
            session.add(token)


def test_a_token_idle_for_30_minutes_is_refused(api, db) -> None:
    me = sign_in_as(db, make_user(db))
    _age_token(db, idle=timedelta(minutes=30, seconds=1))
    assert api.get("/api/me", headers=me.headers).status_code == 401


def test_a_token_used_within_30_minutes_is_kept_alive(api, db) -> None:
    me = sign_in_as(db, make_user(db))
    _age_token(db, idle=timedelta(minutes=29))
    assert api.get("/api/me", headers=me.headers).status_code == 200
    with db.reading() as session:
        token = session.exec(select(AccessToken)).one()
    assert utcnow() - token.last_used_at < timedelta(minutes=1)


def test_a_token_past_its_absolute_lifetime_is_refused(api, db) -> None:
    me = sign_in_as(db, make_user(db))
    _age_token(db, expired=True)
    assert api.get("/api/me", headers=me.headers).status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer not-a-real-token", "Basic abc"])
def test_requests_without_a_valid_token_get_401(api, db, header) -> None:
    headers = {"Authorization": header} if header else {}
    response = api.get("/api/clients", headers=headers)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_login_with_a_malformed_body_is_422(api, db) -> None:
    response = api.post("/api/auth/login", json={"email": "a@b.c"})
    assert response.status_code == 422
    assert "password" in response.json()["detail"]
