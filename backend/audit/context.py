"""Per-request audit context: the request id, the caller and the action being attempted.

A pure ASGI middleware opens one mutable ``RequestContext`` per request and keeps it
in a context variable. FastAPI runs sync dependencies and routes in worker threads,
each with a copy of the context, so the object is mutated in place (never re-set)
and every thread of the request sees the same one.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from backend.http_middleware import HttpMiddleware

REQUEST_ID_HEADER = "x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass
class RequestContext:
    request_id: str
    address: str | None
    actor_id: int | None = None
    actor_role: str | None = None
    #: The audited action in progress, so a refusal can be recorded against it.
    action: str | None = None
    client_code: str | None = None
    object_id: str | None = None
    route: str | None = None
    #: The service already audited this request's refusal; it is not recorded twice.
    refusal_recorded: bool = False


_current: ContextVar[RequestContext | None] = ContextVar("rapport_request", default=None)


def current_request() -> RequestContext | None:
    return _current.get()


def attempting(
    action: str, *, client_code: str | None = None, object_id: str | None = None
) -> None:
    """Name the action this request is attempting (for the refusal record if it fails)."""
    context = _current.get()
    if context is not None:
        context.action = action
        context.client_code = client_code
        context.object_id = object_id


def _request_id(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware(HttpMiddleware):
    """Takes X-Request-ID from the caller (or makes one), echoes it, audits under it."""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client")
        context = RequestContext(
            request_id=_request_id(scope), address=client[0] if client else None
        )
        token = _current.set(context)

        async def send_with_request_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k != REQUEST_ID_HEADER.encode()
                ]
                headers.append((REQUEST_ID_HEADER.encode(), context.request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            _current.reset(token)
