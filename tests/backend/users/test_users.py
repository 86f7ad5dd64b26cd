"""Admins manage accounts; deactivation ends sessions at once."""

from __future__ import annotations

import pytest

from tests.backend.factories import make_user, sign_in_as, signed_in

NEW_USER = {
    "email": "new.therapist@clinic.test",
    "display_name": "New Therapist",
    "role": "therapist",
    "team": "South",
    "password": "a long enough passphrase",
}


def test_admin_creates_a_user_in_a_new_team(api, db) -> None:
    admin = signed_in(db, role="admin")
    response = api.post("/api/users", json=NEW_USER, headers=admin.headers)
    assert response.status_code == 201
    assert response.json()["team_name"] == "South"
    listed = api.get("/api/users", headers=admin.headers).json()
    assert NEW_USER["email"] in [u["email"] for u in listed]


def test_a_new_supervisor_oversees_their_team(api, db) -> None:
    admin = signed_in(db, role="admin")
    body = {**NEW_USER, "email": "sup@clinic.test", "role": "supervisor"}
    created = api.post("/api/users", json=body, headers=admin.headers).json()
    assert created["supervised_team_ids"] == [created["team_id"]]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"password": "short"}, 422, "password"),
        ({"password": "password1234"}, 422, "common"),
        ({"email": "not-an-email"}, 422, "email"),
        ({"role": "superuser"}, 422, "role"),
        ({"therapist_id": 3}, 422, "therapist_id"),
    ],
)
def test_invalid_new_users_are_refused_with_a_reason(api, db, change, status, field) -> None:
    admin = signed_in(db, role="admin")
    response = api.post("/api/users", json={**NEW_USER, **change}, headers=admin.headers)
    assert response.status_code == status
    assert field in response.text


def test_a_duplicate_email_is_409(api, db) -> None:
    admin = signed_in(db, role="admin")
    api.post("/api/users", json=NEW_USER, headers=admin.headers)
    assert api.post("/api/users", json=NEW_USER, headers=admin.headers).status_code == 409


@pytest.mark.parametrize("role", ["therapist", "supervisor"])
def test_only_admins_manage_users(api, db, role: str) -> None:
    someone = signed_in(db, role=role)
    assert api.get("/api/users", headers=someone.headers).status_code == 403
    assert api.post("/api/users", json=NEW_USER, headers=someone.headers).status_code == 403


def test_deactivating_a_user_ends_their_sessions_at_once(api, db) -> None:
    admin = signed_in(db, role="admin")
    therapist = sign_in_as(db, make_user(db))
    assert api.get("/api/me", headers=therapist.headers).status_code == 200
    response = api.patch(
        f"/api/users/{therapist.id}", json={"active": False}, headers=admin.headers
    )
    assert response.json()["active"] is False
    assert api.get("/api/me", headers=therapist.headers).status_code == 401


def test_changing_an_unknown_user_is_404(api, db) -> None:
    admin = signed_in(db, role="admin")
    assert (
        api.patch("/api/users/99999", json={"active": False}, headers=admin.headers).status_code
        == 404
    )


def test_a_supervisor_removed_from_a_team_reads_none_of_its_clients_at_once(api, db) -> None:
    from tests.backend.factories import make_client

    admin = signed_in(db, role="admin")
    supervisor = signed_in(db, role="supervisor", team="North")
    north_client = make_client(db, signed_in(db, team="North"))
    south_client = make_client(db, signed_in(db, team="South"))
    client_path = f"/api/clients/{north_client.code}"
    assert api.get(client_path, headers=supervisor.headers).status_code == 200

    moved = api.put(
        f"/api/users/{supervisor.id}/teams", json={"teams": ["South"]}, headers=admin.headers
    )
    assert moved.status_code == 200
    assert moved.json()["supervised_teams"] == ["South"]
    assert api.get(client_path, headers=supervisor.headers).status_code == 404  # same token
    south_path = f"/api/clients/{south_client.code}"
    assert api.get(south_path, headers=supervisor.headers).status_code == 200

    both = api.put(
        f"/api/users/{supervisor.id}/teams",
        json={"teams": ["North", "South"]},
        headers=admin.headers,
    )
    assert both.json()["supervised_teams"] == ["North", "South"]
    assert api.get(client_path, headers=supervisor.headers).status_code == 200


def test_moving_a_supervisor_to_another_team_stops_them_overseeing_the_old_one(api, db) -> None:
    from tests.backend.factories import make_client

    admin = signed_in(db, role="admin")
    supervisor = signed_in(db, role="supervisor", team="North")
    north_client = make_client(db, signed_in(db, team="North"))
    moved = api.patch(
        f"/api/users/{supervisor.id}", json={"team": "South"}, headers=admin.headers
    ).json()
    assert (moved["team_name"], moved["supervised_teams"]) == ("South", ["South"])
    path = f"/api/clients/{north_client.code}"
    assert api.get(path, headers=supervisor.headers).status_code == 404


def test_only_a_supervisor_has_teams_to_oversee(api, db) -> None:
    admin, therapist = signed_in(db, role="admin"), signed_in(db)
    refused = api.put(
        f"/api/users/{therapist.id}/teams", json={"teams": ["North"]}, headers=admin.headers
    )
    assert refused.status_code == 409
    assert "Only a supervisor" in refused.json()["detail"]


def test_the_last_active_admin_cannot_deactivate_themselves(api, db) -> None:
    admin = signed_in(db, role="admin")
    refused = api.patch(f"/api/users/{admin.id}", json={"active": False}, headers=admin.headers)
    assert refused.status_code == 409
    assert "last active administrator" in refused.json()["detail"]
    assert api.get("/api/me", headers=admin.headers).status_code == 200

    second = signed_in(db, role="admin")
    allowed = api.patch(f"/api/users/{admin.id}", json={"active": False}, headers=second.headers)
    assert allowed.status_code == 200
    refused = api.patch(f"/api/users/{second.id}", json={"active": False}, headers=second.headers)
    assert refused.status_code == 409
