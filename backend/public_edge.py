"""What every client-facing response gets: strict headers and a per-IP rate limit.

The client's pages (``/r/``) and the public API (``/api/public/``) are reached with
nothing but a link token, so they carry the strictest headers we have and refuse
bursts from one address before they reach the database.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PUBLIC_PREFIXES: tuple[str, ...] = ("/r/", "/api/public/")

#: One header set for every token-addressed response: no inline code, no caching of
#: answers on shared phones, no token leaking to other sites through Referer.
PUBLIC_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class SlidingWindowLimiter:
    """At most ``limit`` hits per key in any ``window_seconds``; thread-safe, in memory.

    The count lives in this process only: behind several instances or workers each
    keeps its own, so the effective limit is multiplied. Put a rate limit on the
    reverse proxy as well when running more than one.
    """

    _SWEEP_ABOVE = 10_000

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one request; return the seconds to wait if it is over the limit."""
        now = self._clock()
        horizon = now - self.window_seconds
        with self._lock:
            if len(self._hits) > self._SWEEP_ABOVE:
                self._sweep(horizon)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] - horizon))
            hits.append(now)
            return None

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def _sweep(self, horizon: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= horizon]:
            del self._hits[key]


def client_ip(scope: Scope) -> str:
    """The client's address as the server resolved it.

    X-Forwarded-For is resolved by uvicorn, and only from the proxies named in
    ``RAPPORT_TRUST_FORWARDED_FOR`` (uvicorn started with the same list as
    ``--forwarded-allow-ips``); the app never reads the header itself.
    """
    client = scope.get("client")
    return client[0] if client else "unknown"


RefusalPage = Callable[[Scope, int], Response]


class PublicEdgeMiddleware:
    """Rate-limits ``PUBLIC_PREFIXES``; adds the page's ``PUBLIC_HEADERS`` under ``/r/``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: SlidingWindowLimiter,
        page_refusal: RefusalPage | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.page_refusal = page_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            # JSON under /api/public/ keeps the API's stricter default-src 'none'.
            if message["type"] == "http.response.start" and scope["path"].startswith("/r/"):
                headers = MutableHeaders(scope=message)
                for name, value in PUBLIC_HEADERS.items():
                    headers[name] = value
            await send(message)

        ip = client_ip(scope)
        retry_after = self.limiter.hit(ip)
        if retry_after is None:
            await self.app(scope, receive, send_with_headers)
            return
        if self.page_refusal is not None and scope["path"].startswith("/r/"):
            refusal = self.page_refusal(scope, retry_after)
        else:
            refusal = JSONResponse(
                {"detail": "Too many requests. Please wait a minute and try again."},
                status_code=429,
            )
        refusal.headers["Retry-After"] = str(retry_after)
        await refusal(scope, receive, send_with_headers)
