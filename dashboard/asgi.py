"""The dashboard as served: Streamlit's own app, plus headers Streamlit does not send.

Run with ``streamlit run dashboard/asgi.py`` (``make run``). Streamlit's server sends no
``frame-ancestors``, so another site could frame the dashboard and trick a clinician
into clicking (clickjacking); ``st.App`` lets a middleware add the header to every
response. ``dashboard/app.py`` stays the script, so tests can still drive it directly.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: No site may frame the dashboard (CSP Level 2), and the same for older browsers.
FRAME_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


class FrameAncestorsMiddleware:
    """Adds ``FRAME_HEADERS`` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FRAME_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


app = st.App(
    Path(__file__).resolve().parent / "app.py", middleware=[Middleware(FrameAncestorsMiddleware)]
)
