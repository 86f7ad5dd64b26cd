"""A therapist at a laptop signs in, opens the most urgent client and acknowledges a flag."""

from __future__ import annotations

import pytest

from tests.backend.factories import PASSWORD
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000


def sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_therapist_acknowledges_the_most_urgent_flag(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    sign_in(page, dashboard_url, clinic.therapist.user.email)
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the table's canvas paint before the screenshot
    page.screenshot(path=ARTIFACTS / "caseload.png", full_page=True)

    page.get_by_role("button", name="Open client page").click()  # first = most urgent
    page.get_by_role("heading", name=f"Client {clinic.ruptured.code}").wait_for(timeout=TIMEOUT_MS)
    page.locator(".js-plotly-plot").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=ARTIFACTS / "client.png", full_page=True)

    page.get_by_role("button", name="Acknowledge").first.click()
    page.get_by_text("You noted: Raised it in session").first.wait_for(timeout=TIMEOUT_MS)
    flags = backend.get(f"/api/clients/{clinic.ruptured.code}/flags", clinic.therapist).json()
    acknowledged = [f for f in flags if f["status"] == "acknowledged"]
    assert [f["action"] for f in acknowledged] == ["raised_in_session"]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, dashboard_url, clinic.supervisor.user.email)
    page.get_by_role("heading", name="Team overview").wait_for(timeout=TIMEOUT_MS)
    charts = page.locator("[data-testid=stVegaLiteChart]")
    charts.nth(0).locator("g.mark-line path").first.wait_for(timeout=TIMEOUT_MS)
    cell = charts.nth(1).locator("g.mark-rect path").first
    cell.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / "team.png", full_page=True)
    assert clinic.outsiders_client.code not in page.content()

    cell.hover(
        force=True
    )  # the heatmap names the therapist and the week of the cell under the pointer
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(timeout=TIMEOUT_MS)
    assert "Therapist" in tooltip.inner_text()
    assert "Week of" in tooltip.inner_text()


def test_the_sign_in_page_loads_the_landing_components_without_showing_them(
    browser_page, dashboard_url
) -> None:
    page = browser_page
    page.goto(dashboard_url)
    page.get_by_role("textbox", name="Email").wait_for(timeout=TIMEOUT_MS)
    loaded = page.locator(".st-key-landing_components [data-testid=stVegaLiteChart]")
    loaded.wait_for(state="attached", timeout=TIMEOUT_MS)  # after the first timed rerun
    assert page.locator(".st-key-landing_components").is_hidden()
    assert page.locator("[data-testid=stDataFrame]").first.is_hidden()
    assert loaded.is_hidden()
    assert page.get_by_role("combobox").count() == 0  # the hidden selectbox is not reachable
    assert page.get_by_role("textbox", name="Email").is_visible()


def test_no_other_site_may_frame_the_dashboard(dashboard_url) -> None:
    import httpx

    from dashboard.asgi import FRAME_HEADERS

    for path in ("/", "/_stcore/health"):
        response = httpx.get(f"{dashboard_url}{path}", timeout=10)
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert response.headers["X-Frame-Options"] == FRAME_HEADERS["X-Frame-Options"]
