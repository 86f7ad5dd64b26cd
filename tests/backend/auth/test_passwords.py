"""A signed-in password change, and the one-time reset code an administrator issues."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.auth import passwords
from backend.users.models import User
from tests.backend.auth.test_abuse_limits import _CHEAP, cheap_user
from tests.backend.factories import PASSWORD, make_user, sign_in_as, signed_in

NEW_PASSWORD = "plum anvil sorrow seven"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch) -> None:
    """Every test here hashes and verifies several times; argon2's cost is tested elsewhere."""
    monkeypatch.setattr(passwords, "_hasher", _CHEAP)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", _CHEAP.hash("dummy"))


def sign_in(api, email: str, password: str):
    return api.post("/api/auth/login", json={"email": email, "password": password})


def change(api, who, current: str, new: str = NEW_PASSWORD):
    body = {"current_password": current, "new_password": new}
    return api.post("/api/me/password", json=body, headers=who.headers)


def test_a_signed_in_user_changes_their_password_and_their_other_sessions_end(api, db) -> None:
    user = make_user(db)
    here, elsewhere = sign_in_as(db, user), sign_in_as(db, user)
    assert change(api, here, PASSWORD).status_code == 204
    assert api.get("/api/me", headers=here.headers).status_code == 200
    assert api.get("/api/me", headers=elsewhere.headers).status_code == 401
    assert sign_in(api, user.email, PASSWORD).status_code == 401
    assert sign_in(api, user.email, NEW_PASSWORD).status_code == 200


def test_a_change_needs_the_current_password_and_a_new_one_the_policy_accepts(api, db) -> None:
    me = signed_in(db)
    wrong = change(api, me, "not my password")
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    weak = change(api, me, PASSWORD, new="a" * 16)
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    with db.reading() as session:
        failed = session.exec(
            select(AuditEvent.outcome).where(AuditEvent.action == "change_password")
        ).all()
    assert failed == ["failed"]


def test_wrong_current_passwords_count_like_wrong_sign_ins(api, db) -> None:
    me = sign_in_as(db, cheap_user(db))
    answers = [change(api, me, "not my password").status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]


def issue_reset(api, admin, user_id: int):
    return api.post(f"/api/users/{user_id}/password-reset", headers=admin.headers)


def redeem(api, email: str, code: str, new: str = NEW_PASSWORD):
    body = {"email": email, "reset_code": code, "new_password": new}
    return api.post("/api/auth/password-reset", json=body)


def test_an_admin_issues_a_one_time_reset_code(api, db) -> None:
    admin, user = signed_in(db, role="admin"), make_user(db)
    session_before = sign_in_as(db, user)
    issued = issue_reset(api, admin, user.id)
    assert issued.status_code == 201
    code = issued.json()["reset_code"]
    assert api.get("/api/me", headers=session_before.headers).status_code == 401
    with db.reading() as session:
        stored = session.get(User, user.id)
    assert code not in (stored.password_reset_hash or "")  # only its hash is kept

    assert redeem(api, user.email, code + "x").status_code == 401
    assert redeem(api, user.email, code, new="a" * 16).status_code == 422
    assert redeem(api, user.email, code).status_code == 204
    assert sign_in(api, user.email, NEW_PASSWORD).status_code == 200
    assert redeem(api, user.email, code, new="another fine phrase 42").status_code == 401


def test_a_reset_code_expires(api, db) -> None:
    admin, user = signed_in(db, role="admin"), make_user(db)
    code = issue_reset(api, admin, user.id).json()["reset_code"]
    with db.writing() as session:
        row = session.get(User, user.id)
        row.password_reset_expires_at -= timedelta(hours=25)
        session.add(row)
    assert redeem(api, user.email, code).status_code == 401
    assert sign_in(api, user.email, PASSWORD).status_code == 200
