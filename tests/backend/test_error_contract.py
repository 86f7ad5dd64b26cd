"""What schemathesis found (test_contract_fuzz.py), pinned down as plain examples."""

from __future__ import annotations

from tests.backend.factories import make_client, signed_in


def test_405_names_every_method_of_the_path(api, db) -> None:
    response = api.request("OPTIONS", "/api/users")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "POST"}


def test_a_flag_id_beyond_the_database_integer_is_422_not_500(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    response = api.post(
        f"/api/clients/{client.code}/flags/{2**63}/acknowledge",
        json={"action": "raised_in_session"},
        headers=therapist.headers,
    )
    assert response.status_code == 422


def test_a_body_that_is_not_utf8_json_is_a_422_like_any_invalid_request(api, db) -> None:
    admin = signed_in(db, role="admin")
    response = api.post(
        "/api/users",
        content=b"\xff\xfe not json",
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body is not valid JSON."}
    ]


def test_a_zero_is_not_false_when_deactivating_a_user(api, db) -> None:
    admin = signed_in(db, role="admin")
    therapist = signed_in(db)
    response = api.patch(f"/api/users/{therapist.id}", json={"active": 0}, headers=admin.headers)
    assert response.status_code == 422
    assert api.get("/api/me", headers=therapist.headers).status_code == 200


def test_a_therapist_id_given_as_a_string_is_refused(api, db) -> None:
    admin = signed_in(db, role="admin")
    therapist = signed_in(db)
    body = {"therapist_id": str(therapist.id)}
    assert api.post("/api/clients", json=body, headers=admin.headers).status_code == 422


def test_a_service_422_lists_its_field_like_a_validation_422(api, db) -> None:
    admin = signed_in(db, role="admin")
    body = {
        "email": "new.person@clinic.test",
        "display_name": "New Person",
        "role": "therapist",
        "team": "North",
        "password": "Football2026",  # long enough for the schema; the service refuses it
    }
    response = api.post("/api/users", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


def test_every_refusal_the_api_can_give_is_declared_in_its_schema(api, db) -> None:
    operations = api.get("/openapi.json").json()["paths"]
    me = operations["/api/me"]["get"]["responses"]
    public = operations["/api/public/ratings/{token}"]["post"]["responses"]
    assert {"401", "413", "503"} <= set(me)
    assert {"404", "409", "410", "422", "429"} <= set(public)
    assert "401" not in public
    assert me["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
