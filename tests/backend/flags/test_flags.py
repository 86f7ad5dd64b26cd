"""Each submission is scored at once; flags carry their explanation and lifecycle."""

from __future__ import annotations

import pytest

from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def rate(api, db, client, scores: dict, **extra) -> None:
    _, token = make_session_with_link(db, client)
    body = {"scores": scores, **extra}
    assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201


@pytest.fixture
def therapist(db):
    return signed_in(db)


@pytest.fixture
def ruptured(api, db, therapist):
    """Four steady ratings near the ceiling, then a sharp drop with a request to talk."""
    client = make_client(db, therapist)
    for _ in range(4):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5))
    rate(api, db, client, alliance4(6.0, 7.0, 7.5, 7.0), wants_to_talk=True)
    return client


def test_a_sharp_drop_raises_explained_flags_on_that_session(api, therapist, ruptured) -> None:
    flags = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()
    rules = {f["rule"] for f in flags if f["session_number"] == 5}
    assert {"client_wants_to_talk", "below_personal_baseline", "below_cutoff"} <= rules
    assert flags[0]["severity"] == "urgent"  # most severe first
    assert all(f["explanation"] and f["guidance"] and f["rules_version"] for f in flags)
    assert all(f["status"] == "open" for f in flags)


def test_a_clients_flags_come_most_severe_first_then_newest_session(
    api, db, therapist, ruptured
) -> None:
    """A total order, newest flag last among equals, so the client page splits the list
    the same way on every visit."""
    rate(api, db, ruptured, alliance4(8.0, 8.2, 8.1, 8.0), wants_to_talk=True)  # session 6
    flags = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()
    rank = {"urgent": 0, "warning": 1, "talk": 2, "info": 3}
    order = [(rank[f["severity"]], -f["session_number"], -f["id"]) for f in flags]
    assert order == sorted(order)
    assert len({f["severity"] for f in flags}) > 1 and len({f["session_number"] for f in flags}) > 1


def test_steady_high_ratings_raise_no_warning(api, db, therapist) -> None:
    client = make_client(db, therapist)
    for _ in range(4):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5))
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    assert not [f for f in flags if f["severity"] in ("warning", "urgent")]


def test_a_rupture_opens_an_episode(api, therapist, ruptured) -> None:
    episodes = api.get(f"/api/clients/{ruptured.code}/episodes", headers=therapist.headers)
    assert [(e["opened_session"], e["status"]) for e in episodes.json()] == [(5, "open")]


def test_a_recovery_repairs_the_episode_and_resolves_only_its_numeric_flags(
    api, db, therapist, ruptured
):
    rate(api, db, ruptured, alliance4(9.6, 9.5, 9.4, 9.5))
    episodes = api.get(f"/api/clients/{ruptured.code}/episodes", headers=therapist.headers).json()
    assert episodes[0]["status"] == "repaired"
    flags = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()
    at_rupture = {f["rule"]: f for f in flags if f["session_number"] == 5}
    numeric = at_rupture["below_personal_baseline"]
    assert (numeric["status"], numeric["resolution"]) == ("resolved", "repaired")
    assert at_rupture["client_wants_to_talk"]["status"] == "open"  # the client's, not the scores'
    assert at_rupture["below_cutoff"]["status"] == "open"


def test_the_caseload_list_puts_urgent_first(api, db, therapist, ruptured) -> None:
    calm = make_client(db, therapist)
    rate(api, db, calm, alliance4(8.5, 9.5, 9.5, 9.5))
    flags = api.get("/api/flags", headers=therapist.headers).json()
    assert flags[0]["client_code"] == ruptured.code
    assert flags[0]["severity"] == "urgent"
    assert {f["client_code"] for f in flags} == {ruptured.code, calm.code}


def test_acknowledging_records_the_action_and_note(api, therapist, ruptured) -> None:
    flag = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()[0]
    path = f"/api/clients/{ruptured.code}/flags/{flag['id']}"
    body = {"action": "raised_in_session", "note": "We talked about pace."}
    acknowledged = api.post(f"{path}/acknowledge", json=body, headers=therapist.headers).json()
    assert (acknowledged["status"], acknowledged["action"]) == ("acknowledged", "raised_in_session")
    resolved = api.post(f"{path}/resolve", json={}, headers=therapist.headers).json()
    assert (resolved["status"], resolved["resolution"]) == ("resolved", "therapist")
    assert api.post(f"{path}/acknowledge", json=body, headers=therapist.headers).status_code == 409


@pytest.mark.parametrize(
    ("outcome_note", "expected_note"),
    [
        ("Opened with it; we agreed to slow down.", "Opened with it; we agreed to slow down."),
        (None, None),
    ],
    ids=["with a note", "without a note"],
)
def test_completing_a_planned_action_records_what_happened_beside_the_plan(
    api, therapist, ruptured, outcome_note, expected_note
) -> None:
    flag = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()[0]
    path = f"/api/clients/{ruptured.code}/flags/{flag['id']}/acknowledge"
    plan = {"action": "planned_next_session", "note": "Will open next session with this."}
    planned = api.post(path, json=plan, headers=therapist.headers).json()
    outcome = {"action": "raised_in_session", "note": outcome_note}
    done = api.post(path, json=outcome, headers=therapist.headers).json()
    assert (done["action"], done["note"]) == ("raised_in_session", expected_note)
    assert (done["planned_action"], done["plan_note"]) == (
        "planned_next_session",
        "Will open next session with this.",
    )
    assert done["planned_at"] == planned["acknowledged_at"]


def test_acknowledging_needs_an_action_from_the_list(api, therapist, ruptured) -> None:
    flag = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()[0]
    path = f"/api/clients/{ruptured.code}/flags/{flag['id']}/acknowledge"
    response = api.post(path, json={"action": "ignored"}, headers=therapist.headers)
    assert response.status_code == 422
    assert "action" in response.json()["detail"]


def test_another_therapist_cannot_see_or_touch_the_flags(api, db, ruptured, therapist) -> None:
    other = signed_in(db)
    flag_id = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()[0][
        "id"
    ]
    assert api.get(f"/api/clients/{ruptured.code}/flags", headers=other.headers).status_code == 404
    path = f"/api/clients/{ruptured.code}/flags/{flag_id}/acknowledge"
    body = {"action": "referred"}
    assert api.post(path, json=body, headers=other.headers).status_code == 404
    assert api.get("/api/flags", headers=other.headers).json() == []


def test_a_supervisor_sees_team_flags_but_cannot_acknowledge(api, db, ruptured, therapist) -> None:
    supervisor = signed_in(db, role="supervisor", team="North")
    assert api.get("/api/flags", headers=supervisor.headers).json()
    flag_id = api.get("/api/flags", headers=supervisor.headers).json()[0]["id"]
    path = f"/api/clients/{ruptured.code}/flags/{flag_id}/acknowledge"
    assert (
        api.post(path, json={"action": "referred"}, headers=supervisor.headers).status_code == 403
    )


def test_a_flag_of_another_client_is_404(api, db, therapist, ruptured) -> None:
    mine_too = make_client(db, therapist)
    flag_id = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()[0][
        "id"
    ]
    path = f"/api/clients/{mine_too.code}/flags/{flag_id}/resolve"
    assert api.post(path, json={}, headers=therapist.headers).status_code == 404


def test_a_first_rating_after_missed_sessions_is_recorded_and_the_gap_flagged(
    api, db, therapist
) -> None:
    """Sessions missed before a client's first rating have no rated questionnaire yet; their
    flag takes the one the session was planned with (this once failed the submission)."""
    client = make_client(db, therapist)
    for _ in range(3):
        make_session_with_link(db, client)
    _, token = make_session_with_link(db, client)
    answer = api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()})
    assert answer.status_code == 201

    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    missing = [f for f in flags if f["rule"] == "missing_ratings"]
    assert missing and all(f["instrument"] == "alliance4" for f in missing)
    assert min(f["session_number"] for f in missing) < 4
