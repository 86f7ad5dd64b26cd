"""What `make run` hands the programs it starts, read from make itself (nothing is started)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _environment_of_recipes(*arguments: str, environment: dict[str, str]) -> str:
    """The RAPPORT_PUBLIC_BASE_URL a recipe's shell sees, for make's command-line arguments."""
    probe = 'print-public-base-url: ; @echo "$$RAPPORT_PUBLIC_BASE_URL"'
    result = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "--eval",
            probe,
            "print-public-base-url",
            *arguments,
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _environment_without_public_base_url() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "RAPPORT_PUBLIC_BASE_URL"}


@pytest.mark.parametrize(
    ("api_port", "expected"), [("8000", "http://127.0.0.1:8000"), ("8720", "http://127.0.0.1:8720")]
)
def test_rating_links_name_the_port_the_api_is_started_on(api_port: str, expected: str) -> None:
    environment = _environment_without_public_base_url()

    seen = _environment_of_recipes(f"API_PORT={api_port}", environment=environment)

    assert seen == expected


def test_a_public_base_url_the_user_set_is_kept() -> None:
    environment = _environment_without_public_base_url()
    environment["RAPPORT_PUBLIC_BASE_URL"] = "https://rapport.clinic.example"

    seen = _environment_of_recipes("API_PORT=8720", environment=environment)

    assert seen == "https://rapport.clinic.example"


def test_make_run_starts_the_api_and_dashboard_on_the_ports_given() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "run", "API_PORT=8720", "DASHBOARD_PORT=8721"],
        cwd=ROOT,
        env=_environment_without_public_base_url(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "--port 8720" in dry_run
    assert "RAPPORT_DASHBOARD_URL=http://127.0.0.1:8721" in dry_run
    assert "127.0.0.1:8000" not in dry_run
