"""Sign-in throttling, password rules, argon2 parameters, body size cap, security headers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.auth import passwords, service
from backend.auth.browser_address import HEADER, signed_browser_address
from backend.auth.service import account_delay
from backend.config import get_settings
from backend.users.models import User
from tests.backend.factories import PASSWORD, make_user, signed_in


def login(api, email: str, password: str = PASSWORD, *, browser: str | None = None, key=None):
    """Sign in directly (TestClient's address is "testclient") or, with ``browser``, as the
    dashboard does for a browser at that address."""
    headers = {}
    if browser is not None:
        signed = signed_browser_address(
            key=key or get_settings().dashboard_key, address=browser, now=time.time()
        )
        headers[HEADER] = signed
    return api.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


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


def time_passes(db, seconds: float) -> None:
    """Move every audited sign-in back in time, as if ``seconds`` had gone by."""
    with db.writing() as session:
        for row in session.exec(select(AuditEvent)):
            row.at = row.at - timedelta(seconds=seconds)
            session.add(row)


def audited(db) -> list[tuple[str, str | None]]:
    with db.reading() as session:
        rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    return [(row.outcome, row.address) for row in rows]


def test_after_five_failures_even_the_right_password_waits_15_seconds(
    api, db, cheap_argon2
) -> None:
    user = cheap_user(db)
    for _ in range(5):
        assert login(api, user.email, "wrong password!!").status_code == 401
    waiting = login(api, user.email)
    assert waiting.status_code == 429
    assert 14 <= int(waiting.headers["Retry-After"]) <= 15
    assert (
        "wait 15 seconds" in waiting.json()["detail"]
        or "wait 14 seconds" in (waiting.json()["detail"])
    )
    assert [outcome for outcome, _ in audited(db)] == ["failed"] * 5 + ["denied"]
    time_passes(db, 16)
    assert login(api, user.email).status_code == 200


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (4, 0), (5, 15), (6, 30), (7, 60), (9, 240), (10, 300), (40, 300)],
)
def test_each_further_failure_doubles_the_wait_up_to_five_minutes(failures, seconds) -> None:
    assert account_delay(failures) == timedelta(seconds=seconds)


def test_attempts_made_while_waiting_are_refused_unchecked_and_do_not_lengthen_it(
    api, db, cheap_argon2
) -> None:
    user = cheap_user(db)
    for _ in range(5):
        login(api, user.email, "wrong password!!")
    for _ in range(20):
        assert login(api, user.email, "wrong password!!").status_code == 429
    time_passes(db, 16)
    assert login(api, user.email).status_code == 200


def test_an_unknown_email_is_throttled_exactly_like_a_known_one(api, db, cheap_argon2) -> None:
    known = cheap_user(db)
    for email in (known.email, "nobody@clinic.test"):
        answers = [login(api, email, "wrong password!!").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]


def test_a_successful_sign_in_resets_the_account_count(api, db, cheap_argon2) -> None:
    user = cheap_user(db)
    for _ in range(4):
        login(api, user.email, "wrong password!!")
    assert login(api, user.email).status_code == 200
    for _ in range(4):
        assert login(api, user.email, "wrong password!!").status_code == 401
    assert login(api, user.email).status_code == 200


def test_a_stranger_cannot_keep_an_account_out_of_a_browser_it_signed_in_from(
    api, db, cheap_argon2
) -> None:
    owner = cheap_user(db)
    assert login(api, owner.email, browser="198.51.100.20").status_code == 200
    for _ in range(5):
        login(api, owner.email, "guess guess guess", browser="203.0.113.66")
    for wait in (16, 31):  # the stranger waits out each delay and fails again
        time_passes(db, wait)
        assert (
            login(api, owner.email, "guess guess guess", browser="203.0.113.66").status_code == 401
        )
    assert login(api, owner.email, "guess guess guess", browser="203.0.113.66").status_code == 429
    # From an address the account never used, the stranger's failures do slow it down...
    assert login(api, owner.email, browser="192.0.2.1").status_code == 429
    # ...but not where the owner signed in before.
    assert login(api, owner.email, browser="198.51.100.20").status_code == 200


def test_fifty_failures_with_rotating_emails_from_one_browser_leave_other_browsers_alone(
    api, db, cheap_argon2
) -> None:
    colleague = cheap_user(db)
    answers = [
        login(api, f"guess{n}@clinic.test", "wrong password!!", browser="203.0.113.7").status_code
        for n in range(50)
    ]
    assert answers == [401] * 20 + [429] * 30
    # Every one of those came through the same dashboard as the colleague's sign-in.
    assert login(api, colleague.email, browser="198.51.100.8").status_code == 200
    assert audited(db)[-1] == ("allowed", "198.51.100.8")
    assert {address for _, address in audited(db)[:-1]} == {"203.0.113.7"}


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            lambda: signed_browser_address(
                key="not-the-dashboard-key", address="198.51.100.9", now=time.time()
            ),
            id="wrong key",
        ),
        pytest.param(
            lambda: signed_browser_address(
                key=get_settings().dashboard_key, address="198.51.100.9", now=time.time() - 120
            ),
            id="stale",
        ),
        pytest.param(lambda: "198.51.100.9", id="unsigned"),
    ],
)
def test_a_browser_address_the_dashboard_did_not_sign_is_ignored(api, db, header) -> None:
    response = api.post(
        "/api/auth/login",
        json={"email": "nobody@clinic.test", "password": "wrong password!!"},
        headers={HEADER: header()},
    )
    assert response.status_code == 401
    assert audited(db) == [("failed", "testclient")]


def test_twenty_failures_from_one_address_block_it_for_every_account(api, db, cheap_argon2) -> None:
    users = [cheap_user(db) for _ in range(5)]
    for user in users:
        for _ in range(4):
            assert login(api, user.email, "wrong password!!").status_code == 401
    fresh = cheap_user(db)
    refused = login(api, fresh.email)
    assert refused.status_code == 429
    assert "from this address" in refused.json()["detail"]


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
        ("plum anvil 7", None),  # exactly 12
        ("eleven char", "at least 12"),
        ("qwerty123456", "too common"),  # in the common-password list
        ("1qaz2wsx3edc", "too common"),
        ("LeaveMeAlone", "too common"),  # common, whatever the case
        ("therapist123", "too common"),
        ("a" * 16, "repeats"),
        (" " * 12, "repeats"),
        ("abcabcabcabc", "repeats"),
        ("sam.lee@clinic.test", "your email address"),
        ("sam.lee is my name", "the first part of your email"),
        ("I am Sam Lee, hello", "your name"),
        ("Riverside2026", "your team's name"),
        ("Riverside 2026!", "your team's name"),
        ("password2026", "too"),
        ("Welcome2026!", "too easy to guess"),  # zxcvbn score 2
        ("Football2026", "too easy to guess"),  # zxcvbn score 1
        ("lowercase only is fine here", None),  # no composition rules
    ],
)
def test_a_new_password_is_long_unguessable_and_not_the_accounts_own_words(
    password, refused
) -> None:
    problem = passwords.password_problem(
        password, email="sam.lee@clinic.test", name="Sam Lee", team="Riverside"
    )
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem, problem


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
