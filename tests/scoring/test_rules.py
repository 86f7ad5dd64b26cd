"""Each rule at its boundaries: just above, at and just below every threshold."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scoring import DEFAULT_CONFIG, FLAG_COLUMNS, RULES_VERSION, evaluate
from tests.scoring.factories import TODAY, ratings_frame, sessions_for


def flags_of(totals, rule, config=DEFAULT_CONFIG, **kwargs) -> pd.DataFrame:
    ratings = ratings_frame(totals, **kwargs)
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY, config=config).flags
    return flags[flags["rule"] == rule]


def sessions_flagged(totals, rule, **kwargs) -> list[int]:
    return flags_of(totals, rule, **kwargs)["session_number"].tolist()


@pytest.mark.parametrize(
    ("total", "flagged"),
    [(35.9, True), (36.0, False), (36.1, False), (0.0, True), (40.0, False)],
)
def test_below_cutoff_fires_only_under_36(total, flagged):
    assert sessions_flagged([total], "below_cutoff") == ([1] if flagged else [])


def test_below_cutoff_is_talk_and_explains_the_numbers():
    flag = flags_of([33], "below_cutoff").iloc[0]
    assert flag["severity"] == "talk"
    assert "33" in flag["explanation"] and "36" in flag["explanation"]
    assert flag["evidence"] == {"value": 33.0, "threshold": 36.0}


@pytest.mark.parametrize(("value", "flagged"), [(8.9, True), (9.0, False), (9.1, False)])
def test_item_low_boundary_at_item_cutoff(value, flagged):
    ratings = ratings_frame([39.0])
    ratings.loc[0, ["relationship", "goals", "approach", "overall"]] = [value, 10, 10, 10]
    ratings.loc[0, "total"] = value + 30
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    low = flags[flags["rule"] == "item_low"]
    assert low["item"].tolist() == (["relationship"] if flagged else [])


def test_item_low_flags_each_low_item_separately_in_item_order():
    ratings = ratings_frame([30.0])
    ratings.loc[0, ["relationship", "goals", "approach", "overall"]] = [10, 5, 10, 5]
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    low = flags[flags["rule"] == "item_low"]
    assert low["item"].tolist() == ["goals", "overall"]
    assert set(low["severity"]) == {"talk"}


@pytest.mark.parametrize(
    ("totals", "flagged"),
    [([38, 37.1], []), ([38, 37], [2]), ([38, 36.9], [2]), ([38, 38], []), ([38], [])],
)
def test_drop_from_previous_needs_a_full_point(totals, flagged):
    assert sessions_flagged(totals, "drop_from_previous") == flagged


@pytest.mark.parametrize(
    ("second", "flagged"), [(34.1, True), (34.15, True), (34.16, False), (34.2, False)]
)
def test_reliable_drop_boundary_at_default_rci_3_84(second, flagged):
    # RCI = 1.96 * 4.0 * sqrt(2 * 0.12) = 3.8408: a drop of 3.85 is reliable, 3.84 is not
    assert sessions_flagged([38.0, second], "reliable_drop") == ([2] if flagged else [])


@pytest.mark.parametrize(("drop", "flagged"), [(3.9, False), (4.0, True), (4.1, True)])
def test_drop_equal_to_rci_is_reliable(drop, flagged):
    config = DEFAULT_CONFIG.with_thresholds("alliance4", reliable_change=4.0)
    flags = flags_of([38.0, 38.0 - drop], "reliable_drop", config=config)
    assert flags["session_number"].tolist() == ([2] if flagged else [])
    if flagged:
        assert flags.iloc[0]["severity"] == "warning"


def test_reliable_drop_never_fires_on_a_first_rating():
    assert sessions_flagged([10.0], "reliable_drop") == []


# With priors 38, 38, 38 the SD is 0, floored at 2.0: possible < 36, probable < 34.
@pytest.mark.parametrize(
    ("priors", "total", "level"),
    [
        ([], 20.0, None),
        ([38], 20.0, None),
        ([38, 38], 20.0, None),
        ([38, 38, 38], 36.0, None),
        ([38, 38, 38], 35.9, "possible"),
        ([38, 38, 38], 34.0, "possible"),
        ([38, 38, 38], 33.9, "probable"),
        ([38, 38, 38, 38, 38], 20.0, "probable"),
    ],
)
def test_below_personal_baseline_levels_and_minimum_history(priors, total, level):
    flags = flags_of([*priors, total], "below_personal_baseline")
    last = flags[flags["session_number"] == len(priors) + 1]
    assert last["level"].tolist() == ([level] if level else [])
    if level:
        assert last.iloc[0]["severity"] == ("warning" if level == "probable" else "talk")


def test_below_personal_baseline_uses_the_clients_own_sd_when_larger_than_floor():
    # priors 30, 34, 38, 42->40: mean 35.5, sd 4.43; probable line 26.6
    flags = flags_of([30, 34, 38, 40, 27], "below_personal_baseline")
    flag = flags.iloc[-1]
    assert flag["level"] == "possible"
    assert flag["evidence"]["n"] == 4
    assert flag["evidence"]["mean"] == 35.5


def test_below_personal_baseline_explanation_reads_like_the_spec():
    flag = flags_of([38, 39, 38, 39, 38, 38, 31], "below_personal_baseline").iloc[0]
    assert flag["explanation"] == (
        "Total 31 is 3.7 SD below this client's own average of 38.3 over 6 sessions."
    )


@pytest.mark.parametrize(
    ("totals", "flagged"),
    [
        ([40, 39, 38, 37, 36], [5]),  # slope -1, 4 non-increases, decline 4 >= 3.84
        ([40, 39.5, 39, 38.5, 36.1], [5]),  # decline 3.9
        ([40, 39.5, 39, 38.5, 36.2], []),  # decline 3.8 < RCI
        ([40, 39, 38, 38.5, 36], []),  # only 1 non-increase at the end
        ([39, 38, 37, 36], []),  # fewer than 5 ratings
        ([38, 40, 39, 38, 36], [5]),  # 3 non-increases ending now; decline 2 < RCI?
    ],
)
def test_downward_trend_needs_slope_streak_and_reliable_decline(totals, flagged):
    if totals == [38, 40, 39, 38, 36]:
        flagged = []  # first minus last is only 2 points
    assert sessions_flagged(totals, "downward_trend") == flagged


def test_downward_trend_slope_boundary_is_minus_half_a_point():
    config = DEFAULT_CONFIG.with_thresholds("alliance4", reliable_change=1.0)
    assert sessions_flagged([38, 38, 38, 37, 36], "downward_trend") == []  # slope 0 median
    flags = flags_of([40, 39.5, 39, 38.5, 38], "downward_trend", config=config)
    assert flags["session_number"].tolist() == [5]  # slope exactly -0.5
    flags = flags_of([40, 39.6, 39.2, 38.8, 38.4], "downward_trend", config=config)
    assert flags.empty  # slope -0.4


@pytest.mark.parametrize("wants", [True, False])
def test_client_wants_to_talk_is_urgent_whatever_the_numbers(wants):
    flags = flags_of([40], "client_wants_to_talk", wants_to_talk=[wants])
    assert flags["severity"].tolist() == (["urgent"] if wants else [])


@pytest.mark.parametrize(
    ("totals", "flagged"),
    [
        ([40, 40], []),
        ([40, 40, 40], [3]),
        ([40, 40, 40, 40, 40], [3]),
        ([40, 40, 39.9, 40, 40, 40], [6]),
        ([39.9, 39.9, 39.9], []),
    ],
)
def test_ceiling_no_variance_flags_once_where_the_run_reaches_three(totals, flagged):
    assert sessions_flagged(totals, "ceiling_no_variance") == flagged


def test_perfect_ceiling_client_gets_no_drop_or_baseline_flags():
    ratings = ratings_frame([40] * 8)
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    assert flags["rule"].tolist() == ["ceiling_no_variance"]


@pytest.mark.parametrize(
    ("unrated", "today_offset_days", "flagged"),
    [
        ([4], 30, []),
        ([4, 5], 30, [5]),
        ([4, 5, 6], 30, [6]),
        ([4, 6], 30, []),
        ([4, 5], 7, []),  # session 5 only 7 days old: link still live
        ([4, 5], 8, [5]),
    ],
)
def test_missing_ratings_flags_latest_overdue_session_of_a_run(unrated, today_offset_days, flagged):
    import datetime as dt

    from tests.scoring.factories import START

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
        assert missing.iloc[0]["severity"] == "warning"
        assert missing.iloc[0]["instrument"] == "alliance4"


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
    pd.testing.assert_frame_equal(first.flags, second.flags)
    pd.testing.assert_frame_equal(first.episodes, second.episodes)
    pd.testing.assert_frame_equal(first.summary, second.summary)
    assert first.flags["client_id"].iloc[0] == "a"


def test_switching_instrument_starts_a_new_history():
    a = ratings_frame([38, 38, 38, 38], sessions=[1, 2, 3, 4])
    w = ratings_frame([30], instrument="wai12", sessions=[5])
    ratings = pd.concat([a, w], ignore_index=True)
    flags = evaluate(ratings, sessions_for(ratings), today=TODAY).flags
    at_five = flags[flags["session_number"] == 5]
    assert "reliable_drop" not in set(at_five["rule"])
    assert "below_personal_baseline" not in set(at_five["rule"])


def test_client_who_never_rated_gets_missing_ratings_without_an_instrument():
    from scoring import empty_sessions

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
    assert (summary["warning"], summary["sessions_without_rating"]) == (1, 2)
    assert evaluate(ratings, empty_sessions(), today=TODAY).flags["rule"].tolist() == []
