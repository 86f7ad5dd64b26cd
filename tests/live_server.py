"""The API as an operator runs it: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.migrate import ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def uvicorn_command(port: int, *, trusted_proxies: str = "") -> list[str]:
    """As ``make run`` and the README start it: forwarded headers believed only from
    ``trusted_proxies`` (the value of RAPPORT_TRUST_FORWARDED_FOR; empty trusts none)."""
    return [
        *(sys.executable, "-m", "uvicorn", "backend.main:app"),
        *("--host", "127.0.0.1", "--port", str(port), "--log-level", "info"),
        *("--forwarded-allow-ips", trusted_proxies),
    ]


@dataclass(frozen=True)
class LiveServer:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_api(*, database_url: str, workdir: Path, **settings: str) -> Iterator[LiveServer]:
    """The API on ``database_url`` with ``RAPPORT_<NAME>`` settings, until the block ends."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "RAPPORT_MODE": "dev",
        "RAPPORT_DATABASE_URL": database_url,
        "RAPPORT_PUBLIC_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
        **{f"RAPPORT_{name.upper()}": value for name, value in settings.items()},
    }
    trusted = env.get("RAPPORT_TRUST_FORWARDED_FOR", "")
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            uvicorn_command(port, trusted_proxies=trusted),
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base_url}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start in 30 s:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield LiveServer(url=base_url, log_path=log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
