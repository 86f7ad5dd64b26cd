"""Caseload scoping: someone else's client is a 404, exactly like one that does not exist."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from tests.backend.factories import make_client, make_session_with_link, make_user, signed_in

CLIENT_ROUTES = [
    ("get", "/api/clients/{code}", None),
    ("patch", "/api/clients/{code}", {"status": "discharged"}),
    ("get", "/api/clients/{code}/sessions", None),
    ("post", "/api/clients/{code}/sessions", {"held_on": "2026-11-20"}),
    ("post", "/api/clients/{code}/sessions/1/link", {}),
    ("get", "/api/clients/{code}/ratings", None),
]


def call(api, method: str, path: str, body, who, code: str):
    kwargs = {"headers": who.headers}
    if body is not None:
        kwargs["json"] = body
    return getattr(api, method)(path.format(code=code), **kwargs)


def test_a_therapist_creates_a_client_with_a_random_pseudonymous_code(api, db) -> None:
    me = signed_in(db)
    codes = {api.post("/api/clients", json={}, headers=me.headers).json()["code"] for _ in range(5)}
    assert len(codes) == 5
    assert all(re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code) for code in codes)


def test_the_client_list_comes_a_page_at_a_time_and_finds_codes_by_part(api, db) -> None:
    me = signed_in(db)
    codes = sorted(make_client(db, me).code for _ in range(5))
    page = api.get("/api/clients", params={"limit": 2, "offset": 1}, headers=me.headers).json()
    assert [c["code"] for c in page] == codes[1:3]
    assert page[0]["therapist_name"]  # the therapist's name comes with each row
    part = codes[3][2:7].lower()  # any part of a code, in any case
    found = api.get("/api/clients", params={"code": part}, headers=me.headers).json()
    assert codes[3] in [c["code"] for c in found]
    assert api.get("/api/clients", params={"code": "%"}, headers=me.headers).json() == []
    too_many = api.get("/api/clients", params={"limit": 1001}, headers=me.headers)
    assert too_many.status_code == 422 and too_many.json()["detail"]


def test_the_client_list_finds_a_code_typed_without_its_hyphen(api, db) -> None:
    me = signed_in(db)
    codes = sorted(make_client(db, me).code for _ in range(3))
    wanted = codes[1]
    for typed in (wanted.replace("-", "").lower(), wanted.replace("-", ""), wanted[2:7].lower()):
        found = api.get("/api/clients", params={"code": typed}, headers=me.headers).json()
        assert [c["code"] for c in found] == [wanted], typed


def test_a_therapist_lists_only_their_own_caseload(api, db) -> None:
    me, other = signed_in(db), signed_in(db)
    mine = make_client(db, me)
    make_client(db, other)
    listed = api.get("/api/clients", headers=me.headers).json()
    assert [c["code"] for c in listed] == [mine.code]


def test_a_therapist_cannot_put_a_client_on_someone_elses_caseload(api, db) -> None:
    me, other = signed_in(db), signed_in(db)
    response = api.post("/api/clients", json={"therapist_id": other.id}, headers=me.headers)
    assert response.status_code == 403


def test_unknown_fields_are_refused(api, db) -> None:
    me = signed_in(db)
    response = api.post("/api/clients", json={"name": "Jane Doe"}, headers=me.headers)
    assert response.status_code == 422
    assert "name" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), CLIENT_ROUTES)
def test_another_therapists_client_is_404_like_a_missing_one(api, db, method, path, body) -> None:
    me, other = signed_in(db), signed_in(db)
    theirs = make_client(db, other)
    make_session_with_link(db, theirs)
    foreign = call(api, method, path, body, me, theirs.code)
    missing = call(api, method, path, body, me, "ZZZZ-ZZZZ")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize(("method", "path", "body"), [r for r in CLIENT_ROUTES if r[0] == "get"])
def test_a_supervisor_reads_their_teams_clients_and_nothing_else(
    api, db, method, path, body
) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    in_team = make_client(db, signed_in(db, team="North"))
    outside = make_client(db, signed_in(db, team="South"))
    make_session_with_link(db, in_team)
    make_session_with_link(db, outside)
    assert call(api, method, path, body, supervisor, in_team.code).status_code == 200
    assert call(api, method, path, body, supervisor, outside.code).status_code == 404


def test_a_supervisors_caseload_list_is_their_team(api, db) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    in_team = make_client(db, signed_in(db, team="North"))
    make_client(db, signed_in(db, team="South"))
    assert [c["code"] for c in api.get("/api/clients", headers=supervisor.headers).json()] == [
        in_team.code
    ]


@pytest.mark.parametrize(("method", "path", "body"), [r for r in CLIENT_ROUTES if r[0] != "get"])
def test_a_supervisor_cannot_change_their_teams_clients(api, db, method, path, body) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    client = make_client(db, signed_in(db, team="North"))
    make_session_with_link(db, client)
    assert call(api, method, path, body, supervisor, client.code).status_code == 403


def test_a_therapist_discharges_and_reactivates_their_client(api, db) -> None:
    me = signed_in(db)
    client = make_client(db, me)
    path = f"/api/clients/{client.code}"
    assert (
        api.patch(path, json={"status": "discharged"}, headers=me.headers).json()["status"]
        == "discharged"
    )
    listed = api.get("/api/clients?status=active", headers=me.headers).json()
    assert listed == []
    assert (
        api.patch(path, json={"status": "active"}, headers=me.headers).json()["status"] == "active"
    )


def test_only_an_admin_reassigns_a_client(api, db) -> None:
    me, colleague, admin = signed_in(db), signed_in(db), signed_in(db, role="admin")
    client = make_client(db, me)
    path = f"/api/clients/{client.code}"
    assert (
        api.patch(path, json={"therapist_id": colleague.id}, headers=me.headers).status_code == 403
    )
    moved = api.patch(path, json={"therapist_id": colleague.id}, headers=admin.headers)
    assert moved.json()["therapist_id"] == colleague.id
    assert api.get(path, headers=me.headers).status_code == 404
    assert api.get(path, headers=colleague.headers).status_code == 200


def test_an_admin_creates_a_client_for_a_therapist(api, db) -> None:
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    response = api.post("/api/clients", json={"therapist_id": therapist.id}, headers=admin.headers)
    assert response.status_code == 201
    assert response.json()["therapist_id"] == therapist.id


def test_an_admin_must_name_an_existing_active_therapist(api, db) -> None:
    """What depends on data is 404 or 409; 422 is only for what the schema says."""
    admin, supervisor = signed_in(db, role="admin"), signed_in(db, role="supervisor")
    gone = make_user(db, active=False)
    for body, status in (
        ({}, 409),
        ({"therapist_id": 99999}, 404),
        ({"therapist_id": supervisor.id}, 404),
        ({"therapist_id": gone.id}, 409),
    ):
        response = api.post("/api/clients", json=body, headers=admin.headers)
        assert response.status_code == status, (body, response.text)
        assert response.json()["field"] == "therapist_id"


@pytest.mark.parametrize(
    ("therapist_id", "status"),
    [("integral float", 201), (1.5, 422), ("12", 422), (True, 422), (0, 422), (2**31, 422)],
)
def test_therapist_id_is_a_json_integer_whether_written_12_or_12_0(
    api, db, therapist_id, status
) -> None:
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    if therapist_id == "integral float":
        therapist_id = float(therapist.id)
    response = api.post("/api/clients", json={"therapist_id": therapist_id}, headers=admin.headers)
    assert response.status_code == status, response.text
    if status == 201:
        assert response.json()["therapist_id"] == therapist.id


def test_an_admin_manages_assignments_but_reads_no_ratings(api, db) -> None:
    admin = signed_in(db, role="admin")
    client = make_client(db, signed_in(db))
    assert api.get(f"/api/clients/{client.code}", headers=admin.headers).status_code == 200
    assert api.get(f"/api/clients/{client.code}/ratings", headers=admin.headers).status_code == 404


def test_a_supervisor_cannot_create_clients(api, db) -> None:
    supervisor = signed_in(db, role="supervisor")
    assert api.post("/api/clients", json={}, headers=supervisor.headers).status_code == 403


def _update_client_audit(db) -> list[str | None]:
    with db.reading() as session:
        return list(
            session.exec(
                select(AuditEvent.object_id).where(
                    AuditEvent.action == "update_client", AuditEvent.outcome == "allowed"
                )
            )
        )


def test_the_audit_trail_says_what_a_client_change_changed(api, db) -> None:
    therapist, colleague = signed_in(db), signed_in(db)
    admin = signed_in(db, role="admin")
    client = make_client(db, therapist)
    path = f"/api/clients/{client.code}"
    api.patch(path, json={"status": "discharged"}, headers=therapist.headers)
    api.patch(path, json={"therapist_id": colleague.id}, headers=admin.headers)
    api.patch(path, json={"therapist_id": therapist.id, "status": "active"}, headers=admin.headers)
    api.patch(path, json={"status": "active"}, headers=admin.headers)
    assert _update_client_audit(db) == [
        "status active -> discharged",
        f"therapist {therapist.id} -> {colleague.id}",
        f"therapist {colleague.id} -> {therapist.id}; status discharged -> active",
        "nothing changed",
    ]


def test_reassigning_a_discharged_client_leaves_them_discharged(api, db) -> None:
    therapist, colleague = signed_in(db), signed_in(db)
    admin = signed_in(db, role="admin")
    client = make_client(db, therapist)
    path = f"/api/clients/{client.code}"
    api.patch(path, json={"status": "discharged"}, headers=therapist.headers)
    moved = api.patch(path, json={"therapist_id": colleague.id}, headers=admin.headers).json()
    assert (moved["therapist_id"], moved["status"]) == (colleague.id, "discharged")
