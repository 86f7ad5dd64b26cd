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
