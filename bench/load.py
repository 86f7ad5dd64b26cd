"""Load with nothing lost: many phones submitting ratings while therapists poll.

``make bench`` (or ``python -m bench load``) starts the real service under uvicorn
(one worker, no access log) on a loopback port with a fresh SQLite database, migrated
with ``rapport migrate``, seeds therapists, clients and rating links straight into it,
and drives it with simulated phones (httpx + asyncio), then stops it:

* each phone submits ratings for distinct links, one after another, each with an
  ``Idempotency-Key``; every tenth submission is sent twice (half of those after the
  answer came back, as a phone does when the answer was lost; half while the first is
  still in flight, as a double tap does) and both answers must name the same rating;
* four therapists poll ``GET /api/flags`` and ``GET /api/caseload`` every second;
* the other four take turns signing in, one sign-in every ``SIGN_IN_INTERVAL_S``, as
  staff arrive and come back after the idle timeout. Each costs about 0.2 s of argon2id,
  which must not hold up the phones' submissions.

It prints requests/s and p50/p95/p99 per route and answers by status. Scoring follows
each answer (``backend/flags/rescore_queue.py``), so before stopping the service it waits
for the rescore queue to empty and prints how long after the last answer that was: a
service that answered fast by falling behind on scoring would show it there. Then it
checks the database: one rating per link answered 201, on that link's session, no
duplicates, no rating nobody was told about, as many links marked used as ratings, and
every client's scored summary counting all of their ratings.

The baseline, measured in the same run by the same driver with the same phones, is
``bench/bare_insert_app.py``: one FastAPI endpoint inserting one row with a SQLModel
session into the same kind of SQLite file, under the same uvicorn settings. The ratio
compares ratings recorded per second (retries not counted) with bare rows per second.

Default plan, about four minutes on two cores:

* 50 phones that pause 2-6 s before each submission (people answering), 30 s: the
  latency target. Phones that never pause cannot meet any latency target: at 50 of them
  even the bare endpoint's p99 is seconds, because the queue is all the latency there is;
* 200 phones back to back, 60 s (the issue's figure): the capacity target;
* the bare endpoint for 15 s after each, with the same phones.

``--phones N [--seconds S] [--think T]`` runs one scenario instead
(``python -m bench load --seconds 20 --phones 50``; ``--think`` is the mean pause,
0 by default). ``--postgres`` runs the plan against a fresh database on the PostgreSQL at
127.0.0.1:5432 with two uvicorn workers (migrated before they start). ``--proxy`` runs it
as production does: two API instances (one worker each) on a fresh PostgreSQL database
behind nginx with ``deploy/nginx/rapport.conf``, the phones speaking HTTPS to nginx.

Targets (exit 1 if one is missed): every run without errors and with nothing lost or
duplicated; with pausing phones, at most 50 of them, a submission's p99 under 100 ms;
with phones back to back, ratings per second at least half the bare endpoint's.

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

from bench.serving import free_port, serving  # noqa: E402
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
RATIO_TARGET = 0.5
BARE_SECONDS = 15.0


@dataclass(frozen=True)
class Scenario:
    phones: int
    seconds: float
    #: Mean pause before each submission (uniform 0.5x to 1.5x); 0: back to back.
    think: float


#: The latency target is for people answering on their phones; the capacity target is for
#: phones that submit back to back, which saturates the service and the bare endpoint alike.
PLAN = (Scenario(phones=50, seconds=30, think=4.0), Scenario(phones=200, seconds=60, think=0))

#: Scoring that has not caught up this long after the last answer counts as a problem.
SCORING_CATCH_UP_S = 30.0

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
    from backend.auth.models import AccessToken
    from backend.auth.passwords import hash_password
    from backend.auth.tokens import access_token_hash, link_token_hash, new_token
    from backend.clients.codes import new_client_code
    from backend.clients.models import Client
    from backend.clock import today, utcnow
    from backend.config import Settings
    from backend.db import Database
    from backend.teams.service import team_named
    from backend.therapy.models import RatingLink, TherapySession
    from backend.users.models import User

    settings = Settings(mode="dev", database_url=database_url, secret_key=SECRET_KEY)
    database = Database(settings)
    clients_total = THERAPISTS * CLIENTS_PER_THERAPIST
    sessions_per_client = -(-ratings_needed // clients_total)
    now = utcnow()
    first_day = today() - timedelta(days=7 * sessions_per_client)
    password_hash = hash_password(PASSWORD)
    headers = []
    try:
        with database.writing() as session:
            team = team_named(session=session, name="Load")
            therapists = [
                User(
                    email=f"therapist{n}@load.test",
                    display_name=f"Therapist {n}",
                    role="therapist",
                    team_id=team.id,
                    password_hash=password_hash,
                )
                for n in range(THERAPISTS)
            ]
            session.add_all(therapists)
            session.flush()
            for therapist in therapists[:POLLING_THERAPISTS]:
                token = new_token()
                session.add(
                    AccessToken(
                        token_hash=access_token_hash(token, SECRET_KEY),
                        user_id=therapist.id,
                        created_at=now,
                        last_used_at=now,
                        expires_at=now + timedelta(hours=12),
                    )
                )
                headers.append({"Authorization": f"Bearer {token}"})
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


@contextlib.contextmanager
def uvicorn_server(app: str, env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """``uvicorn app`` on a free loopback port until the block ends; yields its base URL."""
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
            with serving(command, env=env, health=f"{base_url}/health/ready", log=log):
                yield base_url
        finally:
            output = log.read_text(errors="replace").strip() if log.exists() else ""
            if output:
                print(f"server output ({app}):\n{output[-3000:]}")


# --- the driver ---------------------------------------------------------------------------


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
) -> RunResult:
    """Run the phones (and pollers) for ``seconds``; in-flight requests are let finish."""
    result = RunResult(label=label, phones=phones, think=think)
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
    if result.ran_out_of_links:
        result.problems["ran out of seeded links (raise LINK_RATE_CEILING)"] += 1
    return result


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


def check_rapport_database(database_url: str, result: RunResult, links: list[tuple[str, int]]):
    """Every 201 has its rating on the right session, and there is nothing else."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from backend.auth.tokens import rating_receipt_id
    from backend.config import Settings
    from backend.db import Database
    from backend.flags.models import ClientSummary
    from backend.ratings.models import Rating
    from backend.therapy.models import RatingLink, TherapySession

    database = Database(Settings(mode="dev", database_url=database_url, secret_key=SECRET_KEY))
    session_of = dict(links)
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
    lost = sum(
        1
        for token, rating_id in result.accepted.items()
        if stored.get(rating_id) != session_of[token]
    )
    told = set(result.accepted.values())
    unannounced = sum(1 for rating_id in stored if rating_id not in told)
    for name, count in (
        ("lost: answered 201 but no such rating on that session", lost),
        ("duplicated: more than one rating for a session", len(duplicated)),
        ("stored without a 201 answer", unannounced),
        ("links marked used != ratings stored", abs(used - len(stored))),
        (
            "clients whose scored summary misses ratings",
            sum(1 for client, count in rated.items() if scored.get(client) != count),
        ),
    ):
        if count:
            result.problems[name] += count
    return len(stored)


def check_bare_database(database_url: str, result: RunResult) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT count(*) FROM bare_rating")).scalar_one()
    finally:
        engine.dispose()
    if rows != len(result.accepted):
        result.problems["bare rows != 201 answers"] += abs(rows - len(result.accepted))
    return rows


# --- runs ---------------------------------------------------------------------------------


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


def run_rapport(
    database_url: str, scenario: Scenario, *, label: str, workers: int, instances: int = 1
) -> RunResult:
    """Rapport under load: one uvicorn with ``workers``, or ``instances`` behind nginx."""
    migrate(database_url)
    seeded = seed(database_url, ratings_needed=int(LINK_RATE_CEILING * scenario.seconds))
    env = server_env(database_url)
    with contextlib.ExitStack() as running:
        urls = [
            running.enter_context(uvicorn_server("backend.main:app", env, workers=workers))
            for _ in range(instances)
        ]
        url, verify = urls[0], True
        if instances > 1:
            front = running.enter_context(nginx_front(urls))
            url, verify = front.https_url, front.tls()
        result = asyncio.run(
            drive(
                url,
                label=label,
                path="/api/public/ratings/{token}",
                links=seeded.links,
                phones=scenario.phones,
                seconds=scenario.seconds,
                think=scenario.think,
                therapist_headers=seeded.therapist_headers,
                signing_in=seeded.signing_in,
                verify=verify,
            )
        )
        result.scoring_lag = wait_for_scoring(database_url)
    if result.scoring_lag is None:
        result.problems[f"scoring had not caught up {SCORING_CATCH_UP_S:g} s after the run"] += 1
    check_rapport_database(database_url, result, seeded.links)
    return result


def run_bare(directory: Path, scenario: Scenario) -> RunResult:
    import sqlite3

    seconds = min(scenario.seconds, BARE_SECONDS)
    path = directory / f"bare-{scenario.phones}-{scenario.think}.db"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode = WAL")  # persistent: the same kind of file
    database_url = f"sqlite:///{path}"
    env = {**os.environ, "BARE_DATABASE_URL": database_url}
    links = [(uuid.uuid4().hex, 0) for _ in range(int(LINK_RATE_CEILING * 4 * seconds))]
    with uvicorn_server("bench.bare_insert_app:app", env) as url:
        result = asyncio.run(
            drive(
                url,
                label="bare insert",
                path="/ratings/{token}",
                links=links,
                phones=scenario.phones,
                seconds=seconds,
                think=scenario.think,
                retries=False,
                route=BARE,
            )
        )
    check_bare_database(database_url, result)
    return result


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
    for problem, count in sorted(result.problems.items()):
        print(f"  PROBLEM {problem}: {count}")


def print_targets(runs: list[tuple[RunResult, RunResult]]) -> bool:
    """One line per scenario; which targets apply depends on how the phones behave."""
    header = (
        f"{'run':28} {'phones':>6} {'pause':>6} {'ratings/s':>10} {'bare/s':>8} {'ratio':>6} "
        f"{'p99':>9} {'bare p99':>9} {'errors':>6}  ok"
    )
    print("\n" + header)
    print("-" * len(header))
    missed = False
    for rapport, bare in runs:
        ratio = rapport.recorded_per_second / max(bare.recorded_per_second, 1e-9)
        errors = sum(rapport.problems.values()) + sum(bare.problems.values())
        ok = errors == 0
        if rapport.think == 0:
            ok &= ratio >= RATIO_TARGET
        elif rapport.phones <= P99_TARGET_PHONES:
            ok &= rapport.p99() < P99_TARGET_S
        missed |= not ok
        print(
            f"{rapport.label:28} {rapport.phones:>6} {rapport.think:>5g}s "
            f"{rapport.recorded_per_second:>10.1f} {bare.recorded_per_second:>8.1f} "
            f"{ratio:>5.2f}x {_ms(rapport.p99()):>9} {_ms(bare.p99()):>9} {errors:>6}  "
            f"{'yes' if ok else 'NO'}"
        )
    print(
        f"targets: every run 0 errors, nothing lost or duplicated; phones that pause: p99 of "
        f"a submission < {_ms(P99_TARGET_S)} at <= {P99_TARGET_PHONES} phones; phones back to "
        f"back: ratings/s >= {RATIO_TARGET} x bare (one SQLModel insert per request, same "
        "driver, same phones, same run)"
    )
    return missed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load", description=__doc__)
    parser.add_argument("--phones", type=int, help="one run with this many phones")
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
    plan = [Scenario(args.phones, args.seconds, args.think)] if args.phones else list(PLAN)
    label = "Rapport, SQLite x1"
    if args.postgres:
        label = "Rapport, PostgreSQL x2"
    if args.proxy:
        label = "Rapport, nginx + 2 on PG"
    print(f"load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="rapport-load-") as scratch:
        for n, scenario in enumerate(plan):
            if args.proxy:
                with fresh_postgres() as url:
                    rapport = run_rapport(url, scenario, label=label, workers=1, instances=2)
            elif args.postgres:
                with fresh_postgres() as url:
                    rapport = run_rapport(url, scenario, label=label, workers=2)
            else:
                url = f"sqlite:///{Path(scratch) / f'rapport-{n}.db'}"
                rapport = run_rapport(url, scenario, label=label, workers=1)
            print_routes(rapport)
            bare = run_bare(Path(scratch), scenario)
            print_routes(bare)
            runs.append((rapport, bare))
    missed = print_targets(runs)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
