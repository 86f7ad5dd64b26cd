"""Rupture episodes: opened against the client's own range, followed to repair or not."""

from __future__ import annotations

import pandas as pd

from scoring import EPISODE_COLUMNS, evaluate
from tests.scoring.factories import TODAY, ratings_frame, sessions_for

STEADY = [38, 38.5, 37.5, 38]


def episodes_of(totals, **kwargs) -> pd.DataFrame:
    ratings = ratings_frame(totals, **kwargs)
    return evaluate(ratings, sessions_for(ratings), today=TODAY).episodes


def test_v_shaped_recovery_is_repaired():
    episodes = episodes_of([*STEADY, 30, 38, 38])
    assert list(episodes.columns) == list(EPISODE_COLUMNS)
    episode = episodes.iloc[0]
    assert (episode["opened_session"], episode["status"], episode["closed_session"]) == (
        5,
        "repaired",
        6,
    )
    assert episode["severity"] == "info"


def test_drop_without_recovery_within_four_ratings_of_its_lowest_is_unrepaired_and_urgent():
    episode = episodes_of([*STEADY, 30, 31, 30.5, 31, 30.5]).iloc[0]
    assert (episode["status"], episode["closed_session"], episode["severity"]) == (
        "unrepaired",
        9,
        "urgent",
    )


def test_a_rupture_that_keeps_deepening_stays_open_until_four_ratings_after_its_lowest():
    episode = episodes_of([*STEADY, 31, 30, 29, 28, 29]).iloc[0]
    assert episode["status"] == "open" and episode["lowest_total"] == 28


def test_later_ratings_inside_an_open_episode_open_nothing_new():
    assert len(episodes_of([*STEADY, 30, 29, 30])) == 1


def test_a_new_drop_after_repair_opens_a_second_episode_judged_by_the_same_range():
    episodes = episodes_of([*STEADY, 30, 38, 38, 38, 30, 38])
    assert episodes["opened_session"].tolist() == [5, 9]
    assert episodes["episode_number"].tolist() == [1, 2]
    # the first rupture did not widen the range the second is judged by
    assert episodes["pre_rupture_sd"].iloc[1] <= episodes["pre_rupture_sd"].iloc[0] + 0.2


def test_a_single_possible_dip_opens_no_episode():
    assert episodes_of([*STEADY, 34, 38]).empty


def test_a_request_to_talk_never_opens_or_belongs_to_an_episode():
    assert episodes_of([38, 38, 38, 38, 38], wants_to_talk=[True] * 5).empty


def test_explanation_speaks_in_points():
    text = episodes_of([*STEADY, 30, 38]).iloc[0]["explanation"]
    assert text.startswith("Rupture at session 5: total 30, 8 points below this client's usual 38")
    assert "repaired at session 6" in text
