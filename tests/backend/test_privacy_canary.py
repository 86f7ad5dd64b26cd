"""A distinctive comment, token, email and password pushed through every flow never reach a log."""

from __future__ import annotations

import logging

from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.users.models import User
from tests.backend.factories import PASSWORD, alliance4, make_user

CANARY_EMAIL = "canary.zq7x@clinic.test"
CANARY_COMMENT = "CANARY-COMMENT-8f3a my therapist does not listen"
CANARY_PASSWORD = "canary password 4d2c never logged"


def _everything_logged(caplog) -> str:
    parts = []
    for record in caplog.records:
        if record.name.startswith(("httpx", "httpcore")):
            continue  # the test's own HTTP client, not the service
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(str(record.exc_text or ""))
    return "\n".join(parts)


def test_no_token_comment_email_or_password_reaches_any_log(api, db, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    make_user(db, email=CANARY_EMAIL)
    api.post("/api/auth/login", json={"email": CANARY_EMAIL, "password": CANARY_PASSWORD})
    signed = api.post("/api/auth/login", json={"email": CANARY_EMAIL, "password": PASSWORD})
    access_token = signed.json()["access_token"]
    headers = {"Authorization": f"Bearer {access_token}"}

    code = api.post("/api/clients", json={}, headers=headers).json()["code"]
    issued = api.post(
        f"/api/clients/{code}/sessions", json={"held_on": "2026-11-20"}, headers=headers
    ).json()
    link_token = issued["url"].rsplit("/", 1)[-1]
    api.get(f"/api/public/ratings/{link_token}")
    bad = {"scores": {"relationship": 99}, "comment": CANARY_COMMENT}
    api.post(f"/api/public/ratings/{link_token}", json=bad)
    good = {"scores": alliance4(relationship=2.0), "comment": CANARY_COMMENT, "wants_to_talk": True}
    assert api.post(f"/api/public/ratings/{link_token}", json=good).status_code == 201
    api.post(f"/api/public/ratings/{link_token}", json={**good, "comment": "different"})
    for path in ("ratings", "flags", "episodes", "sessions"):
        assert api.get(f"/api/clients/{code}/{path}", headers=headers).status_code == 200
    api.get("/api/flags", headers=headers)
    for export in ("export.fhir.json", "report.pdf?comments=true"):
        assert api.get(f"/api/clients/{code}/{export}", headers=headers).status_code == 200
    assert api.get("/api/caseload/export.csv", headers=headers).status_code == 200
    api.get(f"/api/public/ratings/{link_token}")  # used link: 410
    api.post("/api/auth/logout", headers=headers)
    api.get("/api/me", headers=headers)  # revoked token: 401

    logged = _everything_logged(caplog)
    with db.reading() as session:
        audited = str([e.model_dump() for e in session.exec(select(AuditEvent))])
        hashed = session.exec(select(User.password_hash)).first()
    for secret in (
        CANARY_EMAIL,
        CANARY_COMMENT,
        CANARY_PASSWORD,
        PASSWORD,
        access_token,
        link_token,
        hashed,
    ):
        assert secret not in logged
        assert secret not in audited
