"""/metrics: request latency by route template, the rescore queue, never client data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from backend.clock import utcnow
from backend.flags.models import RescoreRequest
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def samples(api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


@pytest.mark.postgres
def test_the_rescore_queue_length_and_its_oldest_age_are_gauges(api, db) -> None:
    therapist = signed_in(db)
    waiting = [make_client(db, therapist) for _ in range(2)]
    with db.writing() as session:
        for minutes, client in zip((5, 1), waiting, strict=True):
            session.add(
                RescoreRequest(
                    client_id=client.id,
                    version=minutes,
                    requested_at=utcnow() - timedelta(minutes=minutes),
                )
            )
    found = samples(api)
    assert found[("rapport_rescore_queue_length", ())] == 2
    assert 300 <= found[("rapport_rescore_queue_oldest_age_seconds", ())] < 330
    assert found[("rapport_database_up", ())] == 1


def test_requests_are_timed_by_route_template_and_sign_in_failures_counted(api, db) -> None:
    api.get("/r/not-a-real-token-abcdef")
    api.post("/api/auth/login", json={"email": "nobody@clinic.test", "password": "wrong one!"})
    found = samples(api)
    page = ("route", "/r/{token}"), ("method", "GET"), ("status", "404")
    assert found[("rapport_http_request_duration_seconds_count", tuple(sorted(page)))] >= 1
    assert found[("rapport_sign_in_failures_total", (("reason", "bad_credentials"),))] >= 1


def test_no_token_code_comment_or_email_reaches_the_metrics(api, db) -> None:
    therapist = signed_in(db)
    client = make_client(db, therapist)
    _, token = make_session_with_link(db, client)
    comment = "canary-comment-7Q2"
    submitted = api.post(
        f"/api/public/ratings/{token}", json={"scores": alliance4(), "comment": comment}
    )
    assert submitted.status_code == 201
    api.get(f"/api/clients/{client.code}/ratings", headers=therapist.headers)
    api.get(f"/r/{token}")
    text = api.get("/metrics").text
    for secret in (token, client.code, comment, therapist.user.email):
        assert secret not in text
    assert re.search(r'route="/api/clients/\{client_id\}/ratings"', text)
