"""The caseload table and the team overview: aggregated, sorted by attention, scoped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from backend.clock import today, utcnow
from backend.factories import add_client, add_therapy_session
from backend.flags.models import ClientSummary
from backend.ratings.models import Rating
from tests.backend.factories import (
    alliance4,
    make_client,
    make_session_with_link,
    rupture_episode,
    signed_in,
    talk_flag,
)


def rate(api, db, client, scores: dict, *, weeks_ago: int = 0, **extra) -> None:
    held_on = today() - timedelta(weeks=weeks_ago)
    _, token = make_session_with_link(db, client, held_on=held_on)
    body = {"scores": scores, **extra}
    assert api.post(f"/api/public/ratings/{token}", json=body).status_code == 201


def steady(api, db, client, sessions: int = 4, first_week: int = 6) -> None:
    for n in range(sessions):
        rate(api, db, client, alliance4(9.6, 9.5, 9.4, 9.5), weeks_ago=first_week - n)


def rupture(api, db, client) -> None:
    steady(api, db, client)
    rate(api, db, client, alliance4(6.0, 7.0, 7.5, 7.0), weeks_ago=1, wants_to_talk=True)


@pytest.fixture
def therapist(db):
    return signed_in(db, team="North")


@pytest.fixture
def colleague(db):
    return signed_in(db, team="North")


@pytest.fixture
def outsider(db):
    return signed_in(db, team="South")


@pytest.fixture
def supervisor(db, therapist, colleague, outsider):
    return signed_in(db, role="supervisor", team="North")


def codes(rows: list[dict]) -> list[str]:
    return [row["code"] for row in rows]


def test_the_caseload_puts_the_client_with_an_urgent_flag_first(api, db, therapist) -> None:
    calm = make_client(db, therapist)
    steady(api, db, calm)
    ruptured = make_client(db, therapist)
    rupture(api, db, ruptured)
    never_rated = make_client(db, therapist)
    rows = api.get("/api/caseload", headers=therapist.headers).json()
    assert codes(rows)[0] == ruptured.code
    assert set(codes(rows)) == {calm.code, ruptured.code, never_rated.code}
    top = rows[0]
    assert top["top_severity"] == "urgent"
    assert top["open_flags"]["urgent"] >= 1
    assert top["sessions_count"] == 5
    assert top["ratings_count"] == 5
    assert top["latest_total"] == pytest.approx(27.5)
    assert top["change_from_previous"] == pytest.approx(27.5 - 38.0)
    assert top["recent_totals"][-1] == pytest.approx(27.5)
    assert top["days_since_last_rating"] == 7
    assert top["repair_status"] == "open"
    assert top["oldest_unacknowledged_days"] == 0
    empty = next(r for r in rows if r["code"] == never_rated.code)
    assert (empty["sessions_count"], empty["latest_total"], empty["recent_totals"]) == (0, None, [])


def test_the_caseload_keeps_ten_totals_for_the_sparkline(api, db, therapist) -> None:
    client = make_client(db, therapist)
    steady(api, db, client, sessions=12, first_week=12)
    (row,) = api.get("/api/caseload", headers=therapist.headers).json()
    assert len(row["recent_totals"]) == 10


def test_acknowledging_takes_the_flag_out_of_the_open_counts(api, db, therapist) -> None:
    client = make_client(db, therapist)
    rupture(api, db, client)
    flags = api.get(f"/api/clients/{client.code}/flags?status=open", headers=therapist.headers)
    for flag in flags.json():
        path = f"/api/clients/{client.code}/flags/{flag['id']}/acknowledge"
        body = {"action": "raised_in_session"}
        assert api.post(path, json=body, headers=therapist.headers).status_code == 200
    (row,) = api.get("/api/caseload", headers=therapist.headers).json()
    assert row["top_severity"] is None
    assert row["oldest_unacknowledged_at"] is None


def test_a_therapist_sees_only_their_own_caseload(api, db, therapist, colleague) -> None:
    mine = make_client(db, therapist)
    make_client(db, colleague)
    assert codes(api.get("/api/caseload", headers=therapist.headers).json()) == [mine.code]


def test_discharged_clients_are_listed_only_when_asked_for(api, db, therapist) -> None:
    make_client(db, therapist)
    gone = make_client(db, therapist, status="discharged")
    rows = api.get("/api/caseload?status=discharged", headers=therapist.headers).json()
    assert codes(rows) == [gone.code]


def test_a_supervisor_sees_their_team_and_no_other(
    api, db, supervisor, therapist, colleague, outsider
) -> None:
    ours = {make_client(db, therapist).code, make_client(db, colleague).code}
    make_client(db, outsider)
    rows = api.get("/api/caseload", headers=supervisor.headers).json()
    assert set(codes(rows)) == ours
    assert {r["therapist_name"] for r in rows} == {
        therapist.user.display_name,
        colleague.user.display_name,
    }


def test_a_supervisors_caseload_answers_every_field_in_order(
    api, db, supervisor, therapist, colleague, outsider
) -> None:
    """The whole answer, byte for byte: a scored client with open flags, a client with a
    flag that scoring has not summarised yet, and a client with nothing recorded."""
    now, on = utcnow(), today()
    with db.writing() as session:
        scored = add_client(session, therapist_id=therapist.id)
        scored.label = "Tuesdays, après travail"
        flagged = add_client(session, therapist_id=colleague.id)
        untouched = add_client(session, therapist_id=colleague.id)
        add_client(session, therapist_id=therapist.id, status="discharged")
        add_client(session, therapist_id=outsider.id)
        for client, held in ((scored, 3), (flagged, 1)):
            for number in range(1, held + 1):
                day = on - timedelta(days=7 * (held - number) + 9)
                add_therapy_session(session, client=client, number=number, held_on=day)
        session.add(
            ClientSummary(
                client_id=scored.id,
                instrument="alliance4",
                ratings_count=2,
                last_held_on=on - timedelta(days=9),
                latest_total=30.5,
                change_from_previous=-6.0,
                # Twelve totals, one stored as a whole number: ten are shown, all as floats.
                recent_totals=[36.0, 36.5, 37, *([36.5] * 8), 30.5],
                repair_status="open",
                sessions_without_rating=1,
                below_usual=2.25,
                rules_version="test",
            )
        )
        flags = {
            "urgent": talk_flag(
                client_id=scored.id,
                session_number=3,
                held_on=on - timedelta(days=9),
                rule="drop",
                severity="urgent",
                created_at=now - timedelta(days=8, hours=1),
            ),
            "talk": talk_flag(
                client_id=scored.id,
                session_number=3,
                held_on=on - timedelta(days=9),
                created_at=now - timedelta(days=3),
            ),
            "seen": talk_flag(
                client_id=scored.id,
                session_number=2,
                held_on=on - timedelta(days=16),
                rule="dip",
                severity="warning",
                status="acknowledged",
                created_at=now - timedelta(days=20),
            ),
            "flagged": talk_flag(
                client_id=flagged.id,
                session_number=1,
                held_on=on - timedelta(days=9),
                created_at=now - timedelta(days=2),
            ),
        }
        session.add_all(flags.values())
    quiet = {"urgent": 0, "warning": 0, "talk": 0, "info": 0}
    empty = {
        "instrument": None,
        "ratings_count": 0,
        "last_rated_on": None,
        "days_since_last_rating": None,
        "latest_total": None,
        "change_from_previous": None,
        "recent_totals": [],
    }
    expected = [
        {
            "code": scored.code,
            "status": "active",
            "therapist_id": therapist.id,
            "therapist_name": therapist.user.display_name,
            "instrument": "alliance4",
            "sessions_count": 3,
            "ratings_count": 2,
            "last_rated_on": (on - timedelta(days=9)).isoformat(),
            "days_since_last_rating": 9,
            "latest_total": 30.5,
            "change_from_previous": -6.0,
            "recent_totals": [37.0, *([36.5] * 8), 30.5],
            "open_flags": {**quiet, "urgent": 1, "talk": 1},
            "top_severity": "urgent",
            "oldest_unacknowledged_at": _json_time(flags["urgent"].created_at),
            "oldest_unacknowledged_days": 8,
            "repair_status": "open",
            "sessions_without_rating": 1,
            "label": "Tuesdays, après travail",
        },
        {
            "code": flagged.code,
            "status": "active",
            "therapist_id": colleague.id,
            "therapist_name": colleague.user.display_name,
            **empty,
            "sessions_count": 1,
            "open_flags": {**quiet, "talk": 1},
            "top_severity": "talk",
            "oldest_unacknowledged_at": _json_time(flags["flagged"].created_at),
            "oldest_unacknowledged_days": 2,
            "repair_status": "none",
            "sessions_without_rating": 0,
            "label": None,
        },
        {
            "code": untouched.code,
            "status": "active",
            "therapist_id": colleague.id,
            "therapist_name": colleague.user.display_name,
            **empty,
            "sessions_count": 0,
            "open_flags": quiet,
            "top_severity": None,
            "oldest_unacknowledged_at": None,
            "oldest_unacknowledged_days": None,
            "repair_status": "none",
            "sessions_without_rating": 0,
            "label": None,
        },
    ]
    fields = list(expected[0])
    expected = [{field: row[field] for field in fields} for row in expected]

    answer = api.get("/api/caseload?status=active", headers=supervisor.headers)

    assert answer.json() == expected
    assert (
        answer.content == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    )


def _json_time(at) -> str:
    """A UTC time as the API writes it."""
    return at.isoformat().replace("+00:00", "Z")


def test_an_admin_reads_no_caseload_or_team_overview(api, db) -> None:
    admin = signed_in(db, role="admin")
    assert api.get("/api/caseload", headers=admin.headers).status_code == 403
    assert api.get("/api/team/overview", headers=admin.headers).status_code == 403


def test_a_therapist_has_no_team_overview(api, therapist) -> None:
    assert api.get("/api/team/overview", headers=therapist.headers).status_code == 403


def test_signed_out_callers_get_401(api) -> None:
    assert api.get("/api/caseload").status_code == 401
    assert api.get("/api/team/overview").status_code == 401


def test_the_team_overview_covers_the_team_and_no_other(
    api, db, supervisor, therapist, colleague, outsider
) -> None:
    ruptured = make_client(db, therapist)
    rupture(api, db, ruptured)
    calm = make_client(db, colleague)
    steady(api, db, calm)
    make_session_with_link(db, calm, held_on=today())  # held, not rated yet
    elsewhere = make_client(db, outsider)
    rupture(api, db, elsewhere)

    overview = api.get("/api/team/overview?weeks=12", headers=supervisor.headers).json()
    by_name = {t["therapist_name"]: t for t in overview["therapists"]}
    assert set(by_name) == {therapist.user.display_name, colleague.user.display_name}
    mine = by_name[therapist.user.display_name]
    assert (mine["active_clients"], mine["sessions"], mine["rated_sessions"]) == (1, 5, 5)
    assert mine["response_rate"] == 1.0
    assert mine["warning_share"] == 1.0
    assert (mine["episodes"], mine["repair_rate"]) == (1, None)  # open: neither way yet
    theirs = by_name[colleague.user.display_name]
    assert (theirs["sessions"], theirs["rated_sessions"]) == (5, 4)
    assert theirs["response_rate"] == 0.8
    assert theirs["warning_share"] == 0.0

    queue_codes = {item["client_code"] for item in overview["queue"]}
    assert queue_codes == {ruptured.code}
    assert {item["therapist_id"] for item in overview["queue"]} == {therapist.user.id}
    assert {item["kind"] for item in overview["queue"]} == {"flag", "episode"}

    weeks = overview["team_weekly"]
    assert sum(w["ratings"] for w in weeks) == 9  # the outsider's five are not counted
    assert all(w["week_start"] >= overview["period_start"] for w in weeks)
    therapist_ids = {row["therapist_id"] for row in overview["therapist_weekly"]}
    assert therapist_ids == {therapist.id, colleague.id}


def test_the_queue_shows_the_longest_waiting_first_by_session_date(
    api, db, supervisor, therapist
) -> None:
    recent = make_client(db, therapist)
    rupture(api, db, recent)  # its rupture session was held a week ago
    waiting = make_client(db, therapist)  # rated later, about a session held 4 weeks ago
    steady(api, db, waiting, first_week=8)
    rate(api, db, waiting, alliance4(6.0, 7.0, 7.5, 7.0), weeks_ago=4, wants_to_talk=True)

    queue = api.get("/api/team/overview?weeks=12", headers=supervisor.headers).json()["queue"]
    flags = [item for item in queue if item["kind"] == "flag"]
    order = list(dict.fromkeys(item["client_code"] for item in flags))
    assert order == [waiting.code, recent.code]
    assert flags[0]["since"] < flags[-1]["since"]


def test_the_weekly_interval_is_mean_plus_minus_1_96_standard_errors(
    api, db, supervisor, therapist, colleague
) -> None:
    for therapist_totals in ((therapist, 9.0), (colleague, 7.0)):
        who, score = therapist_totals
        client = make_client(db, who)
        rate(api, db, client, alliance4(score, score, score, score), weeks_ago=0)
    overview = api.get("/api/team/overview?weeks=1", headers=supervisor.headers).json()
    (week,) = overview["team_weekly"]
    # totals 36 and 28: mean 32, sample SD 5.657, SE 4.0
    assert (week["ratings"], week["mean_total"]) == (2, 32.0)
    assert week["sd_total"] == pytest.approx(5.66, abs=0.01)
    assert week["ci_low"] == pytest.approx(32 - 1.96 * 4.0, abs=0.01)
    assert week["ci_high"] == pytest.approx(32 + 1.96 * 4.0, abs=0.01)


def test_another_questionnaire_counts_as_a_response_but_not_in_the_means(
    api, db, supervisor, therapist
) -> None:
    client = make_client(db, therapist)
    rate(api, db, client, alliance4(9.0, 9.0, 9.0, 9.0))
    _, token = make_session_with_link(db, client, instrument="wai12", held_on=today())
    wai12 = {f"wai_{n}": 4 for n in range(1, 13)}
    assert api.post(f"/api/public/ratings/{token}", json={"scores": wai12}).status_code == 201

    overview = api.get("/api/team/overview?weeks=1", headers=supervisor.headers).json()

    (week,) = overview["team_weekly"]
    assert (week["ratings"], week["mean_total"]) == (1, 36.0)
    (mine,) = overview["therapist_weekly"]
    assert (mine["sessions"], mine["rated_sessions"], mine["mean_total"]) == (2, 2, 36.0)


def test_an_unknown_instrument_is_refused(api, supervisor) -> None:
    response = api.get("/api/team/overview?instrument=nope", headers=supervisor.headers)
    assert response.status_code == 422


def _totals(api, db, client, totals, talk_at: int | None = None) -> None:
    for n, total in enumerate(totals):
        quarter = round(total / 4, 1)
        scores = alliance4(quarter, quarter, quarter, round(total - 3 * quarter, 1))
        rate(api, db, client, scores, weeks_ago=len(totals) - n, wants_to_talk=n == talk_at)


def test_caseload_attention_follows_severity_then_depth_then_waiting(api, db, therapist):
    """A collapse from 30 to 8 never sorts below a client at 33 and rising."""
    rising = make_client(db, therapist)
    _totals(api, db, rising, [31, 32, 33, 33, 34])
    standing_low = make_client(db, therapist)
    _totals(api, db, standing_low, [32, 33, 32.5, 33, 32])
    talk = make_client(db, therapist)
    _totals(api, db, talk, [38, 38, 38, 38, 37.5], talk_at=4)
    collapse = make_client(db, therapist)
    _totals(api, db, collapse, [30, 31, 30, 30, 8])
    rows = api.get("/api/caseload", headers=therapist.headers).json()
    order = [row["code"] for row in rows]
    assert order.index(collapse.code) < order.index(talk.code) < order.index(standing_low.code)
    assert order.index(standing_low.code) < order.index(rising.code)


def test_the_queue_splits_into_requests_to_talk_and_ruptures_with_the_last_action(
    api, db, supervisor, therapist
) -> None:
    ruptured = make_client(db, therapist)
    rupture(api, db, ruptured)  # a rupture, and a request to talk at the same session
    overview = api.get("/api/team/overview?weeks=12", headers=supervisor.headers).json()
    (talk,) = overview["talk_requests"]
    assert (talk["client_code"], talk["waiting_days"]) == (ruptured.code, 0)
    (rupture_row,) = overview["ruptures"]
    assert (rupture_row["status"], rupture_row["last_action"]) == ("open", None)

    flags = api.get(f"/api/clients/{ruptured.code}/flags", headers=therapist.headers).json()
    talk_flag = next(f for f in flags if f["rule"] == "client_wants_to_talk")
    api.post(
        f"/api/clients/{ruptured.code}/flags/{talk_flag['id']}/acknowledge",
        json={"action": "planned_next_session"},
        headers=therapist.headers,
    )
    overview = api.get("/api/team/overview?weeks=12", headers=supervisor.headers).json()
    assert overview["talk_requests"] == []  # acted on: no longer waiting
    assert overview["ruptures"][0]["last_action"] == "planned_next_session"


def test_each_rupture_shows_the_last_action_taken_on_its_own_flags(
    api, db, supervisor, therapist
) -> None:
    """The reported case: an old unrepaired rupture (July) and a new open one (December);
    what was done about December's must not show as July's last action."""
    client = make_client(db, therapist)

    def acted_on(session_number: int, held_on: date, action: str, instrument="alliance4"):
        return talk_flag(
            client_id=client.id,
            session_number=session_number,
            held_on=held_on,
            instrument=instrument,
            rule="below_personal_baseline",
            status="acknowledged",
            action=action,
            acknowledged_at=datetime.combine(held_on, datetime.min.time(), UTC),
        )

    with db.writing() as session:
        session.add_all(
            [
                rupture_episode(
                    client_id=client.id,
                    opened_session=3,
                    opened_on=date(2026, 7, 6),
                    closed_session=7,
                    closed_on=date(2026, 8, 3),
                    status="unrepaired",
                ),
                rupture_episode(
                    client_id=client.id, opened_session=20, opened_on=date(2026, 12, 7)
                ),
                acted_on(2, date(2026, 6, 29), "referred"),  # before July's rupture opened
                acted_on(5, date(2026, 7, 20), "adjusted_approach"),
                acted_on(21, date(2026, 12, 14), "consulted_supervisor"),
                acted_on(22, date(2026, 12, 21), "no_action_needed", instrument="wai12"),
            ]
        )
    ruptures = api.get("/api/team/overview?weeks=12", headers=supervisor.headers).json()["ruptures"]
    assert {r["since"]: r["last_action"] for r in ruptures} == {
        "2026-07-06": "adjusted_approach",
        "2026-12-07": "consulted_supervisor",
    }


def test_a_request_to_talk_waits_from_when_the_client_sent_the_rating(
    api, db, supervisor, therapist
) -> None:
    """Scoring may raise the flag days later (a rescore); the client asked when they rated."""
    client = make_client(db, therapist)
    rate(api, db, client, alliance4(9.0, 9.0, 9.0, 9.0), weeks_ago=2, wants_to_talk=True)
    asked = datetime.now(UTC) - timedelta(days=10, hours=1)
    with db.writing() as session:
        session.execute(update(Rating).values(submitted_at=asked))
    (talk,) = api.get("/api/team/overview", headers=supervisor.headers).json()["talk_requests"]
    assert talk["waiting_days"] == 10
    assert datetime.fromisoformat(talk["waiting_since"]) == asked


def test_a_request_to_talk_without_its_rating_waits_from_the_session_date(
    api, db, supervisor, therapist
) -> None:
    client = make_client(db, therapist)
    with db.writing() as session:
        session.add(
            talk_flag(
                client_id=client.id,
                session_number=1,
                held_on=today() - timedelta(days=12),
                rule="client_wants_to_talk",
            )
        )
    (talk,) = api.get("/api/team/overview", headers=supervisor.headers).json()["talk_requests"]
    assert talk["waiting_days"] == 12


@pytest.mark.parametrize(("session_days_ago", "counted"), [(3, 0), (7, 0), (8, 1), (60, 1)])
def test_flags_unacknowledged_over_7_days_count_from_the_session_they_are_about(
    api, db, supervisor, therapist, session_days_ago, counted
) -> None:
    """A flag raised today (by a rescore) about a session two months ago has waited."""
    client = make_client(db, therapist)
    with db.writing() as session:
        held_on = today() - timedelta(days=session_days_ago)
        session.add(talk_flag(client_id=client.id, session_number=1, held_on=held_on))
    overview = api.get("/api/team/overview", headers=supervisor.headers).json()
    mine = next(t for t in overview["therapists"] if t["therapist_id"] == therapist.id)
    assert mine["unacknowledged_over_7_days"] == counted
