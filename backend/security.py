"""HTTP hardening that applies to every response: security headers and a body size cap.

Both are pure ASGI middleware, so they see streamed bodies and every response,
including errors raised before a route runs.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import HTTPException
from starlette.types import Scope

from backend.http_middleware import HttpMiddleware

#: Larger than any legitimate request (a rating with a 1,000-character comment is < 2 KiB).
MAX_BODY_BYTES = 64 * 1024
BODY_TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB."

log = logging.getLogger("rapport")

_JSON_CSP = b"default-src 'none'; frame-ancestors 'none'"
HSTS = b"max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware(HttpMiddleware):
    """nosniff, no referrer, no caching of API answers, a deny-all CSP for JSON, HSTS.

    Headers a route already set are left alone (the rating page sets its own CSP).
    """

    def __init__(self, app: Any, *, https: bool = False) -> None:
        super().__init__(app)
        self.https = https

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        is_api = scope.get("path", "").startswith("/api")

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                wanted = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if content_type.startswith(b"application/json") or is_api:
                    wanted.append((b"content-security-policy", _JSON_CSP))
                if is_api:
                    wanted.append((b"cache-control", b"no-store"))
                if self.https:
                    wanted.append((b"strict-transport-security", HSTS))
                headers += [(k, v) for k, v in wanted if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware(HttpMiddleware):
    """413 for bodies over ``max_bytes``: by Content-Length up front, else while streaming."""

    def __init__(self, app: Any, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", ()):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _too_large(send)
                    return
        received = 0
        response_started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # FastAPI lets an HTTPException from the body stream through as itself.
                    raise HTTPException(status_code=413, detail=BODY_TOO_LARGE)
            return message

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except HTTPException as error:
            if error.status_code != 413 or response_started:
                raise
            await _too_large(send)


async def _too_large(send: Any) -> None:
    body = json.dumps({"detail": BODY_TOO_LARGE}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class UnexpectedErrorMiddleware(HttpMiddleware):
    """Turns an unhandled exception into a plain JSON 500 *inside* the other middleware.

    Starlette answers unhandled errors in its outermost layer, past every middleware,
    so the 500 would lack the security headers and request id. Caught here, it gets
    both; the log names the exception type and route, never the request's contents.
    """

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started:
                raise
            log.error(
                "unexpected %s on %s %s",
                type(error).__name__,
                scope.get("method"),
                route_template(scope),
            )
            body = json.dumps({"detail": "Something went wrong on our side."}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})


def route_template(scope: Scope) -> str:
    """The matched route as declared (``/r/{token}``): safe to log, unlike the path."""
    return getattr(scope.get("route"), "path", "(no route)")
