"""Builds the Rapport API: routers, error mapping, middleware. ``backend.main:app``."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

import backend.models  # noqa: F401  (every table registered before the first query)
from backend.auth.router import router as auth_router
from backend.clients.router import router as clients_router
from backend.config import get_settings
from backend.errors import RapportError
from backend.flags.router import router as flags_router
from backend.health import router as health_router
from backend.log_redaction import install_token_redaction
from backend.overview.router import router as overview_router
from backend.public_edge import PublicEdgeMiddleware, SlidingWindowLimiter
from backend.ratings.page_router import router as rating_page_router
from backend.ratings.page_router import too_many_requests_page
from backend.ratings.public_router import router as public_ratings_router
from backend.therapy.router import router as therapy_router
from backend.users.router import router as users_router

log = logging.getLogger("rapport")

RETRY_AFTER_SECONDS = "5"
STATIC_DIR = Path(__file__).resolve().parent / "static"


def _rapport_error(_request: Request, error: RapportError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
    return JSONResponse(
        {"detail": error.detail, **error.extra}, status_code=error.status_code, headers=headers
    )


def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.scope.get("route_path", "?"),
        type(error).__name__,
    )
    return JSONResponse(
        {"detail": "The service is briefly unavailable. Please try again in a moment."},
        status_code=503,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _concurrent_change(_request: Request, _error: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": "Someone else changed this at the same moment. Please try again."},
        status_code=409,
    )


def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        problems.append({"field": location, "message": problem.get("msg", "is invalid")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "Invalid request."
    return JSONResponse({"detail": summary, "errors": problems}, status_code=422)


def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.error(
        "unexpected %s on %s %s",
        type(error).__name__,
        request.method,
        request.scope.get("route_path", "?"),
    )
    return JSONResponse({"detail": "Something went wrong on our side."}, status_code=500)


def create_app() -> FastAPI:
    settings = get_settings()
    install_token_redaction()
    app = FastAPI(
        title="Rapport",
        version="0.1.0",
        summary="Therapeutic alliance monitoring: ruptures made visible, repairs followed.",
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.add_exception_handler(RapportError, _rapport_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _concurrent_change)
    for db_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(db_error, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
    for router in (
        health_router,
        auth_router,
        users_router,
        clients_router,
        therapy_router,
        flags_router,
        overview_router,
        public_ratings_router,
        rating_page_router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.state.public_rate_limiter = SlidingWindowLimiter(
        limit=settings.public_rate_limit_per_minute, window_seconds=60
    )
    app.add_middleware(
        PublicEdgeMiddleware,
        limiter=app.state.public_rate_limiter,
        trust_forwarded_for=settings.trust_forwarded_for,
        page_refusal=too_many_requests_page,
    )
    return app


app = create_app()
