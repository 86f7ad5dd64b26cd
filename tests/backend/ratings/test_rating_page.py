"""The client's rating page: every state speaks calmly, reveals nothing, and keeps answers."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlmodel import select

from backend.auth.browser_address import address_behind_proxies
from backend.clock import utcnow
from backend.i18n import SOURCE_LANGUAGE, available_languages, translations_for
from backend.log_redaction import redact_tokens
from backend.public_edge import PUBLIC_HEADERS, SlidingWindowLimiter
from backend.ratings.models import Rating
from backend.ratings.page import ERROR_INVALID, ERROR_MISSING, NOTICES
from backend.ratings.wording import DEFAULT_EMERGENCY_NOTICE
from backend.therapy.models import RatingLink
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in

NO_JS_ANSWERS = {"relationship": "7.5", "goals": "8", "approach": "6.5", "overall": "9"}


@pytest.fixture
def opened(db):
    """A client, and a fresh English alliance4 link for them."""
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client)
    return client, token


def shown(text: str) -> str:
    """Text as it appears in the HTML (Jinja escapes &, < and quotes)."""
    return str(escape(text))


def said(language: str, english: str) -> str:
    """An English message as the page says it in a language, escaped as in the HTML."""
    return shown(translations_for(language).gettext(english))


def ratings(db) -> list[Rating]:
    with db.reading() as session:
        return list(session.exec(select(Rating)).all())


def expire_all(db) -> None:
    with db.writing() as session:
        for row in session.exec(select(RatingLink)).all():
            row.expires_at = utcnow() - timedelta(minutes=1)
            session.add(row)


def assert_reveals_nothing_about(html: str, client, token: str) -> None:
    assert client.code not in html
    assert "Therapist " not in html  # factory display names look like "Therapist 3"
    assert "@clinic.test" not in html
    assert token not in html


def test_the_form_shows_every_item_of_the_instrument_with_its_anchors(api, db, opened) -> None:
    client, token = opened
    page = api.get(f"/r/{token}")
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    for key in ("relationship", "goals", "approach", "overall"):
        assert f'<select id="{key}" name="{key}" required' in page.text
    assert shown("How much did you feel your therapist listened to you and took you") in page.text
    assert "0 = Not at all" in page.text and "10 = Completely" in page.text
    assert shown("It's okay to choose low numbers.") in page.text
    assert said("en", DEFAULT_EMERGENCY_NOTICE) in page.text
    assert "/static/rating.js" in page.text
    assert client.code not in page.text


def test_a_choice_instrument_offers_labelled_radios_in_the_links_language(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, instrument="wai12", language="es")
    page = api.get(f"/r/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert page.text.count('type="radio"') == 12 * 5
    assert page.text.count("<legend") == 12
    assert "Rara vez" in page.text and "Siempre" in page.text
    assert said("es", DEFAULT_EMERGENCY_NOTICE) in page.text
    assert ">Enviar</button>" in page.text


def test_a_used_link_thanks_the_client_with_410_and_nothing_else(api, db, opened) -> None:
    client, token = opened
    assert api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()}).status_code == 201
    page = api.get(f"/r/{token}")
    assert page.status_code == 410
    assert shown("This rating has already been sent — thank you.") in page.text
    assert_reveals_nothing_about(page.text, client, token)
    assert "<form" not in page.text


def test_an_expired_link_is_410_asking_for_a_new_one(api, db, opened) -> None:
    client, token = opened
    expire_all(db)
    page = api.get(f"/r/{token}")
    assert page.status_code == 410
    assert shown("This link is no longer valid; ask your therapist for a new one.") in page.text
    assert_reveals_nothing_about(page.text, client, token)


def test_an_expired_spanish_link_answers_in_spanish(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, language="es")
    expire_all(db)
    page = api.get(f"/r/{token}")
    assert page.status_code == 410
    assert '<html lang="es">' in page.text
    assert said("es", NOTICES["invalid"][1]) in page.text


@pytest.mark.parametrize(
    ("accept_language", "lang"),
    [(None, "en"), ("es-MX,es;q=0.9,en;q=0.5", "es"), ("fr, en;q=0.8", "en"), ("de", "en")],
)
def test_an_unknown_link_is_404_in_the_browsers_language(api, db, accept_language, lang) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    page = api.get("/r/" + "x" * 43, headers=headers)
    assert page.status_code == 404
    assert f'<html lang="{lang}">' in page.text
    assert said(lang, NOTICES["invalid"][1]) in page.text
    assert said(lang, DEFAULT_EMERGENCY_NOTICE) in page.text


def test_an_absurdly_long_token_is_simply_unknown(api, db) -> None:
    assert api.get("/r/" + "x" * 2000).status_code == 404
    assert api.post("/r/" + "x" * 2000, data=NO_JS_ANSWERS).status_code == 404


def test_a_no_javascript_submission_records_one_rating_and_says_thank_you(api, db, opened) -> None:
    _, token = opened
    page = api.post(
        f"/r/{token}",
        data={**NO_JS_ANSWERS, "comment": "  Felt rushed at the end.  ", "wants_to_talk": "yes"},
    )
    assert page.status_code == 200
    assert "It is normal to have hard moments with a therapist" in page.text
    assert shown("You never have to stay with a therapist") in page.text
    assert shown("You asked to talk about how your sessions are going") in page.text
    [rating] = ratings(db)
    assert rating.scores == {"relationship": 7.5, "goals": 8.0, "approach": 6.5, "overall": 9.0}
    assert rating.comment == "Felt rushed at the end."
    assert rating.wants_to_talk is True
    assert rating.total == 31.0


def test_missing_answers_are_shown_next_to_each_item_and_the_rest_is_kept(api, db, opened) -> None:
    _, token = opened
    page = api.post(
        f"/r/{token}",
        data={"relationship": "7.5", "goals": "", "comment": "Keep this", "wants_to_talk": "yes"},
    )
    assert page.status_code == 422
    html = page.text
    missing = ERROR_MISSING
    for key in ("goals", "approach", "overall"):
        assert f'<p class="error" id="{key}-error">{missing}</p>' in html
    assert '<p class="error" id="relationship-error" hidden>' in html
    assert '<option value="7.5" selected>' in html
    assert ">Keep this</textarea>" in html
    assert 'value="yes" checked' in html
    assert 'role="alert"' in html
    assert ratings(db) == []


def test_an_out_of_range_answer_is_refused_by_the_service_next_to_its_item(api, db, opened) -> None:
    _, token = opened
    page = api.post(f"/r/{token}", data={**NO_JS_ANSWERS, "goals": "11"})
    assert page.status_code == 422
    assert f'<p class="error" id="goals-error">{ERROR_INVALID}</p>' in page.text
    assert ratings(db) == []


def test_a_too_long_comment_is_an_error_next_to_the_comment(api, db, opened) -> None:
    _, token = opened
    page = api.post(f"/r/{token}", data={**NO_JS_ANSWERS, "comment": "x" * 1001})
    assert page.status_code == 422
    assert '<p class="error" id="comment-error">Please keep this to 1000' in page.text
    assert ratings(db) == []


def test_a_radio_answer_is_kept_after_an_error(api, db) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, instrument="wai12")
    page = api.post(f"/r/{token}", data={"wai_1": "4"})
    assert page.status_code == 422
    assert re.search(r'name="wai_1" value="4" required\s+checked', page.text)
    assert not re.search(r'name="wai_1" value="3" required\s+checked', page.text)
    assert page.text.count(f">{ERROR_MISSING}</p>") == 11


def test_submitting_to_a_used_link_says_already_sent_without_a_second_row(api, db, opened) -> None:
    _, token = opened
    assert api.post(f"/r/{token}", data=NO_JS_ANSWERS).status_code == 200
    again = api.post(f"/r/{token}", data=NO_JS_ANSWERS)
    assert again.status_code == 410
    assert "already been sent" in again.text
    assert len(ratings(db)) == 1


def test_every_client_facing_response_carries_the_strict_headers(api, db, opened) -> None:
    _, token = opened
    responses = [
        api.get(f"/r/{token}"),  # the form
        api.post(f"/r/{token}", data={"goals": "3"}),  # 422 with errors
        api.get(f"/api/public/ratings/{token}"),
        api.post(f"/r/{token}", data=NO_JS_ANSWERS),  # thank you
        api.get(f"/r/{token}"),  # used: 410
        api.get("/r/unknown-token"),  # 404
    ]
    assert [r.status_code for r in responses] == [200, 422, 200, 200, 410, 404]
    json_api = responses.pop(2)
    for response in responses:
        for name, value in PUBLIC_HEADERS.items():
            assert response.headers[name] == value
    # The JSON API keeps an even stricter policy: it serves no page at all.
    assert json_api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    for name in ("Referrer-Policy", "X-Content-Type-Options", "Cache-Control"):
        assert json_api.headers[name] == PUBLIC_HEADERS[name]
    assert "unsafe-inline" not in responses[0].headers["Content-Security-Policy"]


def test_static_files_do_not_get_the_public_page_headers(api, db) -> None:
    css = api.get("/static/rating.css")
    assert css.status_code == 200
    assert "Content-Security-Policy" not in css.headers


def test_static_files_are_gzipped_and_kept_a_year_under_their_current_version(
    api, db, opened
) -> None:
    _, token = opened
    page = api.get(f"/r/{token}").text
    assert re.search(r'<link rel="icon" href="/static/favicon\.svg\?v=\w{12}"', page)
    assert re.search(r'<script src="/static/rating\.js\?v=\w{12}" defer>', page)
    assert '<meta name="description" content="Tell your therapist how' in page
    css = re.search(r'href="(/static/rating\.css\?v=\w{12})"', page).group(1)
    fresh = api.get(css, headers={"Accept-Encoding": "gzip"})
    assert fresh.status_code == 200
    assert fresh.headers["Content-Encoding"] == "gzip"
    assert fresh.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "min-height" in fresh.text
    # An old version's URL, or none, must ask again: the file may have changed.
    assert api.get("/static/rating.css?v=000000000000").headers["Cache-Control"] == "no-cache"
    assert api.get("/static/rating.js").headers["Cache-Control"] == "no-cache"
    assert api.get("/static/no-such-file.css").status_code == 404


def test_too_many_requests_from_one_address_are_refused_with_retry_after(api, db) -> None:
    limiter = api.app.state.public_rate_limiter
    limit = limiter.limit
    try:
        limiter.limit = 3
        codes = [api.get("/r/" + "x" * 43).status_code for _ in range(4)]
        refused = api.get("/api/public/ratings/" + "x" * 43)
        page = api.get("/r/" + "x" * 43, headers={"Accept-Language": "es"})
    finally:
        limiter.limit = limit
    assert codes == [404, 404, 404, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert page.status_code == 429
    assert said("es", NOTICES["too_many"][1]) in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_sliding_window_forgets_old_requests() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(limit=2, window_seconds=60, clock=lambda: now[0])
    assert limiter.hit("a") is None
    now[0] += 30
    assert limiter.hit("a") is None
    assert limiter.hit("a") == 30
    assert limiter.hit("b") is None
    now[0] += 30.5
    assert limiter.hit("a") is None


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "10.0.0.1", "203.0.113.9", "10.0.0.1"),  # trust none: the header is ignored
        (["10.0.0.1"], "10.0.0.1", "198.51.100.7, 203.0.113.9", "203.0.113.9"),
        (["10.0.0.1"], "10.0.0.2", "203.0.113.9", "10.0.0.2"),  # not our proxy
        (["10.0.0.0/24"], "10.0.0.1", "203.0.113.9, 10.0.0.5", "203.0.113.9"),  # two of ours
        (["10.0.0.1"], "10.0.0.1", None, "10.0.0.1"),
    ],
)
def test_x_forwarded_for_is_believed_only_from_the_configured_proxies(
    proxies, peer, forwarded, expected
) -> None:
    assert address_behind_proxies(peer, forwarded, proxies) == expected


def test_the_token_never_reaches_a_log_record(api, db, opened, caplog) -> None:
    _, token = opened
    caplog.set_level(logging.DEBUG)
    api.get(f"/r/{token}")
    for name in ("rapport", "uvicorn.access", "backend.ratings", "httpx"):
        logging.getLogger(name).warning("GET /r/%s and /api/public/ratings/%s", token, token)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/r/{token}?x=1", "1.1", 200
    )
    assert caplog.records
    assert token not in caplog.text
    assert "/r/[redacted]" in caplog.text
    assert "/api/public/ratings/[redacted]" in caplog.text


def test_redaction_leaves_other_paths_alone() -> None:
    assert redact_tokens("GET /api/clients/AB12/ratings") == "GET /api/clients/AB12/ratings"
    assert redact_tokens('"GET /r/abc-DEF_1?x=1 HTTP/1.1"') == '"GET /r/[redacted]?x=1 HTTP/1.1"'


def test_uvicorns_access_formatter_still_works_on_a_redacted_record() -> None:
    from uvicorn.logging import AccessFormatter

    from backend.log_redaction import TokenRedactingFilter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/api/public/ratings/s3cr3t-T0ken", "1.1", 201),
        None,
    )
    TokenRedactingFilter().filter(record)
    line = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s').format(record)
    assert line == '127.0.0.1:5000 - "POST /api/public/ratings/[redacted] HTTP/1.1" 201 Created'


@pytest.mark.parametrize("language", ["en", "es"])
def test_answers_sent_to_a_link_that_expired_meanwhile_are_said_not_sent(
    api, db, language: str
) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, language=language)
    assert api.get(f"/r/{token}").status_code == 200  # the client opens the form...
    expire_all(db)  # ...and the link expires while they answer
    page = api.post(f"/r/{token}", data=NO_JS_ANSWERS)
    assert page.status_code == 410
    assert f'<html lang="{language}">' in page.text
    assert said(language, NOTICES["not_sent"][0]) in page.text
    assert said(language, NOTICES["not_sent"][1]) in page.text
    assert said(language, NOTICES["invalid"][1]) not in page.text
    assert ratings(db) == []


def test_answers_sent_to_a_link_replaced_meanwhile_are_said_not_sent(api, db, opened) -> None:
    _, token = opened
    with db.writing() as session:  # a new link for the session replaces this one
        link = session.exec(select(RatingLink)).one()
        link.token_hash = "0" * 64
        session.add(link)
    page = api.post(f"/r/{token}", data=NO_JS_ANSWERS)
    assert page.status_code == 404
    assert shown(NOTICES["not_sent"][1]) in page.text
    assert ratings(db) == []


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_form_carries_the_not_sent_words_for_its_script(api, db, language: str) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client, language=language)
    page = api.get(f"/r/{token}")
    assert f'data-msg-link-closed="{said(language, NOTICES["not_sent"][1])}"' in page.text


def test_every_notice_is_translated_into_every_language() -> None:
    for language in available_languages():
        if language == SOURCE_LANGUAGE:
            continue
        words = translations_for(language)
        for title, text in NOTICES.values():
            assert words.gettext(title) != title, (language, title)
            assert words.gettext(text) != text, (language, text)
