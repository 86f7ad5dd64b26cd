"""Sign-in throttling, password rules, argon2 parameters, body size cap, security headers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.auth import passwords, service
from backend.auth.service import THROTTLE_WINDOW
from backend.clock import utcnow
from backend.users.models import User
from tests.backend.factories import PASSWORD, make_user, signed_in


def login(api, email: str, password: str = PASSWORD):
    # TestClient always reports the client address "testclient".
    return api.post("/api/auth/login", json={"email": email, "password": password})


_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP_HASH = _CHEAP.hash(PASSWORD)


@pytest.fixture
def cheap_argon2(monkeypatch) -> None:
    """Throttling tests sign in dozens of times; argon2's real cost is tested separately."""
    monkeypatch.setattr(passwords, "_hasher", _CHEAP)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", _CHEAP.hash("dummy"))


def cheap_user(db) -> User:
    user = make_user(db)
    with db.writing() as session:
        row = session.get(User, user.id)
        row.password_hash = _CHEAP_HASH
        session.add(row)
    return user


def test_five_failures_lock_the_account_even_for_the_right_password(api, db, cheap_argon2) -> None:
    user = cheap_user(db)
    for _ in range(5):
        assert login(api, user.email, "wrong password!!").status_code == 401
    locked = login(api, user.email)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) == int(THROTTLE_WINDOW.total_seconds())
    with db.reading() as session:
        outcomes = session.exec(select(AuditEvent.outcome).order_by(AuditEvent.id)).all()
    assert outcomes == ["failed"] * 5 + ["denied"]


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(api, db, cheap_argon2) -> None:
    known = cheap_user(db)
    for email in (known.email, "nobody@clinic.test"):
        answers = [login(api, email, "wrong password!!").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]


def test_the_lock_lifts_after_15_minutes(api, db, cheap_argon2) -> None:
    user = cheap_user(db)
    for _ in range(5):
        login(api, user.email, "wrong password!!")
    with db.writing() as session:
        for row in session.exec(select(AuditEvent)):
            row.at = utcnow() - THROTTLE_WINDOW - timedelta(seconds=1)
            session.add(row)
    assert login(api, user.email).status_code == 200


def test_a_successful_sign_in_resets_the_account_count(api, db, cheap_argon2) -> None:
    user = cheap_user(db)
    for _ in range(4):
        login(api, user.email, "wrong password!!")
    assert login(api, user.email).status_code == 200
    for _ in range(4):
        assert login(api, user.email, "wrong password!!").status_code == 401
    assert login(api, user.email).status_code == 200


def test_twenty_failures_from_one_address_block_it_for_every_account(api, db, cheap_argon2) -> None:
    users = [cheap_user(db) for _ in range(5)]
    for user in users:
        for _ in range(4):
            assert login(api, user.email, "wrong password!!").status_code == 401
    fresh = cheap_user(db)
    assert login(api, fresh.email).status_code == 429


def test_other_writes_go_ahead_while_a_password_is_checked(api, db, monkeypatch) -> None:
    """argon2id takes about 0.2 s; on SQLite, checking it inside a write transaction would
    hold the database's only write lock, and every rating would wait behind each sign-in."""
    user = make_user(db)
    checking = service.verify_password
    blocked_writes = []

    def verify_while_someone_writes(password_hash: str | None, password: str) -> bool:
        other_writer = threading.Thread(target=make_user, args=(db,))
        other_writer.start()
        other_writer.join(timeout=5)
        blocked_writes.append(other_writer.is_alive())
        return checking(password_hash, password)

    monkeypatch.setattr(service, "verify_password", verify_while_someone_writes)
    assert login(api, user.email).status_code == 200
    assert blocked_writes == [False]


def test_attempts_checked_at_the_same_moment_are_all_counted(
    api, db, cheap_argon2, monkeypatch
) -> None:
    """Four attempts all read four earlier failures before their password checks; the
    count is taken again as each is recorded, so only the first of them is let through."""
    user = cheap_user(db)
    for _ in range(4):
        login(api, user.email, "wrong password!!")
    checking = service.verify_password
    all_checking = threading.Barrier(4, timeout=10)

    def verify_together(password_hash: str | None, password: str) -> bool:
        all_checking.wait()
        return checking(password_hash, password)

    monkeypatch.setattr(service, "verify_password", verify_together)
    with ThreadPoolExecutor(max_workers=4) as attempts:
        answers = list(
            attempts.map(lambda _: login(api, user.email, "wrong password!!").status_code, range(4))
        )
    assert sorted(answers) == [401, 429, 429, 429]


def test_argon2id_parameters_are_at_or_above_owasps_floor() -> None:
    hasher = passwords._hasher
    assert hasher.type is Type.ID
    assert hasher.memory_cost >= 19 * 1024  # KiB
    assert hasher.time_cost >= 2
    assert hasher.parallelism >= 1


def test_a_hash_with_old_parameters_is_upgraded_at_sign_in(api, db) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = make_user(db)
    with db.writing() as session:
        row = session.get(User, user.id)
        row.password_hash = weak
        session.add(row)
    assert passwords.needs_rehash(weak)
    assert login(api, user.email).status_code == 200
    with db.reading() as session:
        upgraded = session.get(User, user.id).password_hash
    assert upgraded != weak and not passwords.needs_rehash(upgraded)
    assert passwords.verify_password(upgraded, PASSWORD)


@pytest.mark.parametrize(
    ("password", "refused"),
    [
        ("short phrase", False),  # exactly 12
        ("eleven char", True),
        ("qwerty123456", True),  # in the common-password list
        ("1qaz2wsx3edc", True),
        ("LeaveMeAlone", True),  # common, whatever the case
        ("therapist123", True),
        ("lowercase only is fine here", False),  # no composition rules
    ],
)
def test_passwords_are_checked_for_length_and_commonness_only(password, refused) -> None:
    assert (passwords.password_problem(password) is not None) is refused


def test_the_common_password_list_is_substantial() -> None:
    assert len(passwords._COMMON_PASSWORDS) >= 10_000


def test_a_body_over_64_kib_is_413_with_a_json_detail(api, db) -> None:
    big = b'{"email": "' + b"a" * (64 * 1024) + b'", "password": "x"}'
    response = api.post(
        "/api/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "64 KiB" in response.json()["detail"]


def test_a_streamed_body_over_64_kib_is_413(api, db) -> None:
    def chunks():
        for _ in range(80):
            yield b"a" * 1024

    response = api.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"]


def test_a_body_just_under_the_limit_is_parsed(api, db) -> None:
    body = b'{"email": "' + b"a" * (60 * 1024) + b'", "password": "x"}'
    response = api.post(
        "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422  # reached validation: email too long


def test_api_responses_carry_the_security_headers(api, db) -> None:
    me = signed_in(db)
    for response in (
        api.get("/api/me", headers=me.headers),
        api.get("/api/me"),
        api.get("/api/public/ratings/not-a-token"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'none'; frame-ancestors 'none'"
        )
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_is_sent_when_served_over_https(db) -> None:
    from fastapi.testclient import TestClient

    from backend.config import get_settings
    from backend.main import create_app

    get_settings.cache_clear()
    try:
        import os

        os.environ["RAPPORT_HTTPS"] = "true"
        with TestClient(create_app()) as client:
            response = client.get("/health/live")
    finally:
        os.environ.pop("RAPPORT_HTTPS", None)
        get_settings.cache_clear()
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_docs_are_not_served_in_production(db, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from backend.config import get_settings
    from backend.main import create_app

    monkeypatch.setenv("RAPPORT_MODE", "production")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            assert client.get("/openapi.json").status_code == 404
            assert client.get("/docs").status_code == 404
    finally:
        monkeypatch.setenv("RAPPORT_MODE", "dev")
        get_settings.cache_clear()
