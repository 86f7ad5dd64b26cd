"""Domain exceptions. Services raise these; ``backend.main`` maps them to HTTP once."""

from __future__ import annotations


class RapportError(Exception):
    status_code = 400
    #: Extra response headers (e.g. Retry-After).
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotAuthenticated(RapportError):
    status_code = 401


class Forbidden(RapportError):
    status_code = 403


class NotFound(RapportError):
    """Also what a caller gets for an object outside their scope: existence is not revealed."""

    status_code = 404


class Conflict(RapportError):
    status_code = 409


class Gone(RapportError):
    status_code = 410


class InvalidInput(RapportError):
    status_code = 422


class TooManyRequests(RapportError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after_seconds: int, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.headers = {"Retry-After": str(retry_after_seconds)}
