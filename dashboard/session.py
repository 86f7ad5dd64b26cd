"""Who is signed in, held only in ``st.session_state`` (never in the URL or a shared cache)."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from dashboard.api import ApiError, RapportAPI, SessionExpired, SignIn

IDLE_LIMIT_SECONDS = 30 * 60
#: Attempts to end the session on the server before telling the user it could not.
SIGN_OUT_ATTEMPTS = 3
SIGN_OUT_PAUSE_SECONDS = 0.5
NOT_SIGNED_OUT = (
    "You are signed out here, but the Rapport service could not be reached to end your "
    "session there. This page keeps trying while it stays open; the session also ends "
    "by itself after 30 minutes without use."
)
IDLE_NOTICE = "You were signed out after 30 minutes without activity. Please sign in again."
EXPIRED_NOTICE = "Your session has ended. Please sign in again."
_USER_KEYS = ("token", "user", "last_active", "client_code", "issued_link")


def init_state() -> None:
    for key in _USER_KEYS:
        st.session_state.setdefault(key, None)
    st.session_state.setdefault("notice", None)
    st.session_state.setdefault("unrevoked_token", None)


def is_signed_in() -> bool:
    return bool(st.session_state.get("token"))


def start(signed: SignIn) -> None:
    st.session_state.token = signed.token
    st.session_state.user = signed.user
    st.session_state.last_active = time.time()
    st.session_state.notice = None


def revoke(token: str, *, attempts: int = SIGN_OUT_ATTEMPTS) -> bool:
    """End the session on the server; True once it is ended (or was already)."""
    for attempt in range(attempts):
        try:
            RapportAPI(token).logout()
        except SessionExpired:
            return True  # expired or revoked already: nothing left to end
        except ApiError:
            if attempt + 1 < attempts:
                time.sleep(SIGN_OUT_PAUSE_SECONDS * (attempt + 1))
            continue
        return True
    return False


def end(notice: str | None = None) -> None:
    """Forget everything about the user and revoke the token on the server.

    If the API cannot be reached the token is kept, apart from the user, so that
    ``retry_sign_out`` can revoke it on the following runs, and the user is told.
    """
    token = st.session_state.get("token")
    pending = st.session_state.get("unrevoked_token")
    ended = revoke(token) if token else True
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    init_state()
    st.session_state.notice = notice if ended else NOT_SIGNED_OUT
    st.session_state.unrevoked_token = pending if ended else token


def retry_sign_out() -> None:
    """Another try at revoking a token the API could not be reached for at sign-out."""
    token = st.session_state.get("unrevoked_token")
    if token and revoke(token, attempts=1):
        st.session_state.unrevoked_token = None
        if st.session_state.get("notice") == NOT_SIGNED_OUT:
            st.session_state.notice = "You are signed out."


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
