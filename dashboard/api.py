"""The dashboard's only way to the data: the Rapport API, called with the user's token.

Every call goes through ``RapportAPI``; an expired or revoked token raises
``SessionExpired`` so the app can send the user back to sign-in, and every other
refusal raises ``ApiError`` with the API's own short, human message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 15.0


def api_url() -> str:
    return os.environ.get("RAPPORT_API_URL", DEFAULT_API_URL).rstrip("/")


def browser_api_url() -> str:
    """Where the user's browser reaches the API (to get its sign-in cookie): the same host
    as the dashboard. Defaults to ``RAPPORT_API_URL``, which is right when both run on one
    machine; behind a proxy set ``RAPPORT_BROWSER_API_URL``."""
    return os.environ.get("RAPPORT_BROWSER_API_URL", api_url()).rstrip("/")


#: The API's HttpOnly cookie holding the browser's copy of the sign-in
#: (``backend.auth.router.BROWSER_COOKIE``).
BROWSER_COOKIE = "rapport_session"


class ApiError(Exception):
    """The API refused or could not be reached; ``detail`` is safe to show to the user."""

    def __init__(self, detail: str, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code


class SessionExpired(ApiError):
    """401: the token expired, was revoked, or the user was deactivated."""


UNREACHABLE = "The Rapport service cannot be reached. Please try again shortly."


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, str) and detail:
        return detail
    return "Something went wrong. Please try again."


#: One connection pool for every session of this dashboard process. A new client per call
#: paid for a TLS context and a TCP connection each time (about 45 ms on a small machine).
#: The token travels in each request's header, never on the client, and the client keeps
#: no cookies, so nothing of one signed-in user can reach another's request.
_CLIENT = httpx.Client(
    timeout=TIMEOUT_SECONDS, cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
)


def _request(method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = _CLIENT.request(method, f"{api_url()}{path}", headers=headers, **kwargs)
    except httpx.HTTPError:
        raise ApiError(UNREACHABLE) from None
    if response.status_code == 401:
        raise SessionExpired(_detail(response), 401)
    if response.status_code >= 400:
        raise ApiError(_detail(response), response.status_code)
    return None if response.status_code == 204 else response.json()


@dataclass(frozen=True)
class SignIn:
    token: str
    user: dict[str, Any]


def login(email: str, password: str) -> SignIn:
    """Exchange email and password for a token; a wrong password raises ``ApiError``."""
    try:
        body = _request("POST", "/api/auth/login", json={"email": email, "password": password})
    except SessionExpired as refused:
        raise ApiError(refused.detail, 401) from None
    return SignIn(token=body["access_token"], user=body["user"])


@dataclass(frozen=True)
class RapportAPI:
    """The signed-in user's view of the API."""

    token: str

    def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return _request("GET", path, self.token, params=clean)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return _request("POST", path, self.token, json=body)

    def _patch(self, path: str, body: dict[str, Any]) -> Any:
        return _request("PATCH", path, self.token, json=body)

    def _put(self, path: str, body: dict[str, Any]) -> Any:
        return _request("PUT", path, self.token, json=body)

    def _delete(self, path: str) -> Any:
        return _request("DELETE", path, self.token)

    def browser_ticket(self) -> str:
        """A one-time ticket the browser redeems for its HttpOnly sign-in cookie."""
        return self._post("/api/auth/browser-ticket", {})["ticket"]

    def instruments(self) -> list[dict[str, Any]]:
        return self._get("/api/instruments")

    def logout(self) -> None:
        _request("POST", "/api/auth/logout", self.token)

    def me(self) -> dict[str, Any]:
        return self._get("/api/me")

    # Overview ---------------------------------------------------------------
    def caseload(self, status: str = "active") -> list[dict[str, Any]]:
        return self._get("/api/caseload", status=status)

    def team_overview(self, weeks: int = 12, instrument: str | None = None) -> dict[str, Any]:
        return self._get("/api/team/overview", weeks=weeks, instrument=instrument)

    # One client -------------------------------------------------------------
    def client_page(self, code: str) -> dict[str, Any]:
        """Record, label, digest, sessions, ratings, flags and ruptures in one call."""
        return self._get(f"/api/clients/{code}/page")

    def set_label(self, code: str, label: str | None) -> str | None:
        return self._put(f"/api/clients/{code}/label", {"label": label})["label"]

    def acknowledge(self, code: str, flag_id: int, action: str, note: str | None) -> dict:
        body = {"action": action, "note": note or None}
        return self._post(f"/api/clients/{code}/flags/{flag_id}/acknowledge", body)

    def resolve(self, code: str, flag_id: int, note: str | None = None) -> dict[str, Any]:
        return self._post(f"/api/clients/{code}/flags/{flag_id}/resolve", {"note": note or None})

    def new_session(
        self, code: str, held_on: date, instrument: str, language: str
    ) -> dict[str, Any]:
        body = {"held_on": held_on.isoformat(), "instrument": instrument, "language": language}
        return self._post(f"/api/clients/{code}/sessions", body)

    # Administration -----------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        return self._get("/api/users")

    def create_user(self, **fields: Any) -> dict[str, Any]:
        return self._post("/api/users", fields)

    def update_user(self, user_id: int, **fields: Any) -> dict[str, Any]:
        return self._patch(f"/api/users/{user_id}", fields)

    def clients(self, status: str | None = None) -> list[dict[str, Any]]:
        return self._get("/api/clients", status=status)

    def create_client(self, therapist_id: int) -> dict[str, Any]:
        return self._post("/api/clients", {"therapist_id": therapist_id})

    def update_client(self, code: str, **fields: Any) -> dict[str, Any]:
        return self._patch(f"/api/clients/{code}", fields)

    def delete_client(self, code: str) -> None:
        self._delete(f"/api/clients/{code}")

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        return self._get("/api/audit", **filters)
