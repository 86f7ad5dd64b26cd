"""The dashboard shares one HTTP client among all its users: it must hold nothing of theirs."""

from __future__ import annotations

import httpx

from dashboard import api


def test_the_shared_client_keeps_no_cookie_a_server_sets() -> None:
    request = httpx.Request("GET", f"{api.api_url()}/api/me")
    answered = httpx.Response(
        200, headers={"set-cookie": "session=someone-elses; Path=/"}, request=request
    )

    api._CLIENT.cookies.extract_cookies(answered)

    assert list(api._CLIENT.cookies.jar) == []


def test_the_shared_client_carries_no_token_of_its_own() -> None:
    assert "authorization" not in api._CLIENT.headers


def _refused(status: int, body: object) -> str:
    request = httpx.Request("POST", f"{api.api_url()}/api/users")
    return api._detail(httpx.Response(status, json=body, request=request))


def test_a_refused_shape_reads_as_what_to_type_instead() -> None:
    body = {
        "detail": "email: String should match pattern '^[^@\\s]+@[^@\\s]+$'; "
        "team: String should have at least 1 character",
        "errors": [
            {"field": "email", "message": "String should match pattern '^[^@\\s]+@[^@\\s]+$'"},
            {"field": "team", "message": "String should have at least 1 character"},
        ],
    }

    shown = _refused(422, body)

    assert shown == ("Enter a valid email address, such as name@clinic.example. Choose a team.")


def test_a_malformed_client_code_in_a_query_says_what_codes_look_like() -> None:
    message = "String should match pattern '^[A-Za-z0-9-]+$'"
    body = {
        "detail": f"query.client_code: {message}",
        "errors": [{"field": "query.client_code", "message": message}],
    }

    assert _refused(422, body) == "Client codes look like ABCD-EF12."


def test_an_unnamed_field_never_shows_a_pattern() -> None:
    message = "String should match pattern '^[a-z]+$'"
    body = {"detail": f"body.x_ray: {message}", "errors": [{"field": "x_ray", "message": message}]}

    assert _refused(422, body) == "X ray is not in the expected form."


def test_the_services_own_sentence_passes_through() -> None:
    detail = (
        "This client's latest session is dated 2026-11-20; a new session cannot be dated earlier."
    )
    body = {"detail": detail, "errors": [{"field": "held_on", "message": detail}]}

    assert _refused(422, body) == detail
    assert _refused(409, {"detail": "Someone else changed this."}) == "Someone else changed this."
