"""Who is signed in, held only in ``st.session_state`` (never in the URL or a shared cache)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import streamlit as st

from dashboard.api import ApiError, RapportAPI, SignIn

IDLE_LIMIT_SECONDS = 30 * 60
IDLE_NOTICE = "You were signed out after 30 minutes without activity. Please sign in again."
EXPIRED_NOTICE = "Your session has ended. Please sign in again."
_USER_KEYS = ("token", "user", "last_active", "client_code", "issued_link")


def init_state() -> None:
    for key in _USER_KEYS:
        st.session_state.setdefault(key, None)
    st.session_state.setdefault("notice", None)


def is_signed_in() -> bool:
    return bool(st.session_state.get("token"))


def start(signed: SignIn) -> None:
    st.session_state.token = signed.token
    st.session_state.user = signed.user
    st.session_state.last_active = time.time()
    st.session_state.notice = None


def end(notice: str | None = None) -> None:
    """Forget everything about the user; revoke the token when the API still accepts it."""
    token = st.session_state.get("token")
    if token:
        # Already expired or unreachable: forgetting it locally is what matters.
        with contextlib.suppress(ApiError):
            RapportAPI(token).logout()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    init_state()
    st.session_state.notice = notice


def check_idle() -> None:
    """Sign out after 30 idle minutes; otherwise count this run as activity."""
    if not is_signed_in():
        return
    last = st.session_state.get("last_active") or 0.0
    if time.time() - last > IDLE_LIMIT_SECONDS:
        end(IDLE_NOTICE)
    else:
        st.session_state.last_active = time.time()


def api() -> RapportAPI:
    return RapportAPI(st.session_state.token)


def user() -> dict[str, Any]:
    return st.session_state.user or {}


def role() -> str | None:
    return user().get("role")


def remember_linked_client(query_params: Any) -> None:
    """A notification links to ``?client=CODE``: keep the code for after sign-in, and take
    it out of the address bar."""
    code = query_params.get("client")
    if code:
        st.session_state.linked_client = str(code).strip().upper()[:16]
        del query_params["client"]


def open_client(code: str) -> None:
    """Remember the client in the session (not the URL) and go to the client page."""
    st.session_state.client_code = code
    st.switch_page("app_pages/client.py")
