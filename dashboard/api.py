"""The dashboard's only way to the data: the Rapport API, called with the user's token.

Every call goes through ``RapportAPI``; an expired or revoked token raises
``SessionExpired`` so the app can send the user back to sign-in, and every other
refusal raises ``ApiError`` with the API's own short, human message.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from backend.auth.browser_address import HEADER, signed_browser_address
from backend.config import DEMO_DASHBOARD_KEY
from dashboard.refusal_text import readable_refusal

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
SOMETHING_WENT_WRONG = "Something went wrong. Please try again."


def _detail(response: httpx.Response) -> str:
    """The refusal as the user should read it: every 422 is reworded here, once."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return SOMETHING_WENT_WRONG
    if response.status_code == 422 and (readable := readable_refusal(body)):
        return readable
    detail = body.get("detail")
    if isinstance(detail, str) and detail:
        return detail
    return SOMETHING_WENT_WRONG


#: One connection pool for every session of this dashboard process. A new client per call
#: paid for a TLS context and a TCP connection each time (about 45 ms on a small machine).
#: The token travels in each request's header, never on the client, and the client keeps
#: no cookies, so nothing of one signed-in user can reach another's request.
_CLIENT = httpx.Client(
    timeout=TIMEOUT_SECONDS, cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
)


def _send(
    method: str,
    path: str,
    token: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    try:
        response = _CLIENT.request(method, f"{api_url()}{path}", headers=headers, **kwargs)
    except httpx.HTTPError:
        raise ApiError(UNREACHABLE) from None
    if response.status_code == 401:
        raise SessionExpired(_detail(response), 401)
    if response.status_code >= 400:
        raise ApiError(_detail(response), response.status_code)
    return response


def _request(method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
    response = _send(method, path, token, **kwargs)
    return None if response.status_code == 204 else response.json()


@dataclass(frozen=True)
class SignIn:
    token: str
    user: dict[str, Any]


NOT_CONFIGURED = (
    "The dashboard cannot sign anyone in: set RAPPORT_DASHBOARD_KEY to the API's value."
)


def dashboard_key() -> str:
    """The key shared with the API; dev and demo mode have a built-in one, as the API does."""
    key = os.environ.get("RAPPORT_DASHBOARD_KEY", "")
    if not key and os.environ.get("RAPPORT_MODE", "production") in ("demo", "dev"):
        return DEMO_DASHBOARD_KEY
    return key


def login(email: str, password: str, *, browser_address: str) -> SignIn:
    """Exchange email and password for a token; a wrong password raises ``ApiError``.

    The browser's address goes along, signed, so the API throttles failures by the
    browser that made them rather than by this dashboard's own address.
    """
    key = dashboard_key()
    if not key:
        raise ApiError(NOT_CONFIGURED)
    signed = signed_browser_address(key=key, address=browser_address, now=time.time())
    try:
        body = _request(
            "POST",
            "/api/auth/login",
            json={"email": email, "password": password},
            headers={HEADER: signed},
        )
    except SessionExpired as refused:
        raise ApiError(refused.detail, 401) from None
    return SignIn(token=body["access_token"], user=body["user"])


def redeem_password_reset(email: str, reset_code: str, new_password: str) -> None:
    """Set a new password with an administrator's one-time code; refusals raise ``ApiError``."""
    body = {"email": email, "reset_code": reset_code, "new_password": new_password}
    try:
        _request("POST", "/api/auth/password-reset", json=body)
    except SessionExpired as refused:
        raise ApiError(refused.detail, 401) from None


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

    def change_password(self, current_password: str, new_password: str) -> None:
        body = {"current_password": current_password, "new_password": new_password}
        self._post("/api/me/password", body)

    def issue_password_reset(self, user_id: int) -> dict[str, Any]:
        return _request("POST", f"/api/users/{user_id}/password-reset", self.token)

    def me(self) -> dict[str, Any]:
        return self._get("/api/me")

    def notifications(self) -> dict[str, Any]:
        return self._get("/api/me/notifications")

    def update_notifications(self, **choices: bool) -> dict[str, Any]:
        return self._patch("/api/me/notifications", choices)

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

    # Exports: files as the API writes them --------------------------------------
    def _file(self, path: str, **params: Any) -> bytes:
        clean = {k: v for k, v in params.items() if v is not None}
        return _send("GET", path, self.token, params=clean).content

    def fhir_bundle(self, code: str) -> bytes:
        return self._file(f"/api/clients/{code}/export.fhir.json")

    def report_pdf(self, code: str, *, comments: bool = False) -> bytes:
        return self._file(f"/api/clients/{code}/report.pdf", comments=comments)

    def caseload_csv(self) -> bytes:
        return self._file("/api/caseload/export.csv")

    def erase_client(self, code: str, *, confirm_code: str, reason: str) -> dict[str, Any]:
        body = {"confirm_code": confirm_code, "reason": reason}
        return self._post(f"/api/clients/{code}/erasure", body)

    # Administration -----------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        return self._get("/api/users")

    def create_user(self, **fields: Any) -> dict[str, Any]:
        return self._post("/api/users", fields)

    def update_user(self, user_id: int, **fields: Any) -> dict[str, Any]:
        return self._patch(f"/api/users/{user_id}", fields)

    def set_supervised_teams(self, user_id: int, teams: list[str]) -> dict[str, Any]:
        return _request("PUT", f"/api/users/{user_id}/teams", self.token, json={"teams": teams})

    def clients(
        self, *, code: str | None = None, limit: int = 200, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Clients by code, at most ``limit``; ``code`` keeps codes containing it."""
        return self._get("/api/clients", status=status, code=code or None, limit=limit)

    def create_client(self, therapist_id: int) -> dict[str, Any]:
        return self._post("/api/clients", {"therapist_id": therapist_id})

    def update_client(self, code: str, **fields: Any) -> dict[str, Any]:
        return self._patch(f"/api/clients/{code}", fields)

    def delete_client(self, code: str) -> None:
        self._delete(f"/api/clients/{code}")

    def audit(self, **filters: Any) -> list[dict[str, Any]]:
        return self._get("/api/audit", **filters)
