"""A request to talk is the client's, not the scores': it waits for the therapist."""

from __future__ import annotations

import pytest

from backend.flags.scoring_sync import rescore_everyone
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def rate(api, db, client, total: float, **extra) -> None:
    _, token = make_session_with_link(db, client)
    quarter = round(total / 4, 1)
    scores = alliance4(quarter, quarter, quarter, round(total - 3 * quarter, 1))
    body = {"scores": scores, **extra}
    assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201


def talk_flags(api, therapist, client) -> list[dict]:
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    return [f for f in flags if f["rule"] == "client_wants_to_talk"]


def test_a_request_made_as_the_scores_recover_stays_open_through_repair_and_rescore(api, db):
    """The reported case: 37-38 for six sessions, a drop to 28, then 37.8 and a request."""
    therapist = signed_in(db)
    client = make_client(db, therapist)
    for total in (37, 38, 37.5, 38, 37, 38, 28):
        rate(api, db, client, total)
    rate(api, db, client, 37.8, wants_to_talk=True)
    episodes = api.get(f"/api/clients/{client.code}/episodes", headers=therapist.headers).json()
    assert [e["status"] for e in episodes] == ["repaired"]
    rescore_everyone(database=db)
    [request] = talk_flags(api, therapist, client)
    assert (request["status"], request["severity"], request["resolution"]) == (
        "open",
        "urgent",
        None,
    )


def test_a_request_made_during_an_open_episode_stays_open_when_it_is_repaired(api, db):
    therapist = signed_in(db)
    client = make_client(db, therapist)
    for total in (38, 38.5, 37.5, 38):
        rate(api, db, client, total)
    rate(api, db, client, 29, wants_to_talk=True)
    rate(api, db, client, 30, wants_to_talk=True)
    rate(api, db, client, 38)  # repaired
    rescore_everyone(database=db)
    episodes = api.get(f"/api/clients/{client.code}/episodes", headers=therapist.headers).json()
    assert [e["status"] for e in episodes] == ["repaired"]
    requests = talk_flags(api, therapist, client)
    assert [(f["session_number"], f["status"]) for f in requests] == [(6, "open"), (5, "open")]


def test_a_request_stays_live_until_the_therapist_records_what_they_did(api, db):
    therapist = signed_in(db)
    client = make_client(db, therapist)
    rate(api, db, client, 39, wants_to_talk=True)
    [request] = talk_flags(api, therapist, client)
    path = f"/api/clients/{client.code}/flags/{request['id']}"
    body = {"action": "raised_in_session", "note": "Talked about the pace of sessions."}
    assert api.post(f"{path}/acknowledge", json=body, headers=therapist.headers).status_code == 200
    rate(api, db, client, 39.5)
    rescore_everyone(database=db)
    [after] = talk_flags(api, therapist, client)
    assert (after["status"], after["action"], after["note"]) == (
        "acknowledged",
        "raised_in_session",
        "Talked about the pace of sessions.",
    )


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (None, 409),  # one click, nothing recorded
        ({"action": "planned_next_session", "note": "Will open with it."}, 409),  # only a plan
        ({"action": "raised_in_session"}, 200),
        ({"action": "other", "note": "Phoned the client the next day."}, 200),
    ],
    ids=["nothing recorded", "only planned", "raised in session", "other with a note"],
)
def test_a_request_to_talk_is_resolved_only_once_what_was_done_is_recorded(
    api, db, recorded, expected
):
    therapist = signed_in(db)
    client = make_client(db, therapist)
    rate(api, db, client, 39, wants_to_talk=True)
    [request] = talk_flags(api, therapist, client)
    path = f"/api/clients/{client.code}/flags/{request['id']}"
    if recorded is not None:
        acknowledged = api.post(f"{path}/acknowledge", json=recorded, headers=therapist.headers)
        assert acknowledged.status_code == 200
    resolved = api.post(f"{path}/resolve", json={}, headers=therapist.headers)
    assert resolved.status_code == expected, resolved.text
    [after] = talk_flags(api, therapist, client)
    if expected == 409:
        assert "record what you did" in resolved.json()["detail"]
        assert after["status"] == ("open" if recorded is None else "acknowledged")
    else:
        assert (after["status"], after["action"]) == ("resolved", recorded["action"])


def test_a_flag_that_is_not_a_request_to_talk_still_resolves_in_one_click(api, db):
    therapist = signed_in(db)
    client = make_client(db, therapist)
    for total in (38, 38.5, 37.5, 38, 26):
        rate(api, db, client, total)
    flags = api.get(f"/api/clients/{client.code}/flags", headers=therapist.headers).json()
    scored = next(f for f in flags if f["rule"] != "client_wants_to_talk")
    path = f"/api/clients/{client.code}/flags/{scored['id']}/resolve"
    assert api.post(path, json={}, headers=therapist.headers).status_code == 200


def test_the_ranges_the_api_returns_are_the_ones_scoring_judged_by(api, db):
    import pandas as pd

    from scoring import evaluate
    from tests.scoring.factories import ratings_frame, sessions_for

    therapist = signed_in(db)
    client = make_client(db, therapist)
    totals = [38, 38.4, 37.6, 38, 30, 38]
    for total in totals:
        rate(api, db, client, total)
    shown = api.get(f"/api/clients/{client.code}/ranges", headers=therapist.headers).json()
    ratings = ratings_frame(totals, client_id=str(client.id))
    expected = evaluate(ratings, sessions_for(ratings), today=pd.Timestamp.now().date()).ranges
    assert [r["usual"] for r in shown] == [
        None if v != v else round(v, 2) for v in expected["usual"].tolist()
    ]
    assert [r["in_episode"] for r in shown] == [False] * 4 + [True, False]
    assert shown[4]["change_from_previous"] == -8.0
