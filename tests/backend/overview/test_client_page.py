"""Issue 14's API: the client page in one call, private labels, what was done about a flag,
deleting a client added by mistake, and the browser's sign-in cookie."""

from __future__ import annotations

import pytest

from backend.auth.router import BROWSER_COOKIE
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def rate(api, db, client, scores: dict, *, language: str = "en", **extra) -> str:
    _, token = make_session_with_link(db, client, language=language)
    assert api.post(f"/api/public/ratings/{token}", json={"scores": scores, **extra}).status_code
    return token


@pytest.fixture
def therapist(db):
    return signed_in(db, team="North")


@pytest.fixture
def ruptured(api, db, therapist):
    client = make_client(db, therapist)
    for _ in range(4):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5))
    rate(
        api,
        db,
        client,
        alliance4(6.0, 7.0, 7.5, 7.0),
        language="es",
        wants_to_talk=True,
        comment="Me sentí apurado.",
    )
    return client


def test_the_client_page_answers_everything_the_five_calls_did(api, therapist, ruptured) -> None:
    base = f"/api/clients/{ruptured.code}"
    page = api.get(f"{base}/page", headers=therapist.headers).json()
    for part in ("ratings", "sessions", "flags", "episodes"):
        assert page[part] == api.get(f"{base}/{part}", headers=therapist.headers).json()
    assert page["client"] == api.get(base, headers=therapist.headers).json()
    assert page["latest_total"] == page["ratings"][-1]["total"]
    assert page["change_from_previous"] < 0
    assert page["last_link_language"] == "es"
    assert page["flags"][0]["severity"] == "urgent"


def test_a_label_is_read_by_the_therapist_and_supervisor_and_never_by_the_phone(
    api, db, therapist, ruptured
) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    base = f"/api/clients/{ruptured.code}"
    changed = api.put(f"{base}/label", json={"label": "  JD Tuesdays "}, headers=therapist.headers)
    assert changed.json() == {"label": "JD Tuesdays"}
    assert api.get(f"{base}/page", headers=supervisor.headers).json()["label"] == "JD Tuesdays"
    caseload = api.get("/api/caseload", headers=therapist.headers).json()
    assert [row["label"] for row in caseload] == ["JD Tuesdays"]
    _, token = make_session_with_link(db, ruptured)
    for path in (f"/r/{token}", f"/api/public/ratings/{token}"):
        assert "JD Tuesdays" not in api.get(path).text
    audit = api.get("/api/audit", headers=supervisor.headers).json()
    assert "set_client_label" in {e["action"] for e in audit}
    assert "JD Tuesdays" not in str(audit)


@pytest.mark.parametrize(
    ("label", "status"),
    [("x" * 24, 200), ("x" * 25, 422), ("two\nlines", 422), ("", 200), (None, 200)],
)
def test_a_label_is_one_short_line(api, db, therapist, label, status) -> None:
    client = make_client(db, therapist)
    response = api.put(
        f"/api/clients/{client.code}/label", json={"label": label}, headers=therapist.headers
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["detail"]


def _first_flag(api, therapist, client) -> dict:
    return api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()[0]


def test_a_planned_action_is_later_completed(api, therapist, ruptured) -> None:
    flag = _first_flag(api, therapist, ruptured)
    url = f"/api/clients/{ruptured.code}/flags/{flag['id']}/acknowledge"
    planned = api.post(url, json={"action": "planned_next_session"}, headers=therapist.headers)
    assert (planned.json()["status"], planned.json()["action"]) == (
        "acknowledged",
        "planned_next_session",
    )
    done = api.post(url, json={"action": "raised_in_session"}, headers=therapist.headers)
    assert done.json()["action"] == "raised_in_session"


@pytest.mark.parametrize(("note", "status"), [(None, 422), ("   ", 422), ("Phoned them", 200)])
def test_other_needs_a_note_saying_what_was_done(api, therapist, ruptured, note, status) -> None:
    flag = _first_flag(api, therapist, ruptured)
    response = api.post(
        f"/api/clients/{ruptured.code}/flags/{flag['id']}/acknowledge",
        json={"action": "other", "note": note},
        headers=therapist.headers,
    )
    assert response.status_code == status, response.text
    if status == 422:
        assert "note" in response.json()["detail"].lower()


def test_an_admin_deletes_a_client_without_sessions_and_not_one_with(
    api, db, therapist, ruptured
) -> None:
    admin = signed_in(db, role="admin")
    mistake = make_client(db, therapist)
    assert api.delete(f"/api/clients/{mistake.code}", headers=admin.headers).status_code == 204
    assert api.get(f"/api/clients/{mistake.code}", headers=admin.headers).status_code == 404
    kept = api.delete(f"/api/clients/{ruptured.code}", headers=admin.headers)
    assert kept.status_code == 409 and "discharge" in kept.json()["detail"]


def test_instruments_come_from_the_api_default_first(api, therapist) -> None:
    listed = api.get("/api/instruments", headers=therapist.headers).json()
    assert listed[0]["instrument"]["id"] == "alliance4"
    assert all(i["total_min"] < i["total_cutoff"] < i["total_max"] for i in listed)


def _ticket(api, who) -> str:
    return api.post("/api/auth/browser-ticket", headers=who.headers).json()["ticket"]


def test_the_browser_gets_the_sign_in_only_as_an_http_only_strict_cookie(api, therapist) -> None:
    ticket = _ticket(api, therapist)
    redeemed = api.post(
        "/api/auth/browser-session",
        data={"ticket": ticket},
        headers={"Sec-Fetch-Site": "same-site"},
    )
    assert redeemed.status_code == 204
    cookie = redeemed.headers["set-cookie"]
    assert cookie.startswith(f"{BROWSER_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    secret = redeemed.cookies[BROWSER_COOKIE]
    api.cookies.clear()
    as_browser = {"Authorization": f"Bearer {secret}"}
    assert api.get("/api/me", headers=as_browser).json()["id"] == therapist.id
    # The ticket works once; signing out ends the browser's copy too.
    again = api.post("/api/auth/browser-session", data={"ticket": ticket})
    assert again.status_code == 401
    assert api.post("/api/auth/logout", headers=therapist.headers).status_code == 204
    assert api.get("/api/me", headers=as_browser).status_code == 401


def test_another_site_cannot_plant_a_ticket_in_the_browser(api, therapist) -> None:
    response = api.post(
        "/api/auth/browser-session",
        data={"ticket": _ticket(api, therapist)},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert BROWSER_COOKIE not in response.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("query", "status"),
    [("since=2026-01-01&until=2099-12-31", 200), ("until=0", 422), ("since=2026-13-40", 422)],
)
def test_the_audit_trail_filters_by_day_written_as_a_day(api, db, query, status) -> None:
    admin = signed_in(db, role="admin")
    api.get("/api/clients", headers=admin.headers)  # audited as list_clients
    response = api.get(f"/api/audit?{query}&action=list_clients", headers=admin.headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert [e["action"] for e in response.json()] == ["list_clients"]


def test_the_client_page_carries_the_ranges_scoring_judged_each_rating_by(api, db) -> None:
    from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in

    therapist = signed_in(db)
    client = make_client(db, therapist)
    for scores in [alliance4(9.5, 9.5, 9.5, 9.5)] * 3 + [alliance4(7, 7, 7, 7)]:
        _, token = make_session_with_link(db, client)
        assert api.post(f"/api/public/ratings/{token}", json={"scores": scores}).is_success
    page = api.get(f"/api/clients/{client.code}/page", headers=therapist.headers).json()
    ranges = api.get(f"/api/clients/{client.code}/ranges", headers=therapist.headers).json()
    assert page["ranges"] == ranges
    assert [r["usual"] for r in ranges] == [None, None, 38.0, 38.0]
    assert ranges[-1]["in_episode"] and ranges[-1]["change_from_previous"] == -10.0
