"""The client's rating page in a real phone-sized Chromium: it submits once, survives a dropped
connection, works without JavaScript, fits 320 px, passes axe, and keeps tokens out of the log."""

from __future__ import annotations

import importlib.resources
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import select

from backend.clock import utcnow
from backend.ratings.models import Rating
from backend.ratings.page import NOTICES
from backend.therapy.models import RatingLink, TherapySession
from tests.backend.factories import make_client, make_session_with_link, make_user

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
ANSWERS = {"relationship": "7.5", "goals": "8.2", "approach": "6", "overall": "9.1"}
THANKS = "Thank you — your answers were sent"
GRACIAS = "Gracias. Sus respuestas se enviaron"


def new_link(server, *, instrument: str = "alliance4", language: str = "en"):
    therapist = make_user(server.db)
    client = make_client(server.db, therapist)
    therapy_session, token = make_session_with_link(
        server.db, client, instrument=instrument, language=language
    )
    server.tokens.append(token)
    return therapy_session, token


def ratings_of(server, therapy_session: TherapySession) -> list[Rating]:
    with server.db.reading() as session:
        return list(
            session.exec(select(Rating).where(Rating.therapy_session_id == therapy_session.id))
        )


def phone(browser: Browser, **options) -> BrowserContext:
    context = browser.new_context(**{**PHONE, **options})
    context.set_default_timeout(15_000)
    return context


def open_form(context: BrowserContext, server, token: str) -> Page:
    page = context.new_page()
    response = page.goto(f"{server.base_url}/r/{token}")
    assert response.status == 200
    return page


def fill_sliders(page: Page, answers: dict[str, str]) -> None:
    for key, value in answers.items():
        page.locator(f"#{key}").fill(value)


def test_a_client_rates_every_item_on_a_phone_and_is_thanked(browser, server, artifacts) -> None:
    therapy_session, token = new_link(server)
    context = phone(browser)
    page = open_form(context, server, token)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(
        page.get_by_role("complementary").get_by_text("No one reads these answers as they arrive")
    ).to_be_visible()
    expect(page.locator("#relationship-value")).to_have_text("Not answered yet")

    page.get_by_role("button", name="Submit").tap()
    expect(page.locator("#relationship-error")).to_have_text(
        "Please choose an answer for this question."
    )
    assert ratings_of(server, therapy_session) == []

    fill_sliders(page, {k: v for k, v in ANSWERS.items() if k != "overall"})
    overall = page.locator("#overall")
    box = overall.bounding_box()
    overall.tap(position={"x": box["width"] * 0.9, "y": box["height"] / 2})  # a real touch
    tapped = float(overall.input_value())
    assert 8 <= tapped <= 10
    expect(page.locator("#overall-value")).to_have_text(f"{tapped:.1f}")
    expect(page.locator("#relationship-error")).to_be_hidden()
    page.get_by_label("Anything you'd like your therapist to know?").fill("Felt a bit rushed.")
    page.get_by_label("I'd like to talk about how our sessions are going").check()
    page.screenshot(path=artifacts / "rating-form-phone.png", full_page=True)

    page.get_by_role("button", name="Submit").tap()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    expect(page.get_by_text("You never have to stay with a therapist")).to_be_visible()
    expect(page.get_by_text("Your therapist will see your request")).to_be_visible()
    page.screenshot(path=artifacts / "rating-thanks-phone.png", full_page=True)

    [rating] = ratings_of(server, therapy_session)
    assert rating.scores == {"relationship": 7.5, "goals": 8.2, "approach": 6.0, "overall": tapped}
    assert rating.comment == "Felt a bit rushed."
    assert rating.wants_to_talk is True
    context.close()


def test_a_spanish_link_offers_labelled_choices(browser, server) -> None:
    therapy_session, token = new_link(server, instrument="wai12", language="es")
    context = phone(browser, locale="en-US")
    page = open_form(context, server, token)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    for number in range(1, 13):
        choice = "Siempre" if number % 2 else "A veces"
        page.locator(f"#item-wai_{number}").get_by_label(choice).tap()
    page.get_by_role("button", name="Enviar").tap()
    expect(page.get_by_role("heading", name=GRACIAS)).to_be_visible()
    [rating] = ratings_of(server, therapy_session)
    assert rating.scores == {f"wai_{n}": 5.0 if n % 2 else 2.0 for n in range(1, 13)}
    context.close()


def english_left(page: Page) -> list[str]:
    """English words a Spanish reader would meet on the page, as shown or read aloud."""
    return page.evaluate(
        """() => {
          const shown = [document.body.innerText, document.title,
            ...[...document.querySelectorAll('[aria-label]')].map(e => e.ariaLabel),
            ...[...document.querySelectorAll('[aria-valuetext]')]
              .map(e => e.getAttribute('aria-valuetext'))].join(' ');
          return shown.match(/\\b(the|you|your|and|please|session|answer|not|yet)\\b/gi) || [];
        }"""
    )


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_spanish_client_on_a_phone_rates_in_spanish(browser, server, javascript) -> None:
    therapy_session, token = new_link(server, language="es")
    context = phone(browser, locale="en-US", java_script_enabled=javascript)
    page = open_form(context, server, token)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_text("Está bien elegir números bajos.")).to_be_visible()
    expect(page.get_by_text("Su terapeuta lee sus respuestas.")).to_be_visible()
    expect(page.get_by_role("complementary").get_by_text("marque 2")).to_be_visible()
    if javascript:
        expect(page.locator("#overall-value")).to_have_text("Todavía sin respuesta")
    assert english_left(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("button", name="Enviar").tap()
    expect(page.locator("#goals-error")).to_have_text("Elija una respuesta para esta pregunta.")
    assert english_left(page) == []
    for key, value in {
        "relationship": "7.5",
        "goals": "8",
        "approach": "6",
        "overall": "9",
    }.items():
        if javascript:
            page.locator(f"#{key}").fill(value)
        else:
            page.locator(f"#{key}").select_option(value)
    page.get_by_label("Me gustaría hablar de cómo van nuestras sesiones").check()
    page.get_by_role("button", name="Enviar").tap()
    expect(page.get_by_role("heading", name=GRACIAS)).to_be_visible()
    expect(page.get_by_text("Su terapeuta verá su pedido")).to_be_visible()
    assert english_left(page) == []
    [rating] = ratings_of(server, therapy_session)
    assert rating.scores == {"relationship": 7.5, "goals": 8.0, "approach": 6.0, "overall": 9.0}
    assert rating.wants_to_talk is True
    assert rating.wording_version == 2
    context.close()


def test_the_sliders_take_the_place_reserved_for_them_so_nothing_moves(browser, server) -> None:
    _, token = new_link(server, language="es")
    where = {}
    for javascript in (False, True):
        context = phone(browser, java_script_enabled=javascript)
        page = open_form(context, server, token)
        page.wait_for_load_state("load")
        where[javascript] = page.locator("#overall-anchors").bounding_box()["y"]
        context.close()
    assert abs(where[True] - where[False]) < 1, where


def test_a_double_tap_sends_one_request_and_records_one_rating(browser, server) -> None:
    therapy_session, token = new_link(server)
    context = phone(browser)
    page = open_form(context, server, token)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    fill_sliders(page, ANSWERS)
    box = page.get_by_role("button", name="Submit").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(x, y)
    page.touchscreen.tap(x, y)
    page.evaluate(
        "() => { const f = document.getElementById('rating-form'); "
        "f.requestSubmit(); f.requestSubmit(); }"
    )
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    page.wait_for_timeout(500)
    assert len(posts) == 1
    assert len(ratings_of(server, therapy_session)) == 1
    context.close()


def test_an_answer_sent_while_offline_is_kept_and_sent_once_back_online(browser, server) -> None:
    therapy_session, token = new_link(server)
    context = phone(browser)
    page = open_form(context, server, token)
    keys = []
    page.on(
        "request",
        lambda r: keys.append(r.headers.get("idempotency-key")) if r.method == "POST" else None,
    )
    fill_sliders(page, ANSWERS)
    context.set_offline(True)
    page.get_by_role("button", name="Submit").tap()
    expect(page.get_by_text("Not sent yet — we'll keep trying")).to_be_visible()
    expect(page.get_by_role("button", name="Sending…")).to_be_disabled()
    page.wait_for_timeout(1500)  # let at least one backoff retry fail as well
    assert ratings_of(server, therapy_session) == []
    context.set_offline(False)
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible(timeout=40_000)
    [rating] = ratings_of(server, therapy_session)
    assert rating.scores == {"relationship": 7.5, "goals": 8.2, "approach": 6.0, "overall": 9.1}
    assert len(set(keys)) == 1 and keys[0]
    assert rating.idempotency_key == keys[0]
    context.close()


def test_without_javascript_the_form_posts_shows_errors_and_records_once(browser, server) -> None:
    therapy_session, token = new_link(server)
    context = phone(browser, java_script_enabled=False)
    page = open_form(context, server, token)
    page.get_by_label("How much did you feel your therapist listened to you").select_option("7.5")
    page.get_by_label("Anything you'd like your therapist to know?").fill("Kept?")
    page.get_by_role("button", name="Submit").tap()
    expect(page.get_by_text("Please check your answers")).to_be_visible()
    expect(page.locator("#goals-error")).to_have_text("Please choose an answer for this question.")
    expect(page.locator("#relationship")).to_have_value("7.5")
    expect(page.locator("#comment")).to_have_value("Kept?")
    assert ratings_of(server, therapy_session) == []

    page.locator("#goals").select_option("8")
    page.locator("#approach").select_option("6.5")
    page.locator("#overall").select_option("10")
    page.get_by_role("button", name="Submit").tap()
    expect(page.get_by_role("heading", name=THANKS)).to_be_visible()
    [rating] = ratings_of(server, therapy_session)
    assert rating.scores == {"relationship": 7.5, "goals": 8.0, "approach": 6.5, "overall": 10.0}
    assert rating.comment == "Kept?"
    assert rating.wants_to_talk is False
    context.close()


@pytest.mark.parametrize(("instrument", "language"), [("alliance4", "en"), ("wai12", "es")])
def test_the_form_never_scrolls_sideways_at_320_px(browser, server, instrument, language) -> None:
    _, token = new_link(server, instrument=instrument, language=language)
    context = phone(browser, viewport={"width": 320, "height": 640})
    page = open_form(context, server, token)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.get_by_role("button").last.tap()  # errors shown: still no sideways scroll
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.evaluate("document.documentElement.style.fontSize = '200%'")  # text zoomed to 200%
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()


AXE_SOURCE = (importlib.resources.files("axe_playwright_python") / "axe.min.js").read_text()
AXE_RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: [
    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}});
  return {passes: result.passes.length, violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))};
}"""


def axe_violations(page: Page, label: str) -> list[dict]:
    page.evaluate(AXE_SOURCE)  # the page's CSP forbids inline scripts; evaluate is not one
    result = page.evaluate(AXE_RUN)
    assert result["passes"] > 10, "axe did not really run"
    violations = result["violations"]
    for violation in violations:
        print(f"axe [{label}] {violation['impact']}: {violation['id']} {violation['nodes']}")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize(
    ("instrument", "language"), [("alliance4", "en"), ("alliance4", "es"), ("wai12", "es")]
)
def test_axe_finds_nothing_serious_on_the_form_its_errors_or_the_thanks(
    browser, server, instrument, language
) -> None:
    _, token = new_link(server, instrument=instrument, language=language)
    context = phone(browser, bypass_csp=True)
    page = open_form(context, server, token)
    assert axe_violations(page, f"{instrument} form") == []
    page.get_by_role("button").last.tap()
    expect(page.locator(".error:visible").first).to_be_visible()
    assert axe_violations(page, f"{instrument} errors") == []
    page.goto(f"{server.base_url}/r/not-a-real-token")
    assert axe_violations(page, "unknown link") == []
    context.close()


def test_the_access_log_never_shows_a_token(browser, server) -> None:
    _, token = new_link(server)
    context = phone(browser)
    page = open_form(context, server, token)
    page.request.get(f"{server.base_url}/api/public/ratings/{token}")
    deadline = time.monotonic() + 5
    while "/api/public/ratings/[redacted]" not in server.log_text():
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.1)
    log = server.log_text()
    assert '"GET /r/[redacted] HTTP/1.1" 200' in log
    assert server.tokens
    leaked = [t for t in server.tokens if t in log]
    assert leaked == []
    context.close()


def test_a_link_that_expires_while_answering_says_the_answers_were_not_sent(
    browser, server
) -> None:
    therapy_session, token = new_link(server)
    context = phone(browser)
    page = open_form(context, server, token)
    fill_sliders(page, ANSWERS)
    with server.db.writing() as session:  # the link expires while the client answers
        link = session.exec(
            select(RatingLink).where(RatingLink.therapy_session_id == therapy_session.id)
        ).one()
        link.expires_at = utcnow() - timedelta(minutes=1)
        session.add(link)
    page.get_by_role("button", name="Submit").tap()
    expect(page.locator("#status")).to_have_text(NOTICES["not_sent"][1])
    expect(page.get_by_role("button", name="Submit")).to_be_disabled()
    expect(page.locator("#goals")).to_have_value(ANSWERS["goals"])  # still on the page
    assert ratings_of(server, therapy_session) == []
    context.close()
