"""Table builders: what the team page names each therapist by."""

from __future__ import annotations

from datetime import date

from dashboard import charts
from dashboard.labels import day_label
from dashboard.tables import (
    live_flags,
    queue_frame,
    therapist_labels,
    therapist_table,
    therapist_weekly_frame,
    wording_note,
)
from scoring.instruments import ALLIANCE4, WAI12


def therapist(therapist_id: int, name: str) -> dict:
    return {
        "therapist_id": therapist_id,
        "therapist_name": name,
        "team_name": "North",
        "active_clients": 3,
        "response_rate": 0.75,
        "warning_share": 0.0,
        "unacknowledged_over_7_days": 0,
        "episodes": 0,
        "repair_rate": None,
    }


def week(therapist_id: int, mean_total: float) -> dict:
    return {
        "therapist_id": therapist_id,
        "week_start": "2026-11-16",
        "sessions": 2,
        "rated_sessions": 2,
        "mean_total": mean_total,
        "response_rate": 1.0,
    }


NAMESAKES = [therapist(7, "Sam Lee"), therapist(3, "Sam Lee"), therapist(5, "Ana Ruiz")]
QUEUED = {
    "kind": "episode",
    "client_code": "K7Q-2M4",
    "therapist_id": 7,
    "therapist_name": "Sam Lee",
    "since": "2026-11-02",
    "severity": "warning",
    "status": "unrepaired",
    "explanation": "Total fell 9 points below the client's usual range.",
}


def test_namesakes_are_numbered_in_the_order_they_joined_and_others_keep_their_name() -> None:
    assert therapist_labels(NAMESAKES) == {3: "Sam Lee (1)", 7: "Sam Lee (2)", 5: "Ana Ruiz"}


def test_the_therapist_table_tells_namesakes_apart() -> None:
    table = therapist_table(NAMESAKES)
    assert table["Therapist"].tolist() == ["Sam Lee (2)", "Sam Lee (1)", "Ana Ruiz"]


def test_namesakes_keep_their_own_row_in_the_heatmap() -> None:
    overview = {"therapists": NAMESAKES, "therapist_weekly": [week(3, 30.0), week(7, 20.0)]}
    spec = charts.team_heatmap(therapist_weekly_frame(overview), "mean_total", title="Mean")
    cells = {row["therapist_name"]: row["value"] for row in spec["data"]["values"]}
    assert cells == {"Sam Lee (1)": 30.0, "Sam Lee (2)": 20.0}


def test_a_therapist_who_left_the_team_is_a_former_colleague() -> None:
    overview = {"therapists": NAMESAKES[2:], "therapist_weekly": [week(9, 30.0)]}
    assert therapist_weekly_frame(overview)["therapist_name"].tolist() == ["Former colleague"]


def test_the_queue_names_therapists_as_the_table_does() -> None:
    queue = queue_frame([QUEUED], therapist_labels(NAMESAKES))
    assert queue.loc[0, "Therapist"] == "Sam Lee (2)"


def test_the_queue_keeps_since_as_a_date_so_it_sorts_by_date() -> None:
    items = [
        {**QUEUED, "client_code": "A", "since": "2026-11-02"},
        {**QUEUED, "client_code": "B", "since": "2025-12-30"},
    ]
    queue = queue_frame(items, therapist_labels(NAMESAKES))
    assert queue.sort_values("Since")["Client"].tolist() == ["B", "A"]


def test_dates_read_the_same_in_every_country() -> None:
    assert day_label("2026-11-03") == "03 Nov 2026"
    assert day_label(date(2026, 3, 11)) == "11 Mar 2026"


def flag(flag_id: int, severity: str, session_number: int, status: str = "open") -> dict:
    return {"id": flag_id, "severity": severity, "session_number": session_number, "status": status}


def test_live_flags_keep_the_apis_attention_order_and_leave_out_closed_ones() -> None:
    in_api_order = [
        flag(5, "urgent", 4, status="resolved"),
        flag(2, "urgent", 1),
        flag(7, "warning", 6, status="withdrawn"),
        flag(4, "warning", 2, status="acknowledged"),
        flag(3, "talk", 5),
        flag(1, "talk", 3),
        flag(6, "info", 6),
    ]
    assert [f["id"] for f in live_flags(in_api_order)] == [2, 4, 3, 1, 6]


def test_every_word_of_the_clinical_vocabulary_has_a_label():
    from dashboard.labels import (
        ACTION_LABELS,
        EPISODE_LABELS,
        FLAG_STATUS_LABELS,
        SEVERITY_LABELS,
        SEVERITY_SYMBOLS,
    )
    from scoring.vocabulary import Action, EpisodeStatus, FlagStatus, Severity

    assert set(SEVERITY_LABELS) == set(Severity) == set(SEVERITY_SYMBOLS)
    assert set(ACTION_LABELS) == set(Action)
    assert set(FLAG_STATUS_LABELS) == set(FlagStatus)
    assert set(EPISODE_LABELS) == set(EpisodeStatus)


def rated(session_number: int, wording_version: int, instrument: str = "alliance4") -> dict:
    return {
        "session_number": session_number,
        "instrument": instrument,
        "wording_version": wording_version,
    }


def test_the_item_detail_names_each_wording_and_what_not_to_compare_across_them() -> None:
    ratings = [rated(1, 1), rated(2, 1), rated(3, 2), rated(4, 1, "wai12")]
    assert wording_note(ratings, ALLIANCE4) == (
        "Item wording version 1 (sessions 1–2), version 2 (session 3). overall asked "
        "something else before: compare across versions with care."
    )
    assert wording_note([rated(5, 2, "wai12")], WAI12) == "Item wording version 2 (session 5)."
    assert wording_note([], ALLIANCE4) is None
