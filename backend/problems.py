"""The shape of every refusal, declared once so the OpenAPI schema says what callers can get.

``backend.main`` answers every error with ``{"detail": <sentence>}``; some refusals add
what they are about (``field``, ``item``, the link's ``state``). A 422 also lists each
problem in ``errors``. Routers declare which of these they can answer with ``refusals``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Problem(BaseModel):
    """A refusal a person can read; some add the field or the link state it is about."""

    model_config = ConfigDict(extra="allow")

    detail: str


class FieldProblem(BaseModel):
    field: str
    message: str


class ValidationProblem(Problem):
    """The request could not be accepted: ``detail`` sums up ``errors``, one per field."""

    errors: list[FieldProblem]


_MEANINGS: dict[int, str] = {
    401: "Not signed in, or the access token has expired or was revoked",
    403: "Signed in, but this role may not do this",
    404: "No such object, or it is outside the caller's scope",
    409: "Conflicts with the object's current state or a change made at the same moment",
    410: "The rating link has expired or has been used",
    413: "The request body is larger than 64 KiB",
    422: "The request is malformed or a value is out of range",
    429: "Too many requests; Retry-After says how many seconds to wait",
    503: "The database is briefly unavailable; Retry-After says when to try again",
}


def refusals(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given refusals, each with its body model."""
    return {
        code: {
            "model": ValidationProblem if code == 422 else Problem,
            "description": _MEANINGS[code],
        }
        for code in status_codes
    }
