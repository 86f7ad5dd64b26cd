"""Text fields refuse characters no database should store (422 naming the field), on both
databases, on the JSON API and on the client's no-JavaScript form."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.audit.models import AuditEvent
from backend.ratings.models import Rating
from backend.ratings.page import ERROR_COMMENT_CONTROL_CHARACTERS
from backend.text_fields import has_control_characters
from tests.backend.factories import (
    alliance4,
    make_client,
    make_flag,
    make_session_with_link,
    signed_in,
)

UNSTORABLE = ["\x00", "\x1b"]


def with_flag(db, therapist) -> tuple[str, int]:
    client = make_client(db, therapist)
    return client.code, make_flag(db, client).id


def requests_with(db, text: str) -> list[tuple[str, str, dict, dict, str]]:
    """(method, path, body, headers, field) for every text field of the API."""
    therapist, admin = signed_in(db), signed_in(db, role="admin")
    _, token = make_session_with_link(db, make_client(db, therapist))
    code, flag_id = with_flag(db, therapist)
    new_user = {
        "email": "new.person@clinic.test",
        "display_name": "New Person",
        "role": "therapist",
        "team": "North",
        "password": "a long enough passphrase",
    }
    user_path = f"/api/users/{therapist.id}"
    return [
        (
            "POST",
            f"/api/public/ratings/{token}",
            {"scores": alliance4(), "comment": f"fine{text}"},
            {},
            "comment",
        ),
        ("POST", "/api/auth/login", {"email": f"a{text}@b.c", "password": "x"}, {}, "email"),
        ("POST", "/api/users", {**new_user, "email": f"a{text}@b.c"}, admin.headers, "email"),
        (
            "POST",
            "/api/users",
            {**new_user, "email": "p2@clinic.test", "display_name": f"A{text}"},
            admin.headers,
            "display_name",
        ),
        (
            "POST",
            "/api/users",
            {**new_user, "email": "p3@clinic.test", "team": f"North{text}"},
            admin.headers,
            "team",
        ),
        ("PATCH", user_path, {"display_name": f"A{text}"}, admin.headers, "display_name"),
        ("PATCH", user_path, {"team": f"T{text}"}, admin.headers, "team"),
        (
            "POST",
            f"/api/clients/{code}/flags/{flag_id}/acknowledge",
            {"action": "raised_in_session", "note": f"n{text}"},
            therapist.headers,
            "note",
        ),
        (
            "POST",
            f"/api/clients/{code}/flags/{flag_id}/resolve",
            {"note": f"n{text}"},
            therapist.headers,
            "note",
        ),
    ]


@pytest.mark.parametrize("character", UNSTORABLE, ids=[f"0x{ord(c):02x}" for c in UNSTORABLE])
def test_every_text_field_refuses_control_characters_naming_the_field(api, db, character) -> None:
    for method, path, body, headers, field in requests_with(db, character):
        response = api.request(method, path, json=body, headers=headers)
        assert response.status_code == 422, (path, field, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field], (path, response.text)
    with db.reading() as session:
        assert session.exec(select(Rating)).all() == []
        failed = session.exec(select(AuditEvent).where(AuditEvent.action == "sign_in")).all()
    assert failed == []  # refused before anything is looked up


def test_tabs_and_new_lines_are_ordinary_text(api, db) -> None:
    for method, path, body, headers, field in requests_with(db, "\t\r\n"):
        if field == "email":
            continue  # an email address holds no spaces of any kind
        response = api.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.text)


def test_exactly_the_c0_controls_but_tab_newline_and_carriage_return_are_refused() -> None:
    refused = {code for code in range(0x80) if has_control_characters(chr(code))}
    assert refused == set(range(0x20)) - {0x09, 0x0A, 0x0D}


def test_the_schema_publishes_the_rule() -> None:
    from backend.main import app

    schemas = app.openapi()["components"]["schemas"]
    comment = schemas["RatingSubmission"]["properties"]["comment"]["anyOf"][0]
    assert comment["pattern"].startswith("^[^\\x00-\\x08")


@pytest.mark.parametrize("character", ["\x00", "\x1b"], ids=["NUL", "ESC"])
def test_the_no_javascript_form_refuses_them_next_to_the_comment(api, db, character) -> None:
    _, token = make_session_with_link(db, make_client(db, signed_in(db)))
    answers = {"relationship": "7", "goals": "8", "approach": "6", "overall": "9"}
    page = api.post(f"/r/{token}", data={**answers, "comment": f"fine{character}"})
    assert page.status_code == 422
    message = ERROR_COMMENT_CONTROL_CHARACTERS  # English is the catalogs' source
    assert f'<p class="error" id="comment-error">{message}</p>' in page.text
    with db.reading() as session:
        assert session.exec(select(Rating)).all() == []
