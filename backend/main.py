"""Builds the Rapport API: routers, error mapping, middleware. ``backend.main:app``."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute

import backend.models  # noqa: F401  (every table registered before the first query)
from backend.audit.context import RequestIdMiddleware, current_request
from backend.audit.router import router as audit_router
from backend.audit.writer import AuditUnavailable, record_refusal
from backend.auth.router import router as auth_router
from backend.clients.router import router as clients_router
from backend.config import ConfigurationError, get_settings
from backend.db import get_database
from backend.demo_accounts import demo_account_count, demo_accounts_refusal
from backend.errors import RapportError
from backend.exports.router import router as exports_router
from backend.flags.rescore_queue import catch_up, queue_outdated
from backend.flags.router import router as flags_router
from backend.health import router as health_router
from backend.jobs.schedule import Scheduler, scheduled_jobs
from backend.log_format import install_log_format
from backend.log_redaction import install_token_redaction
from backend.metrics import MetricsMiddleware, ServiceMetrics
from backend.metrics import router as metrics_router
from backend.notifications.router import router as notifications_router
from backend.notifications.sender import start_sender
from backend.overview.router import router as overview_router
from backend.problems import refusals
from backend.public_edge import PublicEdgeMiddleware, SlidingWindowLimiter
from backend.ratings.page_router import router as rating_page_router
from backend.ratings.page_router import too_many_requests_page
from backend.ratings.public_router import router as public_ratings_router
from backend.security import (
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
    UnexpectedErrorMiddleware,
    route_template,
)
from backend.static_assets import static_app
from backend.therapy.router import router as therapy_router
from backend.users.router import router as users_router

log = logging.getLogger("rapport")

RETRY_AFTER_SECONDS = "5"


def _rapport_error(request: Request, error: RapportError) -> JSONResponse:
    headers = dict(error.headers or {})
    if error.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if error.status_code in (403, 404, 409, 410, 422):
        refused = refusal_audited(request, error.status_code)
        if refused is not None:
            return refused
    body = {"detail": error.detail, **error.extra}
    if error.status_code == 422:
        # Same shape as a request that failed validation: one entry per field in "errors".
        field = error.extra.get("field") or error.extra.get("item") or ""
        body.setdefault("errors", [{"field": str(field), "message": error.detail}])
    return JSONResponse(body, status_code=error.status_code, headers=headers)


def refusal_audited(request: Request, status_code: int) -> JSONResponse | None:
    """Audit a signed-in caller's refused request; None when that worked (or was not needed)."""
    route = request.scope.get("route")
    context = current_request()
    if context is not None and route is not None:
        context.route = f"{request.method} {route.path}"
    try:
        record_refusal(database=get_database(), status_code=status_code)
    except AuditUnavailable as error:
        return JSONResponse(
            {"detail": error.detail}, status_code=error.status_code, headers=error.headers
        )
    return None


def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    request.app.state.metrics.database_errors.inc()
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        route_template(request.scope),
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


def _field(location: tuple, body: object) -> str:
    """The field a refusal names: a tagged union's member (named after the value that chose
    it, e.g. the action "other") is not a field the caller sent, so it is left out."""
    parts = [str(part) for part in location if part != "body"]
    if (
        isinstance(body, dict)
        and len(parts) > 1
        and parts[0] not in body
        and parts[0] in {str(value) for value in body.values()}
    ):
        parts = parts[1:]
    return ".".join(parts)


def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for problem in error.errors():
        location = _field(tuple(problem.get("loc", ())), error.body)
        problems.append({"field": location, "message": problem.get("msg", "is invalid")})
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "Invalid request."
    return JSONResponse({"detail": summary, "errors": problems}, status_code=422)


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    """FastAPI's own refusals, made to match ours.

    A body it cannot parse (not JSON, not UTF-8) is its only 400: answer it like any
    other invalid request. Starlette's 405 names only the first route on the path;
    Allow must name every method the path has.
    """
    if error.status_code == 400:
        message = "The body is not valid JSON."
        return JSONResponse(
            {"detail": f"body: {message}", "errors": [{"field": "body", "message": message}]},
            status_code=422,
        )
    if error.status_code == 405:
        path = request.scope["path"]
        methods = sorted(
            {
                method
                for route in request.app.state.api_routes
                if route.path_regex.match(path)
                for method in route.methods
            }
        )
        if methods:
            error.headers = {**(error.headers or {}), "Allow": ", ".join(methods)}
    return await http_exception_handler(request, error)


def _has_methods(route: BaseRoute) -> bool:
    return bool(getattr(route, "methods", None)) and hasattr(route, "path_regex")


@functools.cache  # once per process: the tests start the app once per test
def _freeze_what_startup_loaded() -> None:
    """Take what the process loaded to serve (modules, schemas, SQLAlchemy's metadata,
    pandas: about 190,000 objects) out of the garbage collector's full passes, which
    otherwise walk all of it in whichever request they fall on (0.1-0.2 s; numbers in
    docs/decisions.md, "The caseload in one query of plain columns")."""
    gc.collect()
    gc.freeze()


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Before serving, score what an earlier run queued and did not get to (a crash, a
    failed pass) and every client scored by an older rules version; with nothing to do
    this is two quick queries. The API starts even when the database cannot be reached:
    ``/health/ready`` says so, and the next pass scores. Then take part in running the
    scheduled jobs (``backend/jobs/schedule.py``), and run the notification sender beside
    the API until it stops."""
    _freeze_what_startup_loaded()
    try:
        database = get_database()
        await run_in_threadpool(queue_outdated, database)
    except Exception as failure:  # readiness reports it; serving goes on
        log.warning("No database to score leftovers in (%s).", type(failure).__name__)
        yield
        return
    await run_in_threadpool(catch_up, database)
    settings = get_settings()
    sender = start_sender(database, settings)
    scheduler = None
    if settings.run_scheduled_jobs:
        scheduler = Scheduler(
            database,
            scheduled_jobs(settings),
            check_every=timedelta(seconds=settings.jobs_check_seconds),
            lease=timedelta(seconds=settings.jobs_lease_seconds),
        )
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            await run_in_threadpool(scheduler.stop)
        if sender is not None:
            await run_in_threadpool(sender.stop)


def _refuse_demo_accounts_in_production() -> None:
    """Production does not start on a database with demo accounts in it.

    A database that cannot be read yet (unreachable, not migrated) is left to
    ``/health/ready``; the check runs again at the next start."""
    try:
        with get_database().reading() as session:
            count = demo_account_count(session=session)
    except SQLAlchemyError:
        return
    if count:
        raise ConfigurationError(demo_accounts_refusal(count))


def create_app() -> FastAPI:
    settings = get_settings()
    if settings.mode == "production":
        _refuse_demo_accounts_in_production()
    install_token_redaction()
    install_log_format(settings.log_format)
    app = FastAPI(
        title="Rapport",
        version="0.1.0",
        summary="Therapeutic alliance monitoring: ruptures made visible, repairs followed.",
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        # Any route: the body cap and the database-unavailable answer apply everywhere.
        responses=refusals(413, 503),
        lifespan=lifespan,
    )
    app.state.public_rate_limiter = SlidingWindowLimiter(
        limit=settings.public_rate_limit_per_minute, window_seconds=60
    )
    app.add_middleware(UnexpectedErrorMiddleware)  # innermost: its 500s get the headers
    app.add_middleware(
        PublicEdgeMiddleware,
        limiter=app.state.public_rate_limiter,
        page_refusal=too_many_requests_page,
    )
    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, https=settings.https)
    app.add_middleware(RequestIdMiddleware)  # every response carries its id
    app.state.metrics = ServiceMetrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # outermost: times all
    app.add_exception_handler(RapportError, _rapport_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _concurrent_change)
    for db_error in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(db_error, _database_unavailable)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    routers = (
        health_router,
        metrics_router,
        auth_router,
        users_router,
        clients_router,
        therapy_router,
        flags_router,
        overview_router,
        public_ratings_router,
        rating_page_router,
        audit_router,
        exports_router,
        notifications_router,
    )
    for router in routers:
        app.include_router(router)
    app.state.api_routes = [
        route for router in routers for route in router.routes if _has_methods(route)
    ]
    app.mount("/static", static_app(), name="static")
    return app


try:
    app = create_app()
except ConfigurationError as problem:
    raise SystemExit(f"Rapport cannot start. {problem}") from None
