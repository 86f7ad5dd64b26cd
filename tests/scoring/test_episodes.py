"""Rupture episodes: opened by strong signals, closed repaired or unrepaired."""

from __future__ import annotations

import pandas as pd

from scoring import EPISODE_COLUMNS, evaluate
from tests.scoring.factories import TODAY, ratings_frame, sessions_for

STEADY = [38, 39, 38, 39]  # mean 38.5, sd 0.58 -> floored 2.0; recovery line 37.5


def episodes_of(totals, **kwargs) -> pd.DataFrame:
    ratings = ratings_frame(totals, **kwargs)
    return evaluate(ratings, sessions_for(ratings), today=TODAY).episodes


def test_v_shaped_recovery_is_repaired():
    episodes = episodes_of([*STEADY, 30, 38])
    assert list(episodes.columns) == list(EPISODE_COLUMNS)
    episode = episodes.iloc[0]
    assert (episode["status"], episode["opened_session"], episode["closed_session"]) == (
        "repaired",
        5,
        6,
    )
    assert episode["trigger_rule"] == "below_personal_baseline"
    assert episode["pre_rupture_mean"] == 38.5 and episode["pre_rupture_sd"] == 2.0
    assert episode["recovery_threshold"] == 37.5
    assert episode["lowest_total"] == 30.0
    assert episode["severity"] == "info"


def test_return_exactly_to_the_recovery_line_counts_as_repaired():
    assert episodes_of([*STEADY, 30, 33, 37.5])["status"].tolist() == ["repaired"]


def test_drop_without_recovery_in_three_ratings_is_unrepaired_and_urgent():
    episodes = episodes_of([*STEADY, 30, 33, 35, 37.4, 39])
    episode = episodes.iloc[0]
    assert episode["status"] == "unrepaired"
    assert episode["closed_session"] == 8
    assert episode["severity"] == "urgent"
    assert episode["lowest_total"] == 30.0


def test_episode_stays_open_while_fewer_than_three_later_ratings():
    for later in ([], [33], [33, 34]):
        episodes = episodes_of([*STEADY, 30, *later])
        assert episodes["status"].tolist() == ["open"]
        assert pd.isna(episodes.iloc[0]["closed_session"])
        assert pd.isna(episodes.iloc[0]["closed_on"])


def test_second_drop_during_an_open_episode_does_not_open_a_duplicate():
    episodes = episodes_of([*STEADY, 30, 34, 28])
    assert len(episodes) == 1
    assert episodes.iloc[0]["opened_session"] == 5


def test_a_new_drop_after_repair_opens_a_second_episode():
    episodes = episodes_of([*STEADY, 30, 38, 39, 30])
    assert episodes["episode_number"].tolist() == [1, 2]
    assert episodes["status"].tolist() == ["repaired", "open"]


def test_possible_baseline_drop_alone_opens_no_episode():
    # 35.5 is 1.5 floored SD below 38.5: possible, not probable; drop 3.5 < RCI
    assert episodes_of([*STEADY, 35.5]).empty


def test_wants_to_talk_opens_an_episode_even_at_the_first_rating():
    episodes = episodes_of([38, 37, 38, 39], wants_to_talk=[True, False, False, False])
    episode = episodes.iloc[0]
    assert episode["trigger_rule"] == "client_wants_to_talk"
    assert pd.isna(episode["pre_rupture_mean"])
    assert episode["recovery_threshold"] == 36.0  # no history: the instrument cutoff
    assert episode["status"] == "repaired"


def test_reliable_drop_opens_an_episode_with_only_one_prior_rating():
    episodes = episodes_of([39, 34])
    assert episodes["trigger_rule"].tolist() == ["reliable_drop"]


def test_explanation_names_the_numbers():
    text = episodes_of([*STEADY, 30, 38]).iloc[0]["explanation"]
    assert "session 5" in text and "38.5" in text and "repaired at session 6" in text
