"""A therapist at a laptop signs in, opens the most urgent client and acknowledges a flag."""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.backend.factories import PASSWORD
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_rating_page import axe_violations

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
#: The client page's trajectory drawn: the total's line in the first Vega-Lite chart's SVG.
TRAJECTORY_DRAWN = (
    "[data-testid=stMain] [data-testid=stVegaLiteChart] >> nth=0 >> g.mark-line path >> nth=0"
)


def sign_in(page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def choose(page, combobox, option: str) -> None:
    """Pick an option of a select box; a click while the page is still redrawing can be
    lost, so open the list again until the option shows."""
    for _ in range(5):
        combobox.click()
        choice = page.get_by_role("option", name=option, exact=True)
        try:
            choice.wait_for(timeout=2000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        choice.click()
        return
    raise AssertionError(f"the option {option!r} never showed")


def test_a_therapist_acknowledges_the_most_urgent_flag(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    sign_in(page, dashboard_url, clinic.therapist.user.email)
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)  # let the table's canvas paint before the screenshot
    page.screenshot(path=ARTIFACTS / "caseload.png", full_page=True)

    page.get_by_role("link", name="Open client page").click()  # first = most urgent
    page.get_by_role("heading", name=f"Client {clinic.ruptured.code}").wait_for(timeout=TIMEOUT_MS)
    page.locator(TRAJECTORY_DRAWN).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1000)
    page.screenshot(path=ARTIFACTS / "client.png", full_page=True)

    first_card = page.locator("[class*=st-key-flag_]").first
    choose(page, first_card.get_by_role("combobox"), "Raised it in session")
    first_card.get_by_role("button", name="Record what you did").click()
    page.get_by_text("You noted: Raised it in session").first.wait_for(timeout=TIMEOUT_MS)
    flags = backend.get(f"/api/clients/{clinic.ruptured.code}/flags", clinic.therapist).json()
    acknowledged = [f for f in flags if f["status"] == "acknowledged"]
    assert [f["action"] for f in acknowledged] == ["raised_in_session"]

    page.get_by_role("button", name="Sign out").click()
    # signed out once the form is back: navigating sooner races the sign-out's revocation,
    # and the cookie would sign the therapist in again
    page.get_by_role("textbox", name="Password").wait_for(timeout=TIMEOUT_MS)
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


def client_heading(page, code: str):
    return page.get_by_role("heading", name=f"Client {code}")


def test_a_refresh_keeps_the_therapist_signed_in_on_the_same_client(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    sign_in(page, dashboard_url, clinic.therapist.user.email)
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Open client page").click()
    client_heading(page, clinic.ruptured.code).wait_for(timeout=TIMEOUT_MS)
    assert page.url.endswith(f"/client?client={clinic.ruptured.code}")
    wait_for_the_sign_in_cookie(page)

    page.reload()
    client_heading(page, clinic.ruptured.code).wait_for(timeout=TIMEOUT_MS)
    assert page.get_by_role("textbox", name="Password").count() == 0
    # The sign-in is in an HttpOnly cookie only: no page script, URL or storage holds it.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "rapport_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] not in page.evaluate("document.cookie")
    stored = page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert cookie["value"] not in stored and cookie["value"] not in page.url

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("textbox", name="Password").wait_for(timeout=TIMEOUT_MS)
    page.reload()  # the cookie's sign-in ended with the sign-out
    page.get_by_role("textbox", name="Password").wait_for(timeout=TIMEOUT_MS)


def test_back_and_forward_move_between_the_caseload_and_clients(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    first, second = clinic.ruptured.code, clinic.calm.code
    sign_in(page, f"{dashboard_url}/caseload", clinic.therapist.user.email)
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("link", name="Open client page").click()
    client_heading(page, first).wait_for(timeout=TIMEOUT_MS)
    choose(page, page.get_by_role("combobox", name="Client"), second)
    client_heading(page, second).wait_for(timeout=TIMEOUT_MS)

    page.go_back()
    client_heading(page, first).wait_for(timeout=TIMEOUT_MS)
    page.go_back()
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    assert page.url == f"{dashboard_url}/caseload"  # not /?client=CODE
    page.go_forward()
    client_heading(page, first).wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("link", name="My caseload").click()
    page.get_by_role("heading", name="My caseload").wait_for(timeout=TIMEOUT_MS)
    assert page.url == f"{dashboard_url}/caseload"


def wait_for_the_sign_in_cookie(page) -> None:
    """Until the browser has redeemed its one-time ticket for the HttpOnly cookie."""
    for _ in range(50):
        if any(c["name"] == "rapport_session" for c in page.context.cookies()):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the browser never received the sign-in cookie")


def shows_without_page_not_found(page, address: str, heading: str) -> None:
    """Signed in, the page's own heading at its own address, no "Page not found" dialog
    over it, and the controls behind it usable (a modal dialog makes the page inert)."""
    page.get_by_role("heading", name=heading).wait_for(timeout=TIMEOUT_MS)
    page.locator("[data-testid=stStatusWidget]").wait_for(state="hidden", timeout=TIMEOUT_MS)
    assert page.get_by_role("dialog").count() == 0
    assert page.get_by_text("Page not found").count() == 0
    assert page.url == address
    page.get_by_role("button", name="Sign out").click(trial=True, timeout=5000)


@pytest.mark.parametrize(
    ("role", "home", "heading", "not_theirs"),
    [
        ("supervisor", "/team", "Team overview", "/admin"),
        ("therapist", "/caseload", "My caseload", "/team"),
        ("admin", "/admin", "Administration", "/caseload"),
    ],
)
def test_each_role_opens_its_home_page_at_its_own_address(
    browser_page, dashboard_url, backend, clinic, role, home, heading, not_theirs
) -> None:
    """As a link in the weekly email does: signed out, the address shows the sign-in form
    and then its page; signed in (the cookie, in a new page load), the page at once; and
    a page the role may not open gives the role's home page instead."""
    page = browser_page
    sign_in(page, f"{dashboard_url}{home}", getattr(clinic, role).user.email)
    shows_without_page_not_found(page, f"{dashboard_url}{home}", heading)
    wait_for_the_sign_in_cookie(page)

    page.goto(f"{dashboard_url}{home}")
    shows_without_page_not_found(page, f"{dashboard_url}{home}", heading)

    page.goto(f"{dashboard_url}{not_theirs}")
    shows_without_page_not_found(page, f"{dashboard_url}{home}", heading)


def test_a_pasted_client_link_opens_that_client_after_signing_in(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    sign_in(page, f"{dashboard_url}/client?client={clinic.calm.code}", clinic.therapist.user.email)
    client_heading(page, clinic.calm.code).wait_for(timeout=TIMEOUT_MS)
    assert f"client={clinic.calm.code}" in page.url


def test_a_supervisor_sees_requests_to_talk_and_ruptures_in_two_lists(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    sign_in(page, dashboard_url, clinic.supervisor.user.email)
    talk = page.get_by_role("heading", name="Requests to talk, waiting")
    ruptures = page.get_by_role("heading", name="Ruptures not repaired")
    talk.wait_for(timeout=TIMEOUT_MS)
    ruptures.wait_for(timeout=TIMEOUT_MS)
    assert talk.bounding_box()["y"] < ruptures.bounding_box()["y"]
    ruptures.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=ARTIFACTS / "team-queues.png")
    table = page.locator("[data-testid=stTable]")
    assert clinic.ruptured.code in table.inner_text()
    assert clinic.outsiders_client.code not in page.content()


def test_axe_finds_nothing_serious_on_sign_in_caseload_and_client_pages(
    browser_page, dashboard_url, backend, clinic
) -> None:
    page = browser_page
    page.goto(dashboard_url)
    page.get_by_role("textbox", name="Email").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    found = {"sign-in": axe_violations(page, "sign-in")}
    sign_in(page, dashboard_url, clinic.therapist.user.email)
    page.locator("[data-testid=stDataFrame]").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    found["caseload"] = axe_violations(page, "caseload")
    page.get_by_role("link", name="Open client page").click()
    page.locator(TRAJECTORY_DRAWN).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    found["client"] = axe_violations(page, "client")
    assert found == {"sign-in": [], "caseload": [], "client": []}
