"""The production shape, checked from outside: nginx with TLS in front of two API
instances on PostgreSQL and the dashboard (``make prod-smoke``).

Everything listens on free loopback ports and is stopped at the end; the database is
new and uniquely named, and dropped. The tests run in file order on one stack: the
burst test kills the first API instance, and the tests after it check that the
service, and its scheduled job, go on with the second.
"""

from __future__ import annotations

import gzip
import itertools
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from deploy.local_front import Front, free_port, nginx_binary, prepare_front

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CHROMIUM = Path("/usr/bin/chromium")
#: The demo caseload, under a clinic's own addresses: production refuses @demo.rapport.
DEMO_THERAPIST = "therapist@smoke.example"
DEMO_PASSWORD = "demo-rapport-2026"
#: The daily rescore, every 3 seconds here, so its runs can be watched.
RESCORE_EVERY_SECONDS = 3.0
LEASE_SECONDS = 5
PUBLIC_BURST = 40
SCORES = {"relationship": 8, "goals": 7, "approach": 7.5, "overall": 8}


@dataclass
class Stack:
    front: Front
    api: list[str]
    dashboard: str
    database: str
    rating_token: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    killed_at: datetime | None = None

    @property
    def https(self) -> str:
        return self.front.https_url

    def client(self) -> httpx.Client:
        # The certificate is the self-signed one made for this run.
        return httpx.Client(base_url=self.https, verify=self.front.tls(), timeout=20)

    def sql(self, query: str, *args: object) -> list[tuple]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{self.database}") as db:
            return db.execute(query, args).fetchall()

    def upstreams_in_access_log(self, path: str) -> list[str]:
        lines = (self.front.work / "access.log").read_text().splitlines()
        return [line.split(" ")[-1] for line in lines if f" {path} " in line]


def _wait_until_up(url: str, stack: Stack, name: str, verify: ssl.SSLContext | bool = True) -> None:
    process, log = stack.processes[name], stack.front.work / f"{name}.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2, verify=verify).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{name} did not come up in 60 s:\n{log.read_text()[-3000:]}")


def _trusted_proxy_setting() -> str:
    """RAPPORT_TRUST_FORWARDED_FOR for a proxy at 127.0.0.1.

    Issue 13 turns the setting from a yes/no into the list of proxy addresses to trust;
    this reads which of the two the code at hand expects.
    """
    from backend.config import Settings

    return (
        "true" if Settings.model_fields["trust_forwarded_for"].annotation is bool else "127.0.0.1"
    )


def _start(stack: Stack, name: str, command: list[str], env: dict[str, str]) -> Path:
    log = stack.front.work / f"{name}.log"
    stack.processes[name] = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return log


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if nginx_binary() is None:
        pytest.fail("nginx is missing: make prod-smoke installs Debian's nginx-light (as root).")
    work = Path(tempfile.mkdtemp(prefix="rapport-smoke-"))
    database = f"rapport_smoke_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    api = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    dashboard = f"127.0.0.1:{free_port()}"
    front = prepare_front(
        work,
        api_servers=api,
        dashboard_server=dashboard,
        settings={"RAPPORT_PUBLIC_BURST": str(PUBLIC_BURST)},
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")},
        "RAPPORT_MODE": "production",
        "RAPPORT_SECRET_KEY": secrets.token_urlsafe(48),
        "RAPPORT_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
        "RAPPORT_PUBLIC_BASE_URL": front.https_url,
        "RAPPORT_HTTPS": "true",
        "RAPPORT_DASHBOARD_KEY": secrets.token_urlsafe(32),
    }
    processes: dict[str, subprocess.Popen] = {}
    try:
        subprocess.run([BIN / "rapport", "migrate"], env=env, check=True, capture_output=True)
        demo = subprocess.run(
            [BIN / "rapport", "demo"],
            env={**env, "RAPPORT_MODE": "demo"},
            check=True,
            capture_output=True,
            text=True,
        )
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:5432/{database}", autocommit=True
        ) as connection:
            connection.execute(
                """UPDATE "user" SET email = replace(email, '@demo.rapport', '@smoke.example')"""
            )
        stack = Stack(
            front=front,
            api=[f"http://{address}" for address in api],
            dashboard=f"http://{dashboard}",
            database=database,
            rating_token=re.search(r"/r/([A-Za-z0-9_-]+)", demo.stdout).group(1),
            processes=processes,
        )
        api_env = {
            **env,
            "RAPPORT_TRUST_FORWARDED_FOR": _trusted_proxy_setting(),
            # Any 429 on the public routes below must then come from the proxy.
            "RAPPORT_PUBLIC_RATE_LIMIT_PER_MINUTE": "100000",
            "RAPPORT_RESCORE_EVERY_MINUTES": str(RESCORE_EVERY_SECONDS / 60),
            "RAPPORT_JOBS_CHECK_SECONDS": "0.3",
            "RAPPORT_JOBS_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        for name, address in zip(("api1", "api2"), api, strict=True):
            _start(
                stack,
                name,
                [
                    *(str(BIN / "uvicorn"), "backend.main:app", "--host", "127.0.0.1"),
                    *("--port", address.rsplit(":", 1)[1], "--proxy-headers"),
                    *("--forwarded-allow-ips", "127.0.0.1", "--log-level", "warning"),
                ],
                api_env,
            )
        _start(
            stack,
            "dashboard",
            [
                *(str(BIN / "streamlit"), "run", "dashboard/asgi.py", "--server.headless", "true"),
                *("--server.address", "127.0.0.1", "--server.port", dashboard.rsplit(":", 1)[1]),
            ],
            {
                **env,
                "RAPPORT_API_URL": front.internal_url,
                "RAPPORT_TRUST_FORWARDED_FOR": _trusted_proxy_setting(),
            },
        )
        _start(stack, "nginx", front.command(), dict(os.environ))
        for name, url in (("api1", stack.api[0]), ("api2", stack.api[1])):
            _wait_until_up(f"{url}/health/ready", stack, name)
        _wait_until_up(f"{stack.dashboard}/_stcore/health", stack, "dashboard")
        _wait_until_up(f"{front.https_url}/health/ready", stack, "nginx", verify=front.tls())
        yield stack
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


def test_http_is_redirected_to_https(stack: Stack) -> None:
    answer = httpx.get(f"http://127.0.0.1:{stack.front.http_port}/r/x", follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == f"{stack.https}/r/x"


def test_the_dashboard_is_served_over_https_with_hsts_and_cannot_be_framed(stack: Stack) -> None:
    with stack.client() as https:
        page = https.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert page.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert page.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert page.headers["x-frame-options"] == "DENY"


def test_the_api_answers_carry_one_hsts_header_and_no_framing(stack: Stack) -> None:
    with stack.client() as https:
        ready = https.get("/health/ready")
    assert ready.json() == {"status": "ready"}
    assert ready.headers.get_list("strict-transport-security") == [
        "max-age=63072000; includeSubDomains"
    ]
    assert ready.headers["x-frame-options"] == "DENY"


def test_streamlit_scripts_are_gzipped_and_their_hashed_files_cached_for_a_year(
    stack: Stack,
) -> None:
    with stack.client() as https:
        page = https.get("/")
        script = re.search(r'src="\.?(/static/js/index\.[\w-]+\.js)"', page.text).group(1)
        answer = https.get(script, headers={"Accept-Encoding": "gzip"})
        raw = https.send(
            https.build_request("GET", script, headers={"Accept-Encoding": "gzip"}), stream=True
        )
        compressed = b"".join(raw.iter_raw())
        raw.close()
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert len(compressed) < len(gzip.decompress(compressed)) / 2
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_rapports_own_static_files_are_cached_for_a_day(stack: Stack) -> None:
    with stack.client() as https:
        answer = https.get("/static/rating.css")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "max-age=86400"


def test_a_body_over_64_kib_is_refused_by_the_proxy_with_413(stack: Stack) -> None:
    with stack.client() as https:
        answer = https.post(
            f"/api/public/ratings/{stack.rating_token}",
            content=b"{" + b" " * (64 * 1024 + 1) + b"}",
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 413
    assert answer.json() == {"detail": "The request body is larger than 64 KiB."}


def test_metrics_are_not_served_through_the_proxy(stack: Stack) -> None:
    with stack.client() as https:
        assert https.get("/metrics").status_code == 404
    assert httpx.get(f"{stack.front.internal_url}/metrics").status_code == 404


def test_a_phone_submits_a_rating_through_https(stack: Stack) -> None:
    (before,) = stack.sql("SELECT count(*) FROM rating")
    with stack.client() as https:
        page = https.get(f"/r/{stack.rating_token}")
        submitted = https.post(
            f"/api/public/ratings/{stack.rating_token}",
            json={"scores": SCORES, "wants_to_talk": True},
        )
        assert page.status_code == 200
        assert submitted.status_code == 201, submitted.text
        signed_in = https.post(
            "/api/auth/login", json={"email": DEMO_THERAPIST, "password": DEMO_PASSWORD}
        )
        assert signed_in.status_code == 200, signed_in.text
    # The receipt is opaque (no row number); the rating is there, once.
    assert re.fullmatch(r"[0-9a-f]{32}", submitted.json()["rating_id"])
    assert stack.sql("SELECT count(*) FROM rating") == [(before[0] + 1,)]


def test_the_sign_in_throttle_trips_after_five_failures_whichever_instance_answers(
    stack: Stack,
) -> None:
    attempt = {"email": "nobody@demo.rapport", "password": "not the password at all"}
    with stack.client() as https:
        statuses = [https.post("/api/auth/login", json=attempt).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    answered_by = stack.upstreams_in_access_log("/api/auth/login")[-6:]
    assert set(answered_by) == {a.removeprefix("http://") for a in stack.api}


def test_the_dashboard_signs_in_through_https_in_chromium(stack: Stack) -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (make e2e-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_context(ignore_https_errors=True).new_page()
            page.goto(stack.https, timeout=60_000)
            page.get_by_role("textbox", name="Email").fill(DEMO_THERAPIST)
            page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="My caseload").wait_for(timeout=60_000)
        finally:
            browser.close()


def _job_runs(stack: Stack) -> list[tuple[str, datetime, datetime | None]]:
    return stack.sql(
        "SELECT runner, started_at, finished_at FROM job_run"
        " WHERE job = 'rescore-everyone' ORDER BY started_at"
    )


def _assert_one_run_at_a_time(
    runs: list[tuple[str, datetime, datetime | None]], killed: datetime | None = None
) -> None:
    """Runs never overlap; the one a killed instance had in hand never finishes, and the
    next starts only once its lease has run out."""
    for (_, started, finished), (_, next_started, _) in itertools.pairwise(runs):
        if finished is None and killed is not None and started <= killed:
            assert (next_started - killed).total_seconds() >= LEASE_SECONDS - 0.5
            continue
        assert finished is not None and finished <= next_started
        # Never a second run for the same due time: the next starts an interval later.
        assert (next_started - started).total_seconds() >= RESCORE_EVERY_SECONDS - 0.05


def _wait_for_runs(stack: Stack, count: int, *, after: datetime | None = None) -> list:
    deadline = time.monotonic() + 8 * RESCORE_EVERY_SECONDS + LEASE_SECONDS
    while time.monotonic() < deadline:
        runs = [run for run in _job_runs(stack) if after is None or run[1] > after]
        if len([run for run in runs if run[2] is not None]) >= count:
            return runs
        time.sleep(0.3)
    pytest.fail(f"fewer than {count} runs of the rescore job: {_job_runs(stack)}")


def test_the_scheduled_rescore_runs_once_at_a_time_with_two_instances_up(stack: Stack) -> None:
    runs = _wait_for_runs(stack, 3)
    _assert_one_run_at_a_time(runs)
    seconds = (runs[-1][1] - runs[0][1]).total_seconds()
    assert len(runs) <= seconds / RESCORE_EVERY_SECONDS + 1


def _new_link(https: httpx.Client, headers: dict[str, str], code: str) -> tuple[str, int, str]:
    """A session held today for the client: (code, session number, link token)."""
    issued = https.post(
        f"/api/clients/{code}/sessions",
        json={"held_on": date.today().isoformat()},
        headers=headers,
    )
    assert issued.status_code == 201, issued.text
    link = issued.json()
    return code, link["session"]["session_number"], link["url"].rsplit("/r/", 1)[1]


def _phone_submits(stack: Stack, token: str) -> list[int]:
    """Submit until an answer comes back, as the rating page does; the statuses seen."""
    statuses = []
    key = secrets.token_hex(8)
    with stack.client() as https:
        for _ in range(10):
            try:
                answer = https.post(
                    f"/api/public/ratings/{token}",
                    json={"scores": SCORES},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                statuses.append(0)
                time.sleep(0.5)
                continue
            statuses.append(answer.status_code)
            if answer.status_code in (200, 201):
                return statuses
            time.sleep(0.5)
    return statuses


def test_with_an_instance_killed_during_a_burst_every_rating_lands_exactly_once(
    stack: Stack,
) -> None:
    with stack.client() as https:
        signed_in = https.post(
            "/api/auth/login", json={"email": DEMO_THERAPIST, "password": DEMO_PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {signed_in['access_token']}"}
        clients = https.get("/api/clients?status=active", headers=headers).json()
        links = [_new_link(https, headers, client["code"]) for client in clients[:12]]
    assert len(links) == 12
    with ThreadPoolExecutor(max_workers=6) as phones:
        submitted = [phones.submit(_phone_submits, stack, token) for _, _, token in links]
        time.sleep(0.3)
        stack.killed_at = stack.sql("SELECT now() AT TIME ZONE 'UTC'")[0][0]
        os.killpg(stack.processes["api1"].pid, signal.SIGKILL)
        outcomes = [future.result() for future in submitted]
    assert all(statuses[-1] in (200, 201) for statuses in outcomes), outcomes
    ratings = [
        stack.sql(
            "SELECT count(*) FROM rating r JOIN therapy_session s ON s.id = r.therapy_session_id"
            " JOIN client c ON c.id = s.client_id WHERE c.code = %s AND s.session_number = %s",
            code,
            number,
        )[0][0]
        for code, number, _ in links
    ]
    assert ratings == [1] * len(links)


def test_the_scheduled_rescore_goes_on_after_an_instance_is_killed(stack: Stack) -> None:
    assert stack.killed_at is not None, "runs after the burst test killed an instance"
    runs = _wait_for_runs(stack, 2, after=stack.killed_at)
    _assert_one_run_at_a_time(_job_runs(stack), killed=stack.killed_at)
    survivor = stack.processes["api2"].pid
    assert {runner.rsplit(":", 1)[1] for runner, _, _ in runs} == {str(survivor)}


def test_metrics_expose_the_queue_gauges_and_no_client_data(stack: Stack) -> None:
    text = httpx.get(f"{stack.api[1]}/metrics").text
    assert re.search(r"^rapport_rescore_queue_length \d", text, re.M)
    assert re.search(r"^rapport_rescore_queue_oldest_age_seconds \d", text, re.M)
    assert 'rapport_job_last_finished_timestamp_seconds{job="rescore-everyone"}' in text
    assert 'route="/api/public/ratings/{token}"' in text
    codes = [code for (code,) in stack.sql("SELECT code FROM client")]
    for secret in [stack.rating_token, DEMO_THERAPIST, *codes]:
        assert secret not in text


def test_the_proxy_refuses_a_flood_of_public_requests_with_429(stack: Stack) -> None:
    with stack.client() as https:
        statuses = [
            https.get("/api/public/ratings/not-a-token").status_code
            for _ in range(PUBLIC_BURST + 10)
        ]
        refused = https.get("/api/public/ratings/not-a-token")
    assert statuses[0] == 404 and 429 in statuses
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {"detail": "Too many requests. Please wait a minute and try again."}
