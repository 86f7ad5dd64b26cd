"""A real server and a real browser: uvicorn in a subprocess on a migrated SQLite file, Chromium.

Chromium comes from Debian (``apt-get install -y chromium``); Playwright cannot download
its own browsers here. Without it the e2e tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from backend.config import Settings
from backend.db import Database
from backend.migrate import ROOT
from tests.conftest import migrate
from tests.dashboard.conftest import backend, clinic, free_port, live_backend
from tests.live_server import running_api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"

# Fixtures of the dashboard tests, reused by the dashboard browser test.
__all__ = ["backend", "clinic", "live_backend"]


@dataclass
class RunningServer:
    base_url: str
    db: Database
    log_path: Path
    #: Every link token handed out in this run, to prove none reached the access log.
    tokens: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install -y chromium (or make e2e-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    workdir = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{workdir / 'rapport-e2e.db'}"
    database = Database(Settings(database_url=url, mode="dev"))
    migrate(database)
    try:
        # The browser tests load many pages from one address in a minute.
        with running_api(
            database_url=url, workdir=workdir, public_rate_limit_per_minute="10000"
        ) as running:
            yield RunningServer(base_url=running.url, db=database, log_path=running.log_path)
    finally:
        database.engine.dispose()


@pytest.fixture(scope="session")
def browser(chromium_path: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def dashboard_url(backend) -> Iterator[str]:
    """``streamlit run dashboard/asgi.py`` from the repository root, as ``make run`` does."""
    port = free_port()
    env = {**os.environ, "RAPPORT_API_URL": backend.url}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "dashboard/asgi.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("streamlit did not start")
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def browser_page(chromium_path: Path) -> Iterator:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        yield page
        browser.close()
