"""The address of the browser this dashboard session serves, for the API's sign-in throttle."""

from __future__ import annotations

import os

import streamlit as st

from backend.auth.browser_address import address_behind_proxies


def connection_address() -> str | None:
    """The websocket peer as Streamlit sees it (None on loopback)."""
    return st.context.ip_address


def browser_address() -> str:
    """The browser's address: the peer, or behind our own proxies the hop they name.

    ``RAPPORT_TRUST_FORWARDED_FOR`` names the proxies in front of the dashboard exactly
    as it does for the API; X-Forwarded-For from anyone else is ignored.
    """
    proxies = [
        part.strip()
        for part in os.environ.get("RAPPORT_TRUST_FORWARDED_FOR", "").split(",")
        if part.strip() and part.strip().lower() not in ("false", "none", "no", "0")
    ]
    forwarded = st.context.headers.get("X-Forwarded-For") if proxies else None
    return address_behind_proxies(connection_address(), forwarded, proxies)
