"""``/metrics`` in Prometheus' text format: how busy the API is and how far behind scoring is.

Labels are route templates (``/r/{token}``), methods and statuses, never a path, a
token, a client's code or anything a client wrote. The counters live in this process:
run one worker per instance and scrape every instance (the queue gauges are read from
the database, so every instance reports the same queue). The proxy does not pass
``/metrics`` on; scrape the instances directly.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from backend.clock import utcnow
from backend.db import get_database
from backend.flags.models import RescoreRequest
from backend.http_middleware import HttpMiddleware
from backend.jobs.models import ScheduledJob
from backend.security import route_template

log = logging.getLogger("rapport")

router = APIRouter(tags=["health"])

#: Sign-in refusals by what the answer said (never by account or address).
_SIGN_IN_FAILURES = {401: "bad_credentials", 429: "throttled"}


class ServiceMetrics:
    """One registry an app: the request metrics plus what is read from the database."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "rapport_http_request_duration_seconds",
            "Time to answer a request, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.sign_in_failures = Counter(
            "rapport_sign_in_failures",
            "Refused sign-ins: bad_credentials (401) or throttled (429).",
            ["reason"],
            registry=self.registry,
        )
        self.database_errors = Counter(
            "rapport_database_errors",
            "Requests answered 503 because the database could not be used.",
            registry=self.registry,
        )
        self.registry.register(QueueCollector())

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).observe(seconds)
        if route == "/api/auth/login" and status in _SIGN_IN_FAILURES:
            self.sign_in_failures.labels(reason=_SIGN_IN_FAILURES[status]).inc()


class QueueCollector(Collector):
    """Read at scrape time: the rescore queue and the scheduled jobs, from the database."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "rapport_database_up", "1 if the database answered this scrape, else 0."
        )
        try:
            queued, oldest, jobs = _read_queue_and_jobs()
        except Exception as failure:
            log.warning("Metrics could not read the database (%s).", type(failure).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "rapport_rescore_queue_length", "Clients waiting to be rescored.", value=queued
        )
        now = utcnow()
        yield GaugeMetricFamily(
            "rapport_rescore_queue_oldest_age_seconds",
            "How long the oldest rescore request has waited: the scoring lag (0 when empty).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        finished = GaugeMetricFamily(
            "rapport_job_last_finished_timestamp_seconds",
            "When each scheduled job last finished (Unix time).",
            labels=["job"],
        )
        failed = GaugeMetricFamily(
            "rapport_job_last_run_failed", "1 if the job's last run failed.", labels=["job"]
        )
        for job in jobs:
            if job.last_finished_at is not None:
                finished.add_metric([job.name], job.last_finished_at.timestamp())
            failed.add_metric([job.name], 1 if (job.last_outcome or "").startswith("failed") else 0)
        yield finished
        yield failed


def _read_queue_and_jobs() -> tuple[int, datetime | None, list[Any]]:
    table = RescoreRequest.__table__
    with get_database().reading() as db:
        queued, oldest = db.execute(select(func.count(), func.min(table.c.requested_at))).one()
        jobs = db.execute(select(ScheduledJob.__table__)).all()
    # min() comes back without the column's type on some engines: make it aware UTC.
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return queued, oldest, jobs


class MetricsMiddleware(HttpMiddleware):
    """Times every HTTP request and counts it under its route template."""

    def __init__(self, app: Any, *, metrics: ServiceMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        status = 500

        async def recording_send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.observe(
                route=route_template(scope),
                method=scope.get("method", ""),
                status=status,
                seconds=time.perf_counter() - started,
            )


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
