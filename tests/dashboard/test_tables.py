"""Table builders: what the team page names each therapist by."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from dashboard import charts
from dashboard.labels import day_label
from dashboard.tables import (
    OLDEST_FLAG_COLUMN,
    caseload_frame,
    filter_caseload,
    formatted_caseload,
    live_flags,
    ruptures_frame,
    sparkline_range,
    talk_requests_frame,
    therapist_labels,
    therapist_table,
    therapist_weekly_frame,
    waits_for_what_was_done,
    wording_note,
)
from tests.dashboard.described import described

ALLIANCE4 = described("alliance4")
WAI12 = described("wai12")


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
RUPTURE = {
    "client_code": "K7Q-2M4",
    "therapist_id": 7,
    "therapist_name": "Sam Lee",
    "since": "2026-11-02",
    "severity": "warning",
    "status": "unrepaired",
    "explanation": "Total fell 9 points below the client's usual range.",
    "last_action": None,
    "last_action_at": None,
}
TALK = {
    "client_code": "K7Q-2M4",
    "therapist_id": 3,
    "therapist_name": "Sam Lee",
    "session_number": 4,
    "held_on": "2026-11-20",
    "waiting_since": "2026-11-21T10:00:00Z",
    "waiting_days": 3,
    "explanation": "The client asked to talk.",
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


def test_both_queues_name_therapists_as_the_table_does() -> None:
    labels = therapist_labels(NAMESAKES)
    assert ruptures_frame([RUPTURE], labels).loc[0, "Therapist"] == "Sam Lee (2)"
    assert talk_requests_frame([TALK], labels).loc[0, "Therapist"] == "Sam Lee (1)"


def test_the_rupture_queue_keeps_since_as_a_date_and_says_what_was_last_done() -> None:
    items = [
        {**RUPTURE, "client_code": "A", "since": "2026-11-02", "last_action": "referred"},
        {**RUPTURE, "client_code": "B", "since": "2025-12-30"},
    ]
    queue = ruptures_frame(items, therapist_labels(NAMESAKES))
    assert queue.sort_values("Since")["Client"].tolist() == ["B", "A"]
    assert queue["Last action"].tolist() == ["Referred the client", "Nothing recorded"]


def test_a_talk_request_says_in_whole_days_how_long_since_the_client_asked() -> None:
    rows = [TALK, {**TALK, "waiting_days": 1}, {**TALK, "waiting_days": 0}]
    waiting = talk_requests_frame(rows, {})["Waiting since the client asked"]
    assert waiting.tolist() == ["3 days", "1 day", "today"]


def caseload_row(code: str, **fields) -> dict:
    return {
        "code": code,
        "therapist_name": "Sam Lee",
        "top_severity": None,
        "open_flags": {},
        "latest_total": 33.25,
        "change_from_previous": None,
        "recent_totals": [],
        "days_since_last_rating": 4,
        "sessions_without_rating": 0,
        "oldest_unacknowledged_days": None,
        "repair_status": "none",
        "status": "active",
        **fields,
    }


def test_caseload_days_read_as_whole_days_and_an_empty_cell_as_a_dash() -> None:
    rows = [
        caseload_row("A", top_severity="urgent", oldest_unacknowledged_days=12),
        caseload_row("B", days_since_last_rating=None, latest_total=None),
    ]
    text = formatted_caseload(caseload_frame(rows)).to_string(delimiter="|")
    header, *lines = text.splitlines()
    cells = [dict(zip(header.split("|"), line.split("|"), strict=True)) for line in lines]
    shown = ["Latest total", "Days since rating", OLDEST_FLAG_COLUMN]
    assert [[row[c] for c in shown] for row in cells] == [["33.2", "4", "12"], ["–", "–", "–"]]


def test_caseload_search_finds_a_code_or_a_label_in_any_case() -> None:
    frame = pd.DataFrame(
        {"Client": ["SRBW-YC6K", "K7RX-2QMP"], "Label": ["MB Thursdays", ""], "severity": "none"}
    )
    assert filter_caseload(frame, search="thurs")["Client"].tolist() == ["SRBW-YC6K"]
    assert filter_caseload(frame, search="k7rx")["Client"].tolist() == ["K7RX-2QMP"]
    assert len(filter_caseload(frame, search="  ")) == 2


@pytest.mark.parametrize("typed", ["gaz674vs", "GAZ674VS", "gaz6-74vs", "z674", "6-7", " gaz6 "])
def test_caseload_search_finds_a_code_typed_without_its_hyphen_or_in_lower_case(
    typed: str,
) -> None:
    frame = pd.DataFrame(
        {"Client": ["GAZ6-74VS", "K7RX-2QMP"], "Label": ["", "GAZ notes"], "severity": "none"}
    )
    assert filter_caseload(frame, search=typed)["Client"].tolist() == ["GAZ6-74VS"]


def test_every_sparkline_shares_one_y_range() -> None:
    frame = pd.DataFrame({"Trend": [[30.0, 33.0], [12.0, 38.5], []]})
    assert sparkline_range(frame) == (12.0, 38.5)
    assert sparkline_range(pd.DataFrame({"Trend": [[]]})) is None


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


@pytest.mark.parametrize(
    ("rule", "action", "waits"),
    [
        ("client_wants_to_talk", None, True),
        ("client_wants_to_talk", "planned_next_session", True),
        ("client_wants_to_talk", "raised_in_session", False),
        ("below_personal_baseline", None, False),
    ],
)
def test_a_request_to_talk_waits_for_what_was_done_before_it_can_be_resolved(
    rule, action, waits
) -> None:
    assert waits_for_what_was_done({"rule": rule, "action": action}) is waits


def test_every_word_of_the_clinical_vocabulary_has_a_label():
    from dashboard.labels import (
        ACTION_LABELS,
        EPISODE_LABELS,
        FLAG_STATUS_LABELS,
        SEVERITY_LABELS,
        SEVERITY_SHAPES,
    )
    from scoring.vocabulary import Action, EpisodeStatus, FlagStatus, Severity

    assert set(SEVERITY_LABELS) == set(Severity) == set(SEVERITY_SHAPES)
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
