"""Who is signed in, held in ``st.session_state`` (never in the URL or a shared cache).

A refresh (F5) starts a new Streamlit session; the browser then still holds the API's
HttpOnly cookie for the same sign-in, which only this server-side code reads
(``st.context.cookies``), so the user stays signed in until the sign-in's idle or
absolute limit, and no page script ever sees a token.
"""

from __future__ import annotations

import contextlib
import html
import time
from typing import Any

import streamlit as st

from dashboard.api import (
    BROWSER_COOKIE,
    ApiError,
    RapportAPI,
    SessionExpired,
    SignIn,
    browser_api_url,
)
from dashboard.instruments import InstrumentView, instrument_view

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
_USER_KEYS = ("token", "user", "last_active", "issued_link", "browser_ticket")
#: The query parameter that names the client on the client page: ``/client?client=CODE``.
CLIENT_PARAM = "client"


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
    with contextlib.suppress(ApiError):  # without the cookie, a refresh signs out: no harm
        st.session_state.browser_ticket = RapportAPI(signed.token).browser_ticket()


def resume_from_cookie() -> None:
    """After a refresh: take up the sign-in the browser's HttpOnly cookie holds, if the API
    still accepts it (an ended sign-in leaves the user on the sign-in page, no message)."""
    if is_signed_in() or st.session_state.get("cookie_tried"):
        return
    st.session_state.cookie_tried = True
    secret = st.context.cookies.get(BROWSER_COOKIE)
    if not secret:
        return
    try:
        user = RapportAPI(secret).me()
    except ApiError:
        return
    st.session_state.token = secret
    st.session_state.user = user
    st.session_state.last_active = time.time()
    st.session_state.chart_code_due = True


def load_chart_code_after_refresh() -> None:
    """After a refresh the browser has not loaded the chart code (Vega), which Streamlit
    fetches and evaluates only when a page first shows a chart, and the client page's
    trajectory comes last. A hidden, empty chart drawn before the page has the browser
    load it while the page itself is computed and sent; once, in the first run."""
    if not st.session_state.pop("chart_code_due", False):
        return
    st.html("<style>.st-key-chart_code { display: none; }</style>")
    with st.container(key="chart_code"):
        st.vega_lite_chart({"data": {"values": [{"x": 0}]}, "mark": "point", "encoding": {}})


def hand_over_to_browser() -> None:
    """Have the browser redeem this sign-in's one-time ticket for its HttpOnly cookie.

    A hidden form posts the ticket to the API, which answers with the cookie; the ticket
    is useless once redeemed or after 60 s, and the response shows the page nothing.
    """
    ticket = st.session_state.get("browser_ticket")
    if not ticket:
        return
    action = html.escape(f"{browser_api_url()}/api/auth/browser-session", quote=True)
    # A frame of its own (st.iframe, which replaces components.v1.html) runs the script;
    # st.iframe is at least 1 px high, so its container is hidden, as an empty gap would show.
    st.html("<style>.st-key-browser_session { display: none; }</style>")
    with st.container(key="browser_session"):
        st.iframe(
            f'<form id="t" method="post" action="{action}" target="sink">'
            f'<input type="hidden" name="ticket" value="{html.escape(ticket, quote=True)}">'
            '</form><iframe name="sink" title="sign-in" hidden></iframe>'
            '<script>document.getElementById("t").submit()</script>',
            height=1,
            alt="Sign-in hand-over to this browser",
        )


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


def open_client(code: str) -> None:
    """Go to the client page at its own address (``/client?client=CODE``), so the browser's
    back and forward buttons, a refresh and a pasted link all find the same client."""
    st.switch_page("app_pages/client.py", query_params={CLIENT_PARAM: code})


def instruments() -> dict[str, InstrumentView]:
    """The API's questionnaires by id, the default first; asked once per browser session."""
    if not st.session_state.get("instruments"):
        listed = api().instruments()
        st.session_state.instruments = {i["instrument"]["id"]: instrument_view(i) for i in listed}
    return st.session_state.instruments
