"""Each rule at its boundaries, and what a therapist sees for the clients that matter."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from scoring import DEFAULT_CONFIG, FLAG_COLUMNS, RULES_VERSION, empty_sessions, evaluate
from scoring.vocabulary import LIVE_FLAG_STATUSES, Severity
from tests.scoring.factories import START, TODAY, ratings_frame, sessions_for

TALK_OR_WORSE = {Severity.talk, Severity.warning, Severity.urgent}


def flags_for(totals, config=DEFAULT_CONFIG, **kwargs) -> pd.DataFrame:
    ratings = ratings_frame(totals, **kwargs)
    return evaluate(ratings, sessions_for(ratings), today=TODAY, config=config).flags


def flags_of(totals, rule, **kwargs) -> pd.DataFrame:
    flags = flags_for(totals, **kwargs)
    return flags[flags["rule"] == rule]


def sessions_flagged(totals, rule, **kwargs) -> list[int]:
    return flags_of(totals, rule, **kwargs)["session_number"].tolist()


@pytest.mark.parametrize(
    ("total", "flagged"),
    [(35.9, True), (36.0, False), (36.1, False), (0.0, True), (40.0, False)],
)
def test_below_cutoff_fires_only_under_36(total, flagged):
    assert sessions_flagged([38, 38, 38, 38, total], "below_cutoff") == ([5] if flagged else [])


def test_a_run_below_the_cutoff_is_one_flag_that_carries_the_run():
    flags = flags_of([38, 38, 38, 38, 35, 34, 35, 35, 34, 35], "below_cutoff")
    assert flags["session_number"].tolist() == [5]
    flag = flags.iloc[0]
    assert flag["severity"] == "talk"
    assert flag["explanation"].startswith("Below 36 in 6 ratings since 02 Feb 2026")
    assert flag["evidence"]["ratings_below"] == 6


def test_a_new_cutoff_flag_only_after_three_ratings_back_above_it():
    totals = [38, 38, 38, 38, 35, 37, 35, 37, 37, 37, 35]
    assert sessions_flagged(totals, "below_cutoff") == [5, 11]
    ended = flags_of(totals, "below_cutoff").iloc[0]["explanation"]
    assert "from 02 Feb 2026 to 16 Feb 2026; at or above 36 since" in ended


def test_steady_client_at_32_to_33_has_at_most_three_live_flags():
    flags = flags_for([32, 33, 32.5, 33, 32, 33, 32.5, 32, 33, 32.5])
    assert len(flags) <= 3
    cutoff = flags[flags["rule"] == "below_cutoff"].iloc[0]
    assert cutoff["level"] == "from_start"
    assert "may never have fully formed" in cutoff["explanation"]
    assert "referral" in cutoff["guidance"]


def test_client_at_38_to_40_with_one_point_dips_has_no_talk_or_worse_flag():
    flags = flags_for([39, 40, 39, 38, 39, 40, 39, 38, 40, 39, 38, 39])
    assert not set(flags["severity"]) & TALK_OR_WORSE


@pytest.mark.parametrize(("value", "flagged"), [(8.9, True), (9.0, False), (10.0, False)])
def test_item_low_boundary_at_item_cutoff(value, flagged):
    ratings = ratings_frame([38])
    ratings["relationship"] = value
    ratings["total"] = ratings[["relationship", "goals", "approach", "overall"]].sum(axis=1)
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    assert ("item_low" in set(flags["rule"])) is flagged


def test_low_items_of_one_rating_are_one_context_flag_in_plain_words():
    ratings = ratings_frame([38, 38, 38, 38])
    ratings.loc[3, ["relationship", "goals", "approach", "overall"]] = [7.5, 8.0, 10, 10]
    ratings.loc[3, "total"] = 35.5
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    items = flags[flags["rule"] == "item_low"]
    assert len(items) == 1 and items.iloc[0]["severity"] == "info"
    text = items.iloc[0]["explanation"]
    assert "felt less listened to (7.5 of 10)" in text
    assert "was less sure the session focused on what matters to them (8)" in text
    cutoff = flags[flags["rule"] == "below_cutoff"].iloc[0]["explanation"]
    assert "felt less listened to (7.5 of 10)" in cutoff


def test_a_one_point_drop_is_context_not_a_flag():
    flags = flags_for([38, 38, 38, 37])
    assert flags.empty


@pytest.mark.parametrize(
    ("totals", "level", "severity"),
    [
        ([38, 38.5, 37.5, 38, 36], None, None),  # 2 points: within this client's range
        ([38, 38.5, 37.5, 38, 34], None, None),  # 4 points: inside the clinic's weekly spread
        ([38, 38.5, 37.5, 38, 33], "possible", "info"),
        ([38, 38.5, 37.5, 38, 30], "probable", "warning"),
        ([38, 38.5, 37.5, 38, 24], "far", "urgent"),
        ([38, 31], None, None),  # one earlier rating is too few to know a range by
    ],
)
def test_below_personal_baseline_levels(totals, level, severity):
    flags = flags_of(totals, "below_personal_baseline")
    if level is None:
        assert flags.empty
    else:
        flag = flags.iloc[-1]
        assert (flag["level"], flag["severity"]) == (level, severity)


def test_two_lower_ratings_in_a_row_confirm_a_probable_rupture():
    flags = flags_of([38, 38.5, 37.5, 38, 31.5, 31.5], "below_personal_baseline")
    assert flags["level"].tolist() == ["possible", "probable"]
    assert "second lower rating in a row (after 31.5)" in flags.iloc[1]["explanation"]


def test_a_slow_slide_adds_up_to_a_probable_rupture_with_one_note_on_the_way():
    flags = flags_of([38, 38.5, 37.5, 38, 33, 33, 33, 33], "below_personal_baseline")
    assert flags["session_number"].tolist() == [5, 8]
    assert flags["level"].tolist() == ["possible", "probable"]
    assert "the fourth lower rating in a row (since session 5)" in flags.iloc[1]["explanation"]


@pytest.mark.parametrize(
    ("lower", "opens_at"),
    [
        (35, None),  # 3 points a week: ordinary movement however long it lasts
        (34, 10),  # the sixth rating 4 points down adds up
        (33, 8),  # the fourth at 5 points
        (32, 7),  # the third at 6
        (31.5, 6),  # the second at 6.5
        (30, 5),  # 8 points: at once
    ],
)
def test_how_long_a_run_of_lower_ratings_takes_to_open_an_episode(lower, opens_at):
    flags = flags_of([38, 38.5, 37.5, 38] + [lower] * 6, "below_personal_baseline")
    probable = flags.loc[flags["level"] == "probable", "session_number"].tolist()
    assert probable == ([opens_at] if opens_at else [])


def test_a_rating_back_in_range_clears_the_slide():
    # the same four lower ratings, broken by one back at the usual level: no rupture
    flags = flags_of([38, 38.5, 37.5, 38, 33, 33, 38, 33, 33], "below_personal_baseline")
    assert "probable" not in flags["level"].tolist()


def test_baseline_explanation_speaks_in_points_and_keeps_sds_in_the_evidence():
    flag = flags_of([38, 38.5, 37.5, 38, 30], "below_personal_baseline").iloc[0]
    assert flag["explanation"].startswith("Total 30 is 8 points below this client's usual 38.")
    assert "SD" not in flag["explanation"] and "noise" not in flag["explanation"]
    assert {"z", "sd", "usual", "threshold_sds", "clinic_sd"} <= set(flag["evidence"])
    assert "acknowledge your part" in flag["guidance"]


def test_a_possible_dip_asks_only_for_a_check_in():
    flag = flags_of([38, 38.5, 37.5, 38, 33], "below_personal_baseline").iloc[0]
    assert "Check in" in flag["guidance"] and "acknowledge your part" not in flag["guidance"]


def test_a_rupture_left_unrepaired_is_one_urgent_flag():
    flags = flags_of([38, 38.5, 37.5, 38, 30, 30, 31, 30, 30, 31], "rupture_not_repaired")
    assert flags["session_number"].tolist() == [9]
    assert flags.iloc[0]["severity"] == "urgent"
    assert "has not come back within 4 ratings" in flags.iloc[0]["explanation"]


@pytest.mark.parametrize("wants", [True, False])
def test_client_wants_to_talk_is_urgent_whatever_the_numbers(wants):
    flags = flags_of([40], "client_wants_to_talk", wants_to_talk=[wants])
    assert len(flags) == int(wants)
    if wants:
        assert flags.iloc[0]["severity"] == "urgent"


@pytest.mark.parametrize(
    ("totals", "flagged"),
    [([40, 40], []), ([40, 40, 40], [3]), ([40, 40, 40, 40, 40], [3]), ([40, 40, 39.9, 40], [])],
)
def test_ceiling_no_variance_flags_once_where_the_run_reaches_three(totals, flagged):
    assert sessions_flagged(totals, "ceiling_no_variance") == flagged


@pytest.mark.parametrize(
    ("unrated", "today_offset_days", "flagged"),
    [
        ([4], 30, []),
        ([4, 5], 30, [5]),
        ([4, 5, 6], 30, [5]),  # the run grows; its flag stays where it began
        ([4, 6], 30, []),
        ([4, 5], 7, []),  # session 5 only 7 days old: link still live
        ([4, 5], 8, [5]),
    ],
)
def test_missing_ratings_is_one_flag_per_run(unrated, today_offset_days, flagged):
    rated = [n for n in range(1, max(unrated) + 2) if n not in unrated]
    if today_offset_days != 30:
        rated = [n for n in rated if n < max(unrated)]
    ratings = ratings_frame([38] * len(rated), sessions=rated)
    sessions = sessions_for(ratings, extra=[("c1", n) for n in unrated])
    last_held = START + dt.timedelta(weeks=max(unrated) - 1)
    today = last_held + dt.timedelta(days=today_offset_days)
    flags = evaluate(ratings, sessions, today=today).flags
    missing = flags[flags["rule"] == "missing_ratings"]
    assert missing["session_number"].tolist() == flagged
    if flagged:
        assert missing.iloc[0]["severity"] == "talk"
        assert missing.iloc[0]["evidence"]["value"] == len(unrated) - (unrated == [4, 6])


def test_flags_have_the_contract_columns_and_json_evidence():
    ratings = ratings_frame([38, 39, 38, 30], wants_to_talk=[False, False, False, True])
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    assert list(flags.columns) == list(FLAG_COLUMNS)
    assert set(flags["rules_version"]) == {RULES_VERSION}
    assert flags["guidance"].str.len().min() > 20
    json.dumps(flags["evidence"].tolist())
    for evidence in flags["evidence"]:
        assert all(type(v) in (int, float) or v is None for v in evidence.values())


def test_unsorted_input_gives_the_same_flags():
    ratings = pd.concat(
        [ratings_frame([38, 39, 31, 33, 38], client_id=c) for c in ("b", "a")],
        ignore_index=True,
    )
    shuffled = ratings.sample(frac=1.0, random_state=3).reset_index(drop=True)
    first = evaluate(ratings, sessions_for(ratings), today=TODAY)
    second = evaluate(shuffled, sessions_for(shuffled), today=TODAY)
    for name in ("flags", "episodes", "summary", "ranges"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert first.flags["client_id"].iloc[0] == "a"


def test_switching_instrument_starts_a_new_history():
    a = ratings_frame([38, 38, 38, 38], sessions=[1, 2, 3, 4])
    w = ratings_frame([30], instrument="wai12", sessions=[5])
    ratings = pd.concat([a, w], ignore_index=True)
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    assert "below_personal_baseline" not in set(flags[flags["session_number"] == 5]["rule"])


def test_client_who_never_rated_gets_missing_ratings_without_an_instrument():
    ratings = ratings_frame([38])
    sessions = pd.concat(
        [sessions_for(ratings), sessions_for(ratings_frame([38, 38], client_id="new"))],
        ignore_index=True,
    )
    result = evaluate(ratings, sessions, today=TODAY)
    flag = result.flags[result.flags["client_id"] == "new"].iloc[0]
    assert (flag["rule"], flag["session_number"]) == ("missing_ratings", 2)
    assert pd.isna(flag["instrument"])
    summary = result.summary.set_index("client_id").loc["new"]
    assert (summary["talk"], summary["sessions_without_rating"]) == (1, 2)
    assert evaluate(ratings, empty_sessions(), today=TODAY).flags["rule"].tolist() == []


def test_live_statuses_come_from_the_one_vocabulary():
    assert [s.value for s in LIVE_FLAG_STATUSES] == ["open", "acknowledged"]
