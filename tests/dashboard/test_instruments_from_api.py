"""The dashboard knows instruments only from ``GET /api/instruments``: an instrument a
clinic registers in the API process shows in the dashboard, and no dashboard module
reads the scoring registry."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from scoring import instruments as registry
from tests.dashboard.conftest import app_as
from tests.dashboard.test_app import open_client_page

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_no_dashboard_module_imports_the_instrument_registry() -> None:
    readers = sorted(
        str(path.relative_to(DASHBOARD))
        for path in DASHBOARD.rglob("*.py")
        if any(
            name == "scoring.instruments" or name.startswith("scoring.instruments.")
            for name in imported_modules(path)
        )
    )
    assert readers == []


@pytest.fixture
def clinic_instrument(monkeypatch: pytest.MonkeyPatch):
    """A clinic's own questionnaire, registered in the (in-process) API for this test."""
    own = dataclasses.replace(registry.ALLIANCE4, id="clinic_srs", name="Clinic SRS")
    monkeypatch.setitem(registry._REGISTRY, own.id, own)
    return own


def test_an_instrument_registered_in_the_api_shows_on_the_team_page(
    backend, clinic, clinic_instrument
) -> None:
    at = app_as(backend, clinic.supervisor)
    assert not at.exception
    assert "Clinic SRS" in at.selectbox(key="team_instrument").options


def test_a_therapist_can_issue_a_link_for_it(backend, clinic, clinic_instrument) -> None:
    at = open_client_page(app_as(backend, clinic.therapist), clinic.ruptured.code)
    assert not at.exception
    assert "Clinic SRS" in at.selectbox(key="link_instrument").options
