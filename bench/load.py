"""Load with nothing lost: the submission path's capacity, and its latency for people.

``make bench`` (or ``python -m bench load``) starts the real service under uvicorn
(one worker, no access log) on a loopback port with a fresh SQLite database, migrated
with ``rapport migrate``, seeds therapists, clients and rating links straight into it,
drives it, then stops it. Two scenarios, each beside a baseline measured in the same run:

**Capacity** (``wrk``, Debian's HTTP load generator in C: 1 thread, 32 connections,
10 s). Every request is one rating through a link of its own, the full path the phone
uses (``bench/wrk_submit.lua`` walks the seeded tokens). The baseline is
``bench/bare_insert_app.py`` under the same ``wrk`` run: one FastAPI endpoint inserting
one row with a SQLModel session into the same kind of SQLite file (WAL,
``synchronous=FULL``, writers serialised in the process). Target: Rapport's ratings per
second at least ``RATIO_TARGET`` times the bare endpoint's. A Python driver cannot
measure this on two cores: it saturates its core before either server does, and then
both sides show the driver's speed.

**Latency** (the Python driver, httpx + asyncio, for the checks ``wrk`` cannot make):

* 50 phones pause 2-6 s before each submission (people answering) and submit ratings
  for distinct links, each with an ``Idempotency-Key``; every tenth submission is sent
  twice (half of those after the answer came back, as a phone does when the answer was
  lost; half while the first is still in flight, as a double tap does) and both answers
  must name the same rating;
* four therapists poll ``GET /api/flags`` and ``GET /api/caseload`` every second;
* the other four take turns signing in, one sign-in every ``SIGN_IN_INTERVAL_S``, as
  staff arrive and come back after the idle timeout. Each costs about 0.2 s of argon2id,
  which must not hold up the phones' submissions.

Target: a submission's p99 under 100 ms while scoring keeps up. Phones that never pause
cannot meet any latency target (the queue is all the latency there is).

Scoring follows each answer (``backend/flags/rescore_queue.py``), so before stopping the
service each run waits for the rescore queue to empty and prints how long after the last
answer that was: a service that answered fast by falling behind on scoring shows there.
Then it checks the database: one rating per link answered 201, on that link's session, no
duplicates, no rating nobody was told about, as many links marked used as ratings, and
every client's scored summary counting all of their ratings.

Every run prints the CPU the driver itself used (in cores: near 1.0 for its one thread
means the driver, not the server, set the pace), the server's, and the whole machine's
(other work on the machine shows as the difference), with the load average before and
after. The last table lists every target with its figure and PASS or FAIL; a miss makes
the exit status 1.

``--only capacity`` or ``--only latency`` runs one scenario. ``--phones N [--seconds S]
[--think T]`` runs the Python driver's scenario with other phones instead
(``--think`` is the mean pause, 0 by default). ``--postgres`` runs against a fresh
database on the PostgreSQL at 127.0.0.1:5432 with two uvicorn workers (migrated before
they start). ``--proxy`` runs as production does: two API instances (one worker each) on
a fresh PostgreSQL database behind nginx with ``deploy/nginx/rapport.conf``, the drivers
speaking HTTPS to nginx.

Several workers on PostgreSQL in production: migrate once, then start the workers, e.g.
``rapport migrate && uvicorn backend.main:app --workers 4 --no-access-log``. Each worker
keeps its own pool (``RAPPORT_DB_POOL_SIZE``, default 10, plus 10 overflow), so keep
workers x 20 under PostgreSQL's ``max_connections`` (100 by default) or put PgBouncer in
front; each worker keeps its own public rate limit too, so limit at the proxy as well.
On SQLite run one worker: writers share one database lock across processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.serving import (  # noqa: E402
    cpu_seconds,
    free_port,
    load_average,
    machine_cpu_seconds,
    serving,
)
from deploy.local_front import Front, prepare_front  # noqa: E402

SECRET_KEY = "load-bench-secret-key-that-is-long-enough-0123456789"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

THERAPISTS = 8
CLIENTS_PER_THERAPIST = 30
POLLING_THERAPISTS = 4
POLL_INTERVAL_S = 1.0
SIGN_IN_INTERVAL_S = 2.0
#: The seeded therapists' password (load-bench only).
PASSWORD = "load-bench-password-2026"
#: Links are seeded for this many new ratings per second; running out is reported.
LINK_RATE_CEILING = 400
RETRY_EVERY = 10

P99_TARGET_S = 0.100
P99_TARGET_PHONES = 50
RATIO_TARGET = 0.6
BARE_SECONDS = 15.0

#: The capacity run: ``wrk`` with one thread and 32 connections for 10 s, on both servers.
WRK_THREADS = 1
WRK_CONNECTIONS = 32
WRK_SECONDS = 10
#: Links seeded for the capacity run, per second of it; running out is reported.
WRK_LINKS_PER_SECOND = 1500
WRK_SCRIPT = ROOT / "bench" / "wrk_submit.lua"
#: A driver thread busier than this (cores) may be what sets the pace: reported as a miss.
DRIVER_SATURATED = 0.9


@dataclass(frozen=True)
class Scenario:
    phones: int
    seconds: float
    #: Mean pause before each submission (uniform 0.5x to 1.5x); 0: back to back.
    think: float


#: The latency target is for people answering on their phones.
LATENCY = Scenario(phones=50, seconds=30, think=4.0)

#: Scoring that has not caught up this long after the last answer counts as a problem.
SCORING_CATCH_UP_S = 30.0
#: With people answering, scoring keeps up: every answer scored this soon after the last
#: (a stream of ratings is scored every ``RAPPORT_SCORING_INTERVAL_SECONDS``, 2 s).
SCORING_KEEPS_UP_S = 3.0

SUBMIT = "POST /api/public/ratings/{token}"
RETRY = "  same again (retry)"
FLAGS = "GET /api/flags"
SIGN_IN = "POST /api/auth/login"
CASELOAD = "GET /api/caseload"
BARE = "POST /ratings/{token} (bare)"


# --- seeding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    #: Plaintext link tokens in submission order, with the therapy session each belongs to.
    links: list[tuple[str, int]]
    therapist_headers: list[dict[str, str]]
    #: Emails of the therapists who sign in during the run (the others poll).
    signing_in: list[str]


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "RAPPORT_MODE": "dev",
        "RAPPORT_SECRET_KEY": SECRET_KEY,
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_PUBLIC_RATE_LIMIT_PER_MINUTE": "100000000",  # every phone is 127.0.0.1
        # The daily rescore would run once as the server starts, inside the measured window.
        "RAPPORT_RUN_SCHEDULED_JOBS": "false",
    }


def migrate(database_url: str) -> None:
    """As in production: ``rapport migrate`` once, before any worker starts."""
    subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"],
        cwd=ROOT,
        env=server_env(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def seed(database_url: str, *, ratings_needed: int) -> Seeded:
    """Therapists with live sign-ins, their clients, and a rating link per therapy session.

    Links are ordered round-robin over clients by session number, so each client's
    history grows through the run as it would week by week.
    """
    from backend.auth.passwords import hash_password
    from backend.auth.tokens import link_token_hash, new_token
    from backend.clients.codes import new_client_code
    from backend.clients.models import Client
    from backend.clock import today, utcnow
    from backend.config import Settings
    from backend.db import Database
    from backend.factories import add_access_token, add_staff, bearer
    from backend.teams.service import team_named
    from backend.therapy.models import RatingLink, TherapySession

    settings = Settings(mode="dev", database_url=database_url, secret_key=SECRET_KEY)
    database = Database(settings)
    clients_total = THERAPISTS * CLIENTS_PER_THERAPIST
    sessions_per_client = -(-ratings_needed // clients_total)
    now = utcnow()
    first_day = today() - timedelta(days=7 * sessions_per_client)
    password_hash = hash_password(PASSWORD)
    try:
        with database.writing() as session:
            team = team_named(session=session, name="Load")
            therapists = [
                add_staff(
                    session,
                    email=f"therapist{n}@load.test",
                    display_name=f"Therapist {n}",
                    role="therapist",
                    team=team,
                    password_hash=password_hash,
                )
                for n in range(THERAPISTS)
            ]
            headers = [
                bearer(add_access_token(session, user_id=therapist.id, secret_key=SECRET_KEY))
                for therapist in therapists[:POLLING_THERAPISTS]
            ]
            clients = [
                Client(code=new_client_code(), therapist_id=therapist.id)
                for therapist in therapists
                for _ in range(CLIENTS_PER_THERAPIST)
            ]
            session.add_all(clients)
            session.flush()
            held = [
                TherapySession(
                    client_id=client.id,
                    session_number=number,
                    held_on=first_day + timedelta(days=7 * number),
                    instrument="alliance4",
                    created_by=client.therapist_id,
                )
                for number in range(1, sessions_per_client + 1)
                for client in clients
            ]
            session.add_all(held)
            session.flush()
            tokens = [new_token() for _ in held]
            session.add_all(
                RatingLink(
                    therapy_session_id=therapy_session.id,
                    token_hash=link_token_hash(token),
                    created_at=now,
                    expires_at=now + timedelta(days=settings.link_ttl_days),
                )
                for therapy_session, token in zip(held, tokens, strict=True)
            )
            links = [(token, ts.id) for token, ts in zip(tokens, held, strict=True)]
    finally:
        database.engine.dispose()
    signing_in = [therapist.email for therapist in therapists[POLLING_THERAPISTS:]]
    return Seeded(links=links, therapist_headers=headers, signing_in=signing_in)


# --- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    url: str
    #: uvicorn's process: the server itself with one worker, their supervisor with more.
    pid: int


@contextlib.contextmanager
def uvicorn_server(app: str, env: dict[str, str], *, workers: int = 1) -> Iterator[Served]:
    """``uvicorn app`` on a free loopback port until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "uvicorn", app),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--no-access-log", "--log-level", "warning"),
        # Longer than a phone keeps a connection idle: uvicorn's 5 s default races
        # with the driver reusing a pooled connection (a ReadError on a POST).
        *("--timeout-keep-alive", "75"),
    ]
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "server.log"
        try:
            with serving(command, env=env, health=f"{base_url}/health/ready", log=log) as process:
                yield Served(url=base_url, pid=process.pid)
        finally:
            output = log.read_text(errors="replace").strip() if log.exists() else ""
            if output:
                print(f"server output ({app}):\n{output[-3000:]}")


# --- CPU ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuUse:
    """Cores used on average over a run: 1.0 is one core busy the whole time."""

    driver: float
    server: float
    machine: float


class CpuWatch:
    """CPU used from now until ``stop`` by the server (and its workers) and the machine."""

    def __init__(self, server_pids: list[int]) -> None:
        self._pids = server_pids
        self._started = time.perf_counter()
        self._server = self._server_seconds()
        self._machine = machine_cpu_seconds()

    def _server_seconds(self) -> float:
        pids = list(self._pids)
        for pid in self._pids:  # uvicorn --workers N: the workers are the supervisor's children
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                pids += [int(child) for child in children.read_text().split()]
        return sum(cpu_seconds(pid) for pid in pids)

    def stop(self, driver_seconds: float) -> CpuUse:
        wall = time.perf_counter() - self._started
        return CpuUse(
            driver=driver_seconds / wall,
            server=(self._server_seconds() - self._server) / wall,
            machine=(machine_cpu_seconds() - self._machine) / wall,
        )


def _cores(cpu: CpuUse | None) -> str:
    if cpu is None:
        return ""
    return (
        f"CPU (cores): driver {cpu.driver:.2f}, server {cpu.server:.2f}, "
        f"whole machine {cpu.machine:.2f} of {os.cpu_count()}"
    )


# --- the Python driver --------------------------------------------------------------------


@dataclass
class RunResult:
    label: str
    phones: int
    think: float
    elapsed: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    #: token -> rating_id for every link the service answered 201 for.
    accepted: dict[str, int] = field(default_factory=dict)
    ran_out_of_links: bool = False
    #: Seconds from the end of the run until every answer was scored (None: not checked).
    scoring_lag: float | None = None
    cpu: CpuUse | None = None

    def note(self, route: str, status: str, seconds: float) -> None:
        self.latencies.setdefault(route, []).append(seconds)
        self.statuses.setdefault(route, Counter())[status] += 1

    @property
    def recorded_per_second(self) -> float:
        return len(self.accepted) / self.elapsed if self.elapsed else 0.0

    def p99(self) -> float:
        first = self.latencies.get(SUBMIT) or self.latencies.get(BARE) or [float("inf")]
        return float(np.percentile(first, 99))


def rating_body(rng: random.Random) -> dict[str, object]:
    """Mostly a good session, sometimes a strained one, so some ratings raise flags."""
    centre = 9.0 if rng.random() > 0.15 else 5.5
    items = ("relationship", "goals", "approach", "overall")
    scores = {item: round(min(10.0, max(0.0, rng.gauss(centre, 0.6))), 1) for item in items}
    return {"scores": scores, "wants_to_talk": rng.random() < 0.03}


async def drive(
    base_url: str,
    *,
    label: str,
    path: str,
    links: list[tuple[str, int]],
    phones: int,
    seconds: float,
    think: float = 0.0,
    therapist_headers: list[dict[str, str]] = (),
    signing_in: list[str] = (),
    retries: bool = True,
    route: str = SUBMIT,
    verify: ssl.SSLContext | bool = True,
    server_pids: list[int] = (),
) -> RunResult:
    """Run the phones (and pollers) for ``seconds``; in-flight requests are let finish."""
    result = RunResult(label=label, phones=phones, think=think)
    watch, driver_started = CpuWatch(list(server_pids)), time.process_time()
    pending = iter(links)
    submission_number = itertools.count(1)
    rng = random.Random(20261126)
    now = time.perf_counter
    limits = httpx.Limits(max_connections=phones + len(therapist_headers) + 5)
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=30, verify=verify
    ) as http:

        async def post(route: str, url: str, body: dict, key: str) -> tuple[int, int | None]:
            started = time.perf_counter()
            try:
                response = await http.post(url, json=body, headers={"Idempotency-Key": key})
            except httpx.HTTPError as error:
                result.note(route, type(error).__name__, time.perf_counter() - started)
                result.problems[f"{route}: {type(error).__name__}"] += 1
                return 0, None
            result.note(route, str(response.status_code), time.perf_counter() - started)
            rating_id = response.json().get("rating_id") if response.is_success else None
            return response.status_code, rating_id

        async def phone() -> None:
            while now() < deadline:
                if think:
                    await asyncio.sleep(min(rng.uniform(0.5, 1.5) * think, deadline - now()))
                    if now() >= deadline:
                        return
                token, _ = next(pending, (None, None))
                if token is None:
                    result.ran_out_of_links = True
                    return
                url, body, key = path.format(token=token), rating_body(rng), uuid.uuid4().hex
                retry = retries and next(submission_number) % RETRY_EVERY == 0
                if retry and rng.random() < 0.5:  # double tap: both in flight at once
                    answers = await asyncio.gather(
                        post(route, url, body, key), post(RETRY, url, body, key)
                    )
                    if sorted(status for status, _ in answers) != [200, 201]:
                        result.problems["double tap: not one 201 and one 200"] += 1
                else:
                    answers = [await post(route, url, body, key)]
                    if retry and answers[0][0] == 201:
                        answers.append(await post(RETRY, url, body, key))
                        if answers[1][0] != 200:
                            result.problems[f"retry answered {answers[1][0]}, not 200"] += 1
                created = [rating_id for status, rating_id in answers if status == 201]
                if len({rating_id for _, rating_id in answers}) != 1:
                    result.problems["retry named another rating"] += 1
                if created:
                    result.accepted[token] = created[0]
                for status, _ in answers:
                    if status not in (0, 200, 201):  # 0: already counted as an exception
                        result.problems[f"{route}: {status}"] += 1

        async def therapist(headers: dict[str, str]) -> None:
            while time.perf_counter() < deadline:
                for route, url in ((FLAGS, "/api/flags"), (CASELOAD, "/api/caseload")):
                    started = time.perf_counter()
                    try:
                        response = await http.get(url, headers=headers)
                        status = str(response.status_code)
                    except httpx.HTTPError as error:
                        status = type(error).__name__
                    result.note(route, status, time.perf_counter() - started)
                    if status != "200":
                        result.problems[f"{route}: {status}"] += 1
                await asyncio.sleep(POLL_INTERVAL_S)

        async def arrivals(emails: list[str]) -> None:
            for email in itertools.cycle(emails):
                if now() >= deadline:
                    return
                started = now()
                body = {"email": email, "password": PASSWORD}
                try:
                    status = str((await http.post("/api/auth/login", json=body)).status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                result.note(SIGN_IN, status, now() - started)
                if status != "200":
                    result.problems[f"{SIGN_IN}: {status}"] += 1
                await asyncio.sleep(max(0.0, SIGN_IN_INTERVAL_S - (now() - started)))

        started = time.perf_counter()
        deadline = started + seconds
        tasks = [phone() for _ in range(phones)]
        tasks += [therapist(headers) for headers in therapist_headers]
        tasks += [arrivals(signing_in)] if signing_in else []
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + 60)
        result.elapsed = time.perf_counter() - started
    result.cpu = watch.stop(time.process_time() - driver_started)
    if result.ran_out_of_links:
        result.problems["ran out of seeded links (raise LINK_RATE_CEILING)"] += 1
    return result


# --- wrk ----------------------------------------------------------------------------------


@dataclass
class WrkRun:
    """One ``wrk`` run of the capacity scenario against one server."""

    label: str
    elapsed: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: Counter[str] = field(default_factory=Counter)
    #: Percentile ("50", "99", "max", ...) -> seconds, as wrk measured them.
    latency: dict[str, float] = field(default_factory=dict)
    problems: Counter[str] = field(default_factory=Counter)
    scoring_lag: float | None = None
    cpu: CpuUse | None = None

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def recorded_per_second(self) -> float:
        return self.created / self.elapsed if self.elapsed else 0.0

    def p99(self) -> float:
        return self.latency.get("99", float("inf"))


def wrk_binary() -> str:
    """Debian's ``wrk`` (``make bench`` installs it when missing)."""
    for candidate in ("/usr/bin/wrk", "/usr/local/bin/wrk"):
        if Path(candidate).exists():
            return candidate
    raise SystemExit("wrk is missing: run `make bench`, or as root `apt-get install -y wrk`")


def run_wrk(
    url: str, *, label: str, path_prefix: str, tokens: list[str], server_pids: list[int]
) -> WrkRun:
    """``wrk`` posting one rating per token through ``path_prefix``; statuses counted."""
    run = WrkRun(label=label)
    with tempfile.TemporaryDirectory(prefix="rapport-wrk-") as scratch:
        tokens_file, output = Path(scratch) / "tokens", Path(scratch) / "wrk.out"
        tokens_file.write_text("\n".join(tokens) + "\n")
        command = [
            wrk_binary(),
            *("-t", str(WRK_THREADS), "-c", str(WRK_CONNECTIONS), "-d", f"{WRK_SECONDS}s"),
            *("--timeout", "30s", "-s", str(WRK_SCRIPT), url),
            *("--", str(tokens_file), path_prefix, str(WRK_THREADS)),
        ]
        watch = CpuWatch(server_pids)
        with output.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
            # wait4: the driver's own CPU, from the kernel's accounting of the wrk process.
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        run.cpu = watch.stop(usage.ru_utime + usage.ru_stime)
        text = output.read_text(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{text[-2000:]}")
    for line in text.splitlines():
        match line.split():
            case ["status", code, count]:
                run.statuses[int(code)] += int(count)
            case ["latency_us", percentile, micros]:
                run.latency[percentile] = int(micros) / 1e6
            case ["duration_us", micros]:
                run.elapsed = int(micros) / 1e6
            case ["socket_errors", kind, count] if int(count):
                run.socket_errors[kind] += int(count)
    for kind, count in run.socket_errors.items():
        if kind != "status":  # non-2xx answers are counted by status below
            run.problems[f"socket {kind} errors"] += count
    for code, count in run.statuses.items():
        if code != 201:
            run.problems[f"answered {code}"] += count
    if run.statuses and sum(run.statuses.values()) >= len(tokens):
        run.problems["ran out of seeded links (raise WRK_LINKS_PER_SECOND)"] += 1
    return run


# --- checking the database ----------------------------------------------------------------


def wait_for_scoring(database_url: str) -> float | None:
    """Seconds until the service's rescore queue is empty, or None if it never was."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < SCORING_CATCH_UP_S:
            with engine.connect() as connection:
                queued = connection.execute(text("SELECT count(*) FROM rescore_request"))
                if queued.scalar_one() == 0:
                    return time.perf_counter() - started
            time.sleep(0.05)
    finally:
        engine.dispose()
    return None


def check_rapport_database(
    database_url: str,
    problems: Counter[str],
    *,
    accepted: dict[str, int] | None,
    created: int,
    links: list[tuple[str, int]],
    in_flight: int = 0,
) -> int:
    """Every 201 has its rating on the right session, and there is nothing else.

    ``accepted`` (token -> receipt) is what the Python driver was told; ``wrk`` keeps
    only counts, so for it the number of ratings stored must be the 201 answers plus at
    most the ``in_flight`` requests it dropped when it stopped.
    """
    from sqlalchemy import func
    from sqlmodel import col, select

    from backend.auth.tokens import rating_receipt_id
    from backend.config import Settings
    from backend.db import Database
    from backend.flags.models import ClientSummary
    from backend.ratings.models import Rating
    from backend.therapy.models import RatingLink, TherapySession

    database = Database(Settings(mode="dev", database_url=database_url, secret_key=SECRET_KEY))
    try:
        with database.reading() as session:
            stored = {
                rating_receipt_id(rating_id, SECRET_KEY): therapy_session_id
                for rating_id, therapy_session_id in session.exec(
                    select(Rating.id, Rating.therapy_session_id)
                ).all()
            }
            duplicated = session.exec(
                select(Rating.therapy_session_id)
                .group_by(Rating.therapy_session_id)
                .having(func.count() > 1)
            ).all()
            used = session.exec(
                select(func.count()).where(col(RatingLink.used_at).is_not(None))
            ).one()
            rated = dict(
                session.exec(
                    select(TherapySession.client_id, func.count())
                    .join(Rating, col(Rating.therapy_session_id) == TherapySession.id)
                    .group_by(TherapySession.client_id)
                ).all()
            )
            scored = dict(
                session.exec(select(ClientSummary.client_id, ClientSummary.ratings_count)).all()
            )
    finally:
        database.engine.dispose()
    checks = [
        ("duplicated: more than one rating for a session", len(duplicated)),
        ("links marked used != ratings stored", abs(used - len(stored))),
        (
            "clients whose scored summary misses ratings",
            sum(1 for client, count in rated.items() if scored.get(client) != count),
        ),
    ]
    if accepted is None:
        # wrk stops with a request in flight on each connection: the server may store
        # those without wrk counting the 201. Fewer ratings than 201s would be a loss.
        extra = len(stored) - created
        checks.append(
            ("ratings stored != 201 answers", 0 if 0 <= extra <= in_flight else abs(extra))
        )
    else:
        session_of = dict(links)
        told = set(accepted.values())
        checks += [
            (
                "lost: answered 201 but no such rating on that session",
                sum(
                    1
                    for token, receipt in accepted.items()
                    if stored.get(receipt) != session_of[token]
                ),
            ),
            ("stored without a 201 answer", sum(1 for receipt in stored if receipt not in told)),
        ]
    for name, count in checks:
        if count:
            problems[name] += count
    return len(stored)


def check_bare_database(
    database_url: str, problems: Counter[str], *, created: int, in_flight: int = 0
) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT count(*) FROM bare_rating")).scalar_one()
    finally:
        engine.dispose()
    if not 0 <= rows - created <= in_flight:
        problems["bare rows != 201 answers"] += abs(rows - created)
    return rows


# --- runs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """Where Rapport runs: SQLite with one worker, PostgreSQL with two, or nginx in front."""

    label: str
    postgres: bool = False
    workers: int = 1
    instances: int = 1


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    import psycopg

    name = f"rapport_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def nginx_front(api_urls: list[str]) -> Iterator[Front]:
    """``deploy/nginx/rapport.conf`` over HTTPS in front of the API instances.

    Every phone here is 127.0.0.1, so the per-address limits are lifted; the rest
    (TLS, gzip, headers, balancing) is the production configuration.
    """
    with tempfile.TemporaryDirectory(prefix="rapport-front-") as scratch:
        front = prepare_front(
            Path(scratch),
            api_servers=[url.removeprefix("http://") for url in api_urls],
            dashboard_server="127.0.0.1:9",  # not used by the load
            settings={
                "RAPPORT_PUBLIC_RATE_PER_MINUTE": "6000000",
                "RAPPORT_PUBLIC_BURST": "100000",
                "RAPPORT_LOGIN_RATE_PER_MINUTE": "6000000",
            },
        )
        log = Path(scratch) / "nginx.log"
        with serving(
            front.command(),
            env=dict(os.environ),
            health=f"{front.internal_url}/health/ready",
            log=log,
        ):
            yield front


@contextlib.contextmanager
def rapport_database(deployment: Deployment, scratch: Path, name: str) -> Iterator[str]:
    if deployment.postgres:
        with fresh_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{scratch / f'rapport-{name}.db'}"


@contextlib.contextmanager
def rapport_service(
    deployment: Deployment, database_url: str
) -> Iterator[tuple[str, ssl.SSLContext | bool, list[int]]]:
    """The API (behind nginx when asked); yields its URL, TLS check and server pids."""
    env = server_env(database_url)
    with contextlib.ExitStack() as running:
        served = [
            running.enter_context(
                uvicorn_server("backend.main:app", env, workers=deployment.workers)
            )
            for _ in range(deployment.instances)
        ]
        url, verify = served[0].url, True
        if deployment.instances > 1:
            front = running.enter_context(nginx_front([s.url for s in served]))
            url, verify = front.https_url, front.tls()
        yield url, verify, [s.pid for s in served]


def run_rapport(database_url: str, scenario: Scenario, deployment: Deployment) -> RunResult:
    """Rapport under the Python driver: phones, pollers and sign-ins."""
    migrate(database_url)
    seeded = seed(database_url, ratings_needed=int(LINK_RATE_CEILING * scenario.seconds))
    with rapport_service(deployment, database_url) as (url, verify, pids):
        result = asyncio.run(
            drive(
                url,
                label=deployment.label,
                path="/api/public/ratings/{token}",
                links=seeded.links,
                phones=scenario.phones,
                seconds=scenario.seconds,
                think=scenario.think,
                therapist_headers=seeded.therapist_headers,
                signing_in=seeded.signing_in,
                verify=verify,
                server_pids=pids,
            )
        )
        result.scoring_lag = wait_for_scoring(database_url)
    if result.scoring_lag is None:
        result.problems[f"scoring had not caught up {SCORING_CATCH_UP_S:g} s after the run"] += 1
    check_rapport_database(
        database_url,
        result.problems,
        accepted=result.accepted,
        created=len(result.accepted),
        links=seeded.links,
    )
    return result


def run_rapport_capacity(database_url: str, deployment: Deployment) -> WrkRun:
    """Rapport's full submission path under ``wrk``; nothing else is asking."""
    migrate(database_url)
    seeded = seed(database_url, ratings_needed=WRK_LINKS_PER_SECOND * WRK_SECONDS)
    with rapport_service(deployment, database_url) as (url, _verify, pids):
        run = run_wrk(
            url,
            label=deployment.label,
            path_prefix="/api/public/ratings/",
            tokens=[token for token, _ in seeded.links],
            server_pids=pids,
        )
        run.scoring_lag = wait_for_scoring(database_url)
    if run.scoring_lag is None:
        run.problems[f"scoring had not caught up {SCORING_CATCH_UP_S:g} s after the run"] += 1
    check_rapport_database(
        database_url,
        run.problems,
        accepted=None,
        created=run.created,
        links=seeded.links,
        in_flight=WRK_CONNECTIONS,
    )
    return run


@contextlib.contextmanager
def bare_service(directory: Path, name: str) -> Iterator[tuple[Served, str]]:
    database_url = f"sqlite:///{directory / f'bare-{name}.db'}"
    env = {**os.environ, "BARE_DATABASE_URL": database_url}
    with uvicorn_server("bench.bare_insert_app:app", env) as served:
        yield served, database_url


def run_bare(directory: Path, scenario: Scenario) -> RunResult:
    seconds = min(scenario.seconds, BARE_SECONDS)
    links = [(uuid.uuid4().hex, 0) for _ in range(int(LINK_RATE_CEILING * 4 * seconds))]
    with bare_service(directory, f"{scenario.phones}-{scenario.think}") as (served, url):
        result = asyncio.run(
            drive(
                served.url,
                label="bare insert",
                path="/ratings/{token}",
                links=links,
                phones=scenario.phones,
                seconds=seconds,
                think=scenario.think,
                retries=False,
                route=BARE,
                server_pids=[served.pid],
            )
        )
    check_bare_database(url, result.problems, created=len(result.accepted))
    return result


def run_bare_capacity(directory: Path) -> WrkRun:
    tokens = [uuid.uuid4().hex for _ in range(WRK_LINKS_PER_SECOND * 4 * WRK_SECONDS)]
    with bare_service(directory, "wrk") as (served, url):
        run = run_wrk(
            served.url,
            label="bare insert",
            path_prefix="/ratings/",
            tokens=tokens,
            server_pids=[served.pid],
        )
    check_bare_database(url, run.problems, created=run.created, in_flight=WRK_CONNECTIONS)
    return run


# --- printing -----------------------------------------------------------------------------


def print_routes(result: RunResult) -> None:
    pause = f"pausing {result.think:g} s on average" if result.think else "back to back"
    print(f"\n{result.label}: {result.phones} phones {pause}, {result.elapsed:.1f} s")
    header = f"{'route':34} {'requests':>9} {'req/s':>8} {'p50':>9} {'p95':>9} {'p99':>9}  statuses"
    print(header)
    print("-" * len(header))
    for route, samples in result.latencies.items():
        p50, p95, p99 = np.percentile(samples, [50, 95, 99])
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result.statuses[route].items()))
        print(
            f"{route:34} {len(samples):>9,} {len(samples) / result.elapsed:>8.1f} "
            f"{_ms(p50):>9} {_ms(p95):>9} {_ms(p99):>9}  {statuses}"
        )
    print(f"ratings recorded: {len(result.accepted):,} ({result.recorded_per_second:.1f}/s)")
    if result.scoring_lag is not None:
        print(f"every answer scored {result.scoring_lag:.2f} s after the run ended")
    print(_cores(result.cpu))
    for problem, count in sorted(result.problems.items()):
        print(f"  PROBLEM {problem}: {count}")


def print_capacity(runs: list[WrkRun]) -> None:
    print(
        f"\ncapacity: wrk, {WRK_THREADS} thread, {WRK_CONNECTIONS} connections, "
        f"{WRK_SECONDS} s, a distinct link per request"
    )
    header = (
        f"{'server':26} {'ratings/s':>10} {'p50':>9} {'p90':>9} {'p99':>9} {'max':>9} "
        f"{'wrk CPU':>8} {'server':>7} {'machine':>8}  answers"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        cpu = run.cpu or CpuUse(0, 0, 0)
        answers = ", ".join(f"{code}: {n:,}" for code, n in sorted(run.statuses.items()))
        print(
            f"{run.label:26} {run.recorded_per_second:>10.1f} {_ms(run.latency.get('50', 0)):>9} "
            f"{_ms(run.latency.get('90', 0)):>9} {_ms(run.p99()):>9} "
            f"{_ms(run.latency.get('max', 0)):>9} {cpu.driver:>8.2f} {cpu.server:>7.2f} "
            f"{cpu.machine:>8.2f}  {answers}"
        )
        if run.scoring_lag is not None:
            print(f"  every answer scored {run.scoring_lag:.2f} s after the run ended")
        for problem, count in sorted(run.problems.items()):
            print(f"  PROBLEM {problem}: {count}")
    print(f"CPU in cores (machine: every process on its {os.cpu_count()} cores)")


@dataclass(frozen=True)
class Target:
    name: str
    measured: str
    wanted: str
    met: bool


def capacity_targets(rapport: WrkRun, bare: WrkRun) -> list[Target]:
    ratio = rapport.recorded_per_second / max(bare.recorded_per_second, 1e-9)
    errors = sum(rapport.problems.values()) + sum(bare.problems.values())
    busiest = max((run.cpu.driver for run in (rapport, bare) if run.cpu), default=0.0)
    return [
        Target(
            f"capacity: Rapport / bare ratings/s ({WRK_CONNECTIONS} connections)",
            f"{rapport.recorded_per_second:.0f} / {bare.recorded_per_second:.0f} = {ratio:.2f}x",
            f">= {RATIO_TARGET}x",
            ratio >= RATIO_TARGET,
        ),
        Target("capacity: errors, lost or duplicated", str(errors), "0", errors == 0),
        Target(
            "capacity: wrk's own CPU (not the bottleneck)",
            f"{busiest:.2f} cores",
            f"< {DRIVER_SATURATED}",
            busiest < DRIVER_SATURATED,
        ),
    ]


def latency_targets(rapport: RunResult, bare: RunResult) -> list[Target]:
    errors = sum(rapport.problems.values()) + sum(bare.problems.values())
    people = f"{rapport.phones} phones pausing {rapport.think:g} s"
    targets = [
        Target(f"latency: errors, lost or duplicated ({people})", str(errors), "0", errors == 0)
    ]
    if rapport.think and rapport.phones <= P99_TARGET_PHONES:
        lag = rapport.scoring_lag
        targets += [
            Target(
                # The bare endpoint's p99 with the same phones shows how busy the machine was.
                f"latency: submission p99 ({people})",
                f"{_ms(rapport.p99())} (bare {_ms(bare.p99())})",
                f"<= {_ms(P99_TARGET_S)}",
                rapport.p99() <= P99_TARGET_S,
            ),
            Target(
                "latency: scoring keeps up (lag after the last answer)",
                "never" if lag is None else f"{lag:.2f} s",
                f"<= {SCORING_KEEPS_UP_S:g} s",
                lag is not None and lag <= SCORING_KEEPS_UP_S,
            ),
        ]
    if rapport.cpu is not None:
        targets.append(
            Target(
                "latency: Python driver's own CPU",
                f"{rapport.cpu.driver:.2f} cores",
                f"< {DRIVER_SATURATED}",
                rapport.cpu.driver < DRIVER_SATURATED,
            )
        )
    return targets


def print_targets(targets: list[Target]) -> bool:
    """The table ``make bench`` is judged by; returns True if any target was missed."""
    width = max(len(t.name) for t in targets)
    header = f"{'target':{width}} {'measured':>26} {'wanted':>12}  result"
    print("\n" + header)
    print("-" * len(header))
    for t in targets:
        print(f"{t.name:{width}} {t.measured:>26} {t.wanted:>12}  {'PASS' if t.met else 'FAIL'}")
    return not all(t.met for t in targets)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", choices=("capacity", "latency"), help="run one scenario")
    parser.add_argument("--phones", type=int, help="the Python driver with this many phones")
    parser.add_argument("--seconds", type=float, default=30.0, help="with --phones (30)")
    parser.add_argument("--think", type=float, default=0.0, help="with --phones: mean pause (0)")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL with 2 workers instead of SQLite"
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="PostgreSQL, 2 API instances behind nginx (deploy/nginx) over HTTPS",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    deployment = Deployment(label="Rapport, SQLite x1")
    if args.postgres:
        deployment = Deployment(label="Rapport, PostgreSQL x2", postgres=True, workers=2)
    if args.proxy:
        deployment = Deployment(label="Rapport, nginx + 2 on PG", postgres=True, instances=2)
    latency = Scenario(args.phones, args.seconds, args.think) if args.phones else LATENCY
    print(f"load average before: {load_average()}")
    targets: list[Target] = []
    with tempfile.TemporaryDirectory(prefix="rapport-load-") as scratch:
        directory = Path(scratch)
        if args.only in (None, "capacity") and not args.phones:
            with rapport_database(deployment, directory, "capacity") as url:
                rapport_capacity = run_rapport_capacity(url, deployment)
            bare_capacity = run_bare_capacity(directory)
            print_capacity([rapport_capacity, bare_capacity])
            targets += capacity_targets(rapport_capacity, bare_capacity)
        if args.only in (None, "latency"):
            with rapport_database(deployment, directory, "latency") as url:
                rapport = run_rapport(url, latency, deployment)
            print_routes(rapport)
            bare = run_bare(directory, latency)
            print_routes(bare)
            targets += latency_targets(rapport, bare)
    missed = print_targets(targets)
    print(f"load average after: {load_average()}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
