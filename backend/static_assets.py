"""The client page's CSS, script and icon: compressed, and cached for as long as they are unchanged.

Pages link each file with a version taken from its contents (``/static/rating.css?v=...``),
so a phone may keep that exact URL for a year without asking again, while a new release
changes the URL. A request without the current version must revalidate (ETag) instead.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs

from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
CACHED_FOR_A_YEAR = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@cache
def asset_version(name: str) -> str:
    """A short hash of a static file's contents; empty for a file that does not exist."""
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else ""


def static_url(name: str) -> str:
    return f"/static/{name}?v={asset_version(name)}"


class VersionedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
            current = asset_version(path)
            fresh = bool(current) and asked == [current]
            response.headers["Cache-Control"] = CACHED_FOR_A_YEAR if fresh else REVALIDATE
        return response


def static_app() -> ASGIApp:
    """What ``/static`` serves: the files above, gzipped when the browser accepts it."""
    return GZipMiddleware(VersionedStaticFiles(directory=STATIC_DIR), minimum_size=500)
