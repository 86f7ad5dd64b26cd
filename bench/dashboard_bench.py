"""Benchmark every page of the dashboard on the large demo database.

Run ``python -m bench dashboard_bench`` (``--rebuild`` to rebuild the database). It builds
``rapport demo --scale large`` once into ``var/bench/`` (500 therapists, 20,000 clients,
about 1M sessions; a few minutes) and reuses it afterwards. It then starts the API (uvicorn,
one worker) and the Streamlit dashboard against it, signs in as a therapist with 40
clients and as the supervisor of one 25-therapist team, and times:

- each API call the pages make (p50/p95 after warm-up), with the audit writes they
  cause, against 150 ms at p95;
- the landing pages in headless Chromium, from submitting the sign-in form until the
  caseload table (therapist), both team overview charts (supervisor) or the
  administration tables (admin) are visible, against 1.5 s, in a browser that has the
  dashboard's scripts cached; a first visit is shown too. The credentials are typed as
  a (fast) person types them, ``TYPING_MS`` a key;
- the pages opened from there, against 1.5 s from the click: the most urgent client
  from the caseload (until its trajectory is drawn), another client from the client
  page's picker, a refresh (F5) of the client page, and the audit trail.

Baselines from the same run: ``GET /health/live`` through the same client, and loading
the sign-in form in the same browser. Exits 1 if a target is missed. ``--team`` times only
the team overview (its API call and page), for comparing changes to that page;
``--ports API,DASHBOARD`` serves on those ports instead of free ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.auth.router import BROWSER_COOKIE  # noqa: E402
from backend.demo import DEMO_PASSWORD, DEMO_THERAPIST  # noqa: E402
from bench.serving import free_port, serving  # noqa: E402
from scoring.instruments import DEFAULT_INSTRUMENT  # noqa: E402

CACHE = ROOT / "var" / "bench" / "dashboard-large.db"
#: Written only after the build finished; its absence means the cached file is unusable.
BUILT = CACHE.with_suffix(".built.json")
#: The supervisor of exactly one team (Team 03, 25 therapists) in the large demo.
SUPERVISOR = "supervisor2@demo.rapport"
ADMIN = "admin@demo.rapport"
THERAPIST_CLIENTS = 40
TEAM_THERAPISTS = 25

API_TARGET_S = 0.150
PAGE_TARGET_S = 1.5
API_WARMUP, API_REPEAT = 3, 30
#: Calls that take seconds are timed fewer times, so the run stays minutes long.
SLOW_CALLS_REPEAT = 5
SLOW_CALLS = ("GET /api/clients (admin, 20,000)",)
PAGE_WARMUP, PAGE_REPEAT = 1, 7
STARTUP_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000
#: Credentials are typed a key at a time, as a person signs in, not pasted in 0 ms: the
#: sign-in page loads the landing pages' table and chart code while the user types
#: (dashboard/sign_in.py). 40 ms a key is a very fast typist (1.6 s for the
#: 40 keys here); password managers that fill and submit at once get the first-visit cost.
TYPING_MS = 40

#: Both team overview charts drawn: the trend's lines and the heatmap's cells are in their
#: SVGs (Vega-Lite adds the SVG element before it draws into it).
TEAM_CHARTS_DRAWN = (
    "[data-testid=stMain] [data-testid=stVegaLiteChart] >> nth=0 >> g.mark-line path >> nth=0",
    "[data-testid=stMain] [data-testid=stVegaLiteChart] >> nth=1 >> g.mark-rect path >> nth=0",
)

#: A table shown: the sign-in page's hidden one (which loads the table code early) can
#: still be in the page when the landing page's appears.
VISIBLE_TABLE = "[data-testid=stDataFrame] >> visible=true >> nth=0"
#: How long a therapist reads the caseload before opening a client.
READING_MS = 3000
#: A client page drawn: its trajectory (the first Vega-Lite chart in the page's main
#: area; after a refresh the sidebar holds a hidden one) holds the total's line in its SVG.
CLIENT_DRAWN = (
    "[data-testid=stMain] [data-testid=stVegaLiteChart] >> nth=0 >> g.mark-line path >> nth=0",
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@dataclass(frozen=True)
class Row:
    case: str
    samples: list[float]
    target: float | None

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def ok(self) -> bool:
        return self.target is None or self.p95 < self.target


def _env(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAPPORT_MODE": "demo",
        "RAPPORT_DATABASE_URL": f"sqlite:///{database}",
        "PYTHONUNBUFFERED": "1",
        # The daily rescore of all 20,000 clients is due at once on a fresh database and
        # ran for minutes in the measured worker (the 955 ms p95 of the team overview);
        # this benchmark measures what a page asks for, not the nightly job.
        "RAPPORT_RUN_SCHEDULED_JOBS": "false",
    }


def _rapport(database: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env=_env(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"rapport {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def large_database(*, rebuild: bool) -> Path:
    """The cached large demo database, built first if missing, incomplete or unwanted."""
    if BUILT.exists() and CACHE.exists() and not rebuild:
        built = json.loads(BUILT.read_text())
        print(
            f"reusing the large demo database built on {built['built_on']} "
            f"({built['seconds']:.0f} s, {CACHE.stat().st_size / 1e9:.2f} GB): {CACHE}"
        )
        _rapport(CACHE, "migrate")  # built by an older checkout: bring it to this schema
    else:
        print(
            "building the large demo database (rapport demo --scale large: 500 therapists, "
            f"20,000 clients, ~1M sessions); this takes a few minutes, once: {CACHE}",
            flush=True,
        )
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        building = CACHE.with_suffix(".building.db")
        for stale in (BUILT, CACHE, building):
            for path in (stale, Path(f"{stale}-wal"), Path(f"{stale}-shm")):
                path.unlink(missing_ok=True)
        started = time.perf_counter()
        _rapport(building, "migrate")
        summary = _rapport(building, "demo", "--scale", "large").splitlines()[0]
        seconds = time.perf_counter() - started
        with contextlib.closing(sqlite3.connect(building)) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.rename(CACHE)
        BUILT.write_text(json.dumps({"built_on": date.today().isoformat(), "seconds": seconds}))
        print(f"{summary} ({seconds:.0f} s, {CACHE.stat().st_size / 1e9:.2f} GB)")
    _rapport(CACHE, "migrate")  # newer migrations (indexes) apply to an older cache
    return CACHE


def api_server(
    database: Path, port: int | None = None
) -> tuple[str, contextlib.AbstractContextManager[None]]:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "backend.main:app", "--port", str(port)]
    command += ["--host", "127.0.0.1", "--workers", "1", "--log-level", "warning"]
    log = database.parent / "api.log"
    return url, serving(command, env=_env(database), health=f"{url}/health/ready", log=log)


def dashboard_server(
    api_url: str, port: int | None = None
) -> tuple[str, contextlib.AbstractContextManager[None]]:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    command += ["--server.headless", "true", "--browser.gatherUsageStats", "false"]
    # Demo mode, as the API runs: the dashboard signs in with the demo's built-in key
    # (outside `make bench`, which exports it, the sign-in form refused everyone).
    env = {**os.environ, "RAPPORT_MODE": "demo", "RAPPORT_API_URL": api_url}
    log = CACHE.parent / "dashboard.log"
    return url, serving(command, env=env, health=f"{url}/_stcore/health", log=log)


def timed(call: Callable[[], object], *, warmup: int, repeat: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def sign_in(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _kept(name: str, *, only_team: bool) -> bool:
    return not only_team or name.startswith("baseline") or "team" in name


def api_rows(api_url: str, *, only_team: bool = False) -> list[Row]:
    """Every call the dashboard's pages make, as they make them (one request each): the
    caseload, the client page (with its picker's caseload), the team overview, the audit
    trail, notifications and the administration page."""
    with httpx.Client(base_url=api_url, timeout=30) as client:
        therapist, supervisor = sign_in(client, DEMO_THERAPIST), sign_in(client, SUPERVISOR)
        admin = sign_in(client, ADMIN)

        def get(path: str, headers: dict[str, str], **params: object) -> Callable[[], object]:
            def call() -> object:
                response = client.get(path, headers=headers, params=params)
                response.raise_for_status()
                return response.json()

            return call

        caseload = get("/api/caseload", therapist, status="active")
        team = get("/api/team/overview", supervisor, weeks=12, instrument=DEFAULT_INSTRUMENT)
        rows = caseload()
        assert len(rows) == THERAPIST_CLIENTS, "the therapist should have 40 clients"
        most_urgent = rows[0]["code"]
        assert len(team()["therapists"]) == TEAM_THERAPISTS, "the team should have 25 therapists"
        cases = [
            ("baseline: GET /health/live", get("/health/live", {}), None),
            ("POST /api/auth/login", lambda: sign_in(client, DEMO_THERAPIST), None),
            ("GET /api/caseload (therapist, 40)", caseload, API_TARGET_S),
            ("GET /api/team/overview (25 therapists)", team, API_TARGET_S),
            (
                "GET /api/caseload (supervisor, 1,000)",
                get("/api/caseload", supervisor, status="active"),
                API_TARGET_S,
            ),
            ("GET /api/flags (therapist)", get("/api/flags", therapist), API_TARGET_S),
            ("GET /api/me", get("/api/me", therapist), API_TARGET_S),
            (
                "GET /api/me/notifications",
                get("/api/me/notifications", therapist),
                API_TARGET_S,
            ),
            (
                "GET /api/clients/{code}/page (most urgent)",
                get(f"/api/clients/{most_urgent}/page", therapist),
                API_TARGET_S,
            ),
            ("GET /api/instruments", get("/api/instruments", therapist), API_TARGET_S),
            (
                "GET /api/audit (supervisor, 50)",
                get("/api/audit", supervisor, limit=50),
                API_TARGET_S,
            ),
            ("GET /api/users (admin, 520)", get("/api/users", admin), API_TARGET_S),
            ("GET /api/clients (admin, 20,000)", get("/api/clients", admin), API_TARGET_S),
        ]
        return [
            Row(
                name,
                timed(
                    call,
                    warmup=1 if name in SLOW_CALLS else API_WARMUP,
                    repeat=SLOW_CALLS_REPEAT if name in SLOW_CALLS else API_REPEAT,
                ),
                target,
            )
            for name, call, target in cases
            if _kept(name, only_team=only_team)
        ]


def page_rows(dashboard_url: str, *, only_team: bool = False) -> list[Row]:
    """Sign in through the form and wait until the landing page's content is visible.

    Each sign-in opens a new page, so a new Streamlit session. The timed runs share one
    browser profile, as a returning user's browser does (the dashboard's scripts are
    cached); the first-visit rows start from an empty profile and carry no target.
    """
    from playwright.sync_api import sync_playwright

    viewport = {"width": 1440, "height": 900}

    def signed_out(context):
        """A new tab with the sign-in form: the last sign-in's cookie would skip it."""
        context.clear_cookies(name=BROWSER_COOKIE)
        return context.new_page()

    def form_loaded(context) -> float:
        with contextlib.closing(signed_out(context)) as page:
            started = time.perf_counter()
            page.goto(dashboard_url)
            page.get_by_role("textbox", name="Email").wait_for(timeout=PAGE_TIMEOUT_MS)
            return time.perf_counter() - started

    def landing(context, email: str, ready: tuple[str, ...]) -> float:
        with contextlib.closing(signed_out(context)) as page:
            page.goto(dashboard_url)
            page.get_by_role("textbox", name="Email").press_sequentially(email, delay=TYPING_MS)
            password = page.get_by_role("textbox", name="Password")
            password.press_sequentially(DEMO_PASSWORD, delay=TYPING_MS)
            started = time.perf_counter()
            page.get_by_role("button", name="Sign in").click()
            for shown in ready:
                page.locator(shown).wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
            return time.perf_counter() - started

    def first_visit(browser, email: str, ready: tuple[str, ...]) -> float:
        with contextlib.closing(browser.new_context(viewport=viewport)) as context:
            return landing(context, email, ready)

    def signed_in(context, email: str, ready: tuple[str, ...]):
        page = signed_out(context)
        page.goto(dashboard_url)
        page.get_by_role("textbox", name="Email").fill(email)
        page.get_by_role("textbox", name="Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        for shown in ready:
            page.locator(shown).wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        return page

    def after_click(page, click: Callable[[], None], ready: tuple[str, ...]) -> float:
        started = time.perf_counter()
        click()
        for shown in ready:
            page.locator(shown).first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
        return time.perf_counter() - started

    def client_opened(context) -> float:
        with contextlib.closing(signed_in(context, *caseload)) as page:
            page.wait_for_timeout(READING_MS)
            return after_click(
                page, page.get_by_role("link", name="Open client page").click, CLIENT_DRAWN
            )

    def client_switched(context) -> float:
        with contextlib.closing(signed_in(context, *caseload)) as page:
            page.get_by_role("link", name="Open client page").click()
            page.locator(CLIENT_DRAWN[0]).wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
            page.get_by_role("combobox", name="Client").click()
            other = page.get_by_role("option").nth(1)
            other.wait_for(timeout=PAGE_TIMEOUT_MS)
            code = other.inner_text()
            return after_click(page, other.click, (f"h1:has-text('Client {code}')", *CLIENT_DRAWN))

    def client_refreshed(context) -> float:
        with contextlib.closing(signed_in(context, *caseload)) as page:
            page.get_by_role("link", name="Open client page").click()
            page.locator(CLIENT_DRAWN[0]).wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
            page.wait_for_timeout(500)  # the browser redeems its ticket for the cookie
            return after_click(page, page.reload, CLIENT_DRAWN)

    def audit_opened(context) -> float:
        with contextlib.closing(signed_in(context, *team)) as page:
            link = page.get_by_role("link", name="Audit trail")
            return after_click(page, link.click, (VISIBLE_TABLE,))

    caseload = (DEMO_THERAPIST, (VISIBLE_TABLE,))
    team = (SUPERVISOR, TEAM_CHARTS_DRAWN)
    admin = (ADMIN, ("[data-testid=stTabs] [data-testid=stDataFrame] >> nth=0",))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            returning = browser.new_context(viewport=viewport)
            cases = [
                ("baseline: sign-in form load", lambda: form_loaded(returning), None),
                ("page: therapist caseload", lambda: landing(returning, *caseload), PAGE_TARGET_S),
                ("page: supervisor team", lambda: landing(returning, *team), PAGE_TARGET_S),
                ("page: admin administration", lambda: landing(returning, *admin), PAGE_TARGET_S),
                ("page: client from caseload", lambda: client_opened(returning), PAGE_TARGET_S),
                ("page: client from client", lambda: client_switched(returning), PAGE_TARGET_S),
                ("page: client after refresh", lambda: client_refreshed(returning), PAGE_TARGET_S),
                ("page: supervisor audit trail", lambda: audit_opened(returning), PAGE_TARGET_S),
                ("first visit: therapist caseload", lambda: first_visit(browser, *caseload), None),
                ("first visit: supervisor team", lambda: first_visit(browser, *team), None),
            ]
            rows = []
            for name, run, target in cases:
                if not _kept(name, only_team=only_team):
                    continue
                repeat = PAGE_REPEAT if target is not None or name.startswith("baseline") else 3
                for _ in range(0 if name.startswith("first") else PAGE_WARMUP):
                    run()
                rows.append(Row(name, [run() for _ in range(repeat)], target))
            return rows
        finally:
            browser.close()


def report(rows: list[Row]) -> bool:
    header = f"{'case':42} {'p50':>10} {'p95':>10} {'target p95':>11}  ok"
    print(header)
    print("-" * len(header))
    for row in rows:
        target = "–" if row.target is None else _ms(row.target)
        ok = "" if row.target is None else ("yes" if row.ok else "NO")
        print(f"{row.case:42} {_ms(row.p50):>10} {_ms(row.p95):>10} {target:>11}  {ok}")
    print(
        f"API: {API_REPEAT} calls each after {API_WARMUP} warm-up ({SLOW_CALLS_REPEAT} after 1 "
        "for the admin's 20,000 clients), one uvicorn worker without scheduled jobs, SQLite; "
        f"pages: {PAGE_REPEAT} sign-ins each (first visits: 3) after {PAGE_WARMUP} warm-up, "
        "from submitting the form to the table / both charts visible, headless Chromium; "
        f"load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
    )
    return all(row.ok for row in rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    database = large_database(rebuild="--rebuild" in args)
    only_team = "--team" in args
    # `--ports 8210,8211`: the API's and the dashboard's, on a machine where ports are shared.
    ports = [None, None]
    if "--ports" in args:
        ports = [int(port) for port in args[args.index("--ports") + 1].split(",")]
    api_url, api = api_server(database, ports[0])
    with api:
        rows = api_rows(api_url, only_team=only_team)
        if not Path(CHROMIUM).exists():
            print(f"{CHROMIUM} is missing (make e2e-deps): page loads not measured")
        else:
            dashboard_url, dashboard = dashboard_server(api_url, ports[1])
            with dashboard:
                rows += page_rows(dashboard_url, only_team=only_team)
    return 0 if report(rows) else 1


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
