"""The audit trail: every sign-in, read of clinical data, change and refusal, under a request id."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from backend.audit.models import AuditEvent
from tests.backend.factories import (
    PASSWORD,
    alliance4,
    make_client,
    make_session_with_link,
    make_user,
    signed_in,
)


def events(db) -> list[AuditEvent]:
    with db.reading() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


@contextmanager
def failing_inserts_into(db, table: str) -> Iterator[None]:
    """Every INSERT INTO ``table`` fails as if the database had gone away."""

    def fail(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            raise OperationalError(statement, {}, Exception("injected fault"))

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)


def test_a_request_id_is_echoed_or_generated(api, db) -> None:
    assert (
        api.get("/health/live", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = api.get("/health/live").headers["X-Request-ID"]
    assert len(generated) == 32
    # Anything that is not a plain identifier is replaced, not echoed into logs.
    assert (
        api.get("/health/live", headers={"X-Request-ID": "a b<script>"}).headers["X-Request-ID"]
        != "a b<script>"
    )


def test_sign_ins_are_audited_without_the_email_or_password(api, db) -> None:
    user = make_user(db)
    assert (
        api.post("/api/auth/login", json={"email": user.email, "password": "wrong" * 3}).status_code
        == 401
    )
    assert (
        api.post("/api/auth/login", json={"email": user.email, "password": PASSWORD}).status_code
        == 200
    )
    failed, allowed = events(db)
    assert (failed.action, failed.outcome, failed.subject_user_id) == ("sign_in", "failed", user.id)
    assert (allowed.action, allowed.outcome, allowed.actor_id) == ("sign_in", "allowed", user.id)
    assert allowed.actor_role == "therapist"
    for row in (failed, allowed):
        assert user.email not in str(row.model_dump())
        assert PASSWORD not in str(row.model_dump())


def test_reading_a_clients_ratings_is_audited_under_the_request_id(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    response = api.get(
        f"/api/clients/{client.code}/ratings", headers={**me.headers, "X-Request-ID": "req-42"}
    )
    assert response.status_code == 200
    [row] = events(db)
    assert (row.actor_id, row.action, row.outcome) == (me.id, "read_ratings", "allowed")
    assert (row.client_code, row.request_id, row.subject_user_id) == (client.code, "req-42", me.id)


def test_each_kind_of_clinical_read_is_audited(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    for path in ("", "/ratings", "/flags", "/episodes", "/sessions"):
        assert api.get(f"/api/clients/{client.code}{path}", headers=me.headers).status_code == 200
    assert api.get("/api/flags", headers=me.headers).status_code == 200
    assert [e.action for e in events(db)] == [
        "read_client",
        "read_ratings",
        "read_flags",
        "read_episodes",
        "read_sessions",
        "read_caseload_flags",
    ]


def test_the_caseload_and_team_overview_reads_are_audited(api, db) -> None:
    me = signed_in(db)
    supervisor = signed_in(db, role="supervisor")
    assert api.get("/api/caseload", headers=me.headers).status_code == 200
    assert api.get("/api/team/overview", headers=supervisor.headers).status_code == 200
    assert [(e.actor_id, e.action) for e in events(db)] == [
        (me.id, "read_caseload"),
        (supervisor.id, "read_team_overview"),
    ]


def test_another_therapists_client_is_a_denied_404_in_the_trail(api, db) -> None:
    me = signed_in(db)
    theirs = make_client(db, make_user(db, team="South"))
    assert api.get(f"/api/clients/{theirs.code}/ratings", headers=me.headers).status_code == 404
    [row] = events(db)
    assert (row.actor_id, row.action, row.outcome, row.client_code) == (
        me.id,
        "read_ratings",
        "denied",
        theirs.code,
    )


def test_a_refused_change_leaves_only_the_denial(api, db) -> None:
    supervisor = signed_in(db, role="supervisor")
    client = make_client(db, make_user(db))
    response = api.patch(
        f"/api/clients/{client.code}", json={"status": "discharged"}, headers=supervisor.headers
    )
    assert response.status_code == 403
    assert [(e.action, e.outcome) for e in events(db)] == [("update_client", "denied")]


def test_changes_are_audited_in_their_transaction(api, db) -> None:
    me = signed_in(db)
    created = api.post("/api/clients", json={}, headers=me.headers).json()
    code = created["code"]
    api.post(f"/api/clients/{code}/sessions", json={"held_on": "2026-11-20"}, headers=me.headers)
    api.post(f"/api/clients/{code}/sessions/1/link", json={}, headers=me.headers)
    api.patch(f"/api/clients/{code}", json={"status": "discharged"}, headers=me.headers)
    assert [(e.action, e.client_code, e.outcome) for e in events(db)] == [
        ("create_client", code, "allowed"),
        ("create_session", code, "allowed"),
        ("reissue_link", code, "allowed"),
        ("update_client", code, "allowed"),
    ]


def test_user_changes_are_audited(api, db) -> None:
    admin = signed_in(db, role="admin")
    therapist = make_user(db)
    api.patch(f"/api/users/{therapist.id}", json={"active": False}, headers=admin.headers)
    [row] = events(db)
    assert (row.action, row.actor_id, row.subject_user_id) == (
        "deactivate_user",
        admin.id,
        therapist.id,
    )


def test_no_clinical_data_is_served_when_the_audit_cannot_be_written(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    _, token = make_session_with_link(db, client)
    api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})
    with failing_inserts_into(db, "audit_event"):
        response = api.get(f"/api/clients/{client.code}/ratings", headers=me.headers)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "scores" not in response.text
    assert events(db) == []
    assert api.get(f"/api/clients/{client.code}/ratings", headers=me.headers).status_code == 200


def test_a_change_whose_audit_fails_is_not_made(api, db) -> None:
    me = signed_in(db)
    with failing_inserts_into(db, "audit_event"):
        assert api.post("/api/clients", json={}, headers=me.headers).status_code == 503
    assert api.get("/api/clients", headers=me.headers).json() == []


def test_admins_read_the_whole_trail_supervisors_their_team_therapists_nothing(api, db) -> None:
    admin = signed_in(db, role="admin")
    north_supervisor = signed_in(db, role="supervisor", team="North")
    north = signed_in(db, team="North")
    south = signed_in(db, team="South")
    north_client, south_client = make_client(db, north), make_client(db, south)
    api.get(f"/api/clients/{north_client.code}/ratings", headers=north.headers)
    api.get(f"/api/clients/{south_client.code}/ratings", headers=south.headers)

    everything = api.get("/api/audit", headers=admin.headers).json()
    assert {e["client_code"] for e in everything} == {north_client.code, south_client.code}
    team = api.get("/api/audit", headers=north_supervisor.headers).json()
    assert {e["client_code"] for e in team if e["action"] == "read_ratings"} == {north_client.code}
    assert api.get("/api/audit", headers=north.headers).status_code == 403

    only_south = api.get(
        "/api/audit", params={"client_code": south_client.code}, headers=admin.headers
    ).json()
    assert [e["actor_id"] for e in only_south] == [south.id]
    by_user = api.get("/api/audit", params={"user_id": north.id}, headers=admin.headers).json()
    assert {(e["action"], e["client_code"], e["outcome"]) for e in by_user} == {
        ("read_ratings", north_client.code, "allowed"),
        ("read_audit", None, "denied"),
    }


def test_the_trail_pages_backwards_by_id(api, db) -> None:
    admin = signed_in(db, role="admin")
    me = signed_in(db)
    client = make_client(db, me)
    for _ in range(5):
        api.get(f"/api/clients/{client.code}", headers=me.headers)
    first = api.get("/api/audit", params={"limit": 2}, headers=admin.headers).json()
    assert len(first) == 2 and first[0]["id"] > first[1]["id"]
    older = api.get(
        "/api/audit", params={"limit": 2, "before": first[-1]["id"]}, headers=admin.headers
    ).json()
    assert all(e["id"] < first[-1]["id"] for e in older)
