"""Settings from the environment, and what an operator sees when they are wrong."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from backend.config import (
    DEMO_DASHBOARD_KEY,
    DEMO_SECRET_KEY,
    ConfigurationError,
    Settings,
    get_settings,
)


@pytest.mark.parametrize("secret", ["", "short", DEMO_SECRET_KEY])
def test_production_refuses_a_missing_short_or_default_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_SECRET_KEY"):
        Settings(mode="production", secret_key=secret)


def test_production_accepts_a_long_random_secret() -> None:
    assert Settings(mode="production", secret_key="x" * 48).secret_key == "x" * 48


@pytest.mark.parametrize("mode", ["demo", "dev"])
def test_demo_and_dev_modes_fall_back_to_the_demo_secret(mode: str) -> None:
    assert Settings(mode=mode, secret_key="").secret_key == DEMO_SECRET_KEY


@pytest.mark.parametrize(
    ("value", "proxies"),
    [
        ("", []),
        ("false", []),  # the old boolean's "off" still means: believe no proxy
        ("127.0.0.1", ["127.0.0.1"]),
        ("10.0.0.5, 10.1.0.0/16", ["10.0.0.5", "10.1.0.0/16"]),
    ],
)
def test_trust_forwarded_for_names_the_proxies_to_believe(value, proxies) -> None:
    assert Settings(trust_forwarded_for=value).trusted_proxies == proxies


@pytest.mark.parametrize("value", ["true", "*", "proxy.internal"])
def test_trust_forwarded_for_must_name_addresses(value) -> None:
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings(trust_forwarded_for=value)


@pytest.mark.parametrize("key", ["short", DEMO_DASHBOARD_KEY])
def test_production_refuses_a_short_or_demo_dashboard_key(key) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_DASHBOARD_KEY"):
        Settings(mode="production", secret_key="x" * 48, dashboard_key=key)


def test_production_hides_the_api_docs() -> None:
    assert not Settings(mode="production", secret_key="x" * 48).docs_enabled


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:rapport?mode=memory&cache=shared"]
)
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="in-memory SQLite database"):
        Settings(mode="dev", database_url=url)


@pytest.mark.parametrize(
    ("url", "file"),
    [
        ("sqlite:///var/rapport.db", "var/rapport.db"),
        ("sqlite:////srv/r.db?timeout=5", "/srv/r.db"),
    ],
)
def test_a_sqlite_file_is_named_by_its_url(url: str, file: str) -> None:
    assert Settings(mode="dev", database_url=url).sqlite_path == file


def test_a_bad_setting_is_explained_by_the_variable_to_change(monkeypatch) -> None:
    monkeypatch.setenv("RAPPORT_LINK_TTL_DAYS", "0")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as problem:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert str(problem.value) == "RAPPORT_LINK_TTL_DAYS: Input should be greater than or equal to 1"


def run_with(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RAPPORT_MODE": "dev", **environment}
    return subprocess.run(
        [sys.executable, *command], env=env, capture_output=True, text=True, timeout=60
    )


def test_the_rapport_command_names_a_configuration_problem_without_a_traceback() -> None:
    done = run_with(
        ["-m", "backend.cli", "migrate"], RAPPORT_MODE="production", RAPPORT_SECRET_KEY=""
    )
    assert done.returncode == 2
    assert done.stderr.startswith("Configuration error. RAPPORT_SECRET_KEY must be set")
    assert "Traceback" not in done.stderr + done.stdout


def test_the_rapport_command_says_when_the_database_cannot_be_reached() -> None:
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:9/rapport"  # discard port: refused
    done = run_with(["-m", "backend.cli", "migrate"], RAPPORT_DATABASE_URL=unreachable)
    assert done.returncode == 1
    assert done.stderr.startswith("Cannot use the database: connection failed")
    assert "Traceback" not in done.stderr + done.stdout


def test_the_api_refuses_to_start_with_the_reason_and_no_traceback() -> None:
    done = run_with(["-c", "import backend.main"], RAPPORT_DATABASE_URL="sqlite://")
    assert done.returncode == 1
    assert done.stderr.startswith("Rapport cannot start. RAPPORT_DATABASE_URL names an in-memory")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_an_unknown_clinic_time_zone_names_the_variable(zone: str) -> None:
    with pytest.raises(ValidationError, match="RAPPORT_CLINIC_TIME_ZONE"):
        Settings(mode="dev", clinic_time_zone=zone)
