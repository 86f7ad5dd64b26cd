"""The input contract: malformed frames fail with a message naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import ScoringInputError, empty_sessions, evaluate
from tests.scoring.factories import TODAY, ratings_frame, sessions_for


def run(ratings: pd.DataFrame, sessions: pd.DataFrame | None = None):
    return evaluate(
        ratings, sessions if sessions is not None else sessions_for(ratings), today=TODAY
    )


@pytest.mark.parametrize("column", ["client_id", "session_number", "held_on", "total"])
def test_missing_required_column_is_named(column):
    ratings = ratings_frame([38, 37]).drop(columns=[column])
    with pytest.raises(ScoringInputError, match=rf"missing column.*{column}"):
        run(ratings, empty_sessions())


def test_missing_sessions_column_is_named():
    ratings = ratings_frame([38])
    with pytest.raises(ScoringInputError, match=r"sessions is missing column.*held_on"):
        run(ratings, sessions_for(ratings).drop(columns=["held_on"]))


def test_unknown_instrument_is_named():
    ratings = ratings_frame([38])
    ratings["instrument"] = "srs_licensed"
    with pytest.raises(ScoringInputError, match=r"'srs_licensed' is unknown"):
        run(ratings)


def test_duplicate_client_session_is_named():
    ratings = pd.concat([ratings_frame([38]), ratings_frame([37])], ignore_index=True)
    with pytest.raises(ScoringInputError, match=r"more than one row for client c1 session 1"):
        run(ratings, empty_sessions())


def test_duplicate_session_row_is_named():
    ratings = ratings_frame([38])
    sessions = pd.concat([sessions_for(ratings)] * 2, ignore_index=True)
    with pytest.raises(ScoringInputError, match=r"sessions has more than one row"):
        run(ratings, sessions)


def test_nan_item_of_the_rows_instrument_is_an_error_not_a_guess():
    ratings = ratings_frame([38, 37])
    ratings.loc[1, "goals"] = np.nan
    with pytest.raises(ScoringInputError, match=r"item 'goals' is empty for client c1 session 2"):
        run(ratings)


def test_item_columns_of_absent_instruments_may_be_missing():
    ratings = ratings_frame([38, 37])
    assert "wai_1" not in ratings.columns
    assert len(run(ratings).summary) == 1


def test_item_column_needed_by_present_instrument_is_named():
    ratings = ratings_frame([38]).drop(columns=["overall"])
    with pytest.raises(ScoringInputError, match=r"missing item column 'overall'"):
        run(ratings)


def test_nan_items_of_other_instruments_are_fine():
    a = ratings_frame([38], sessions=[1])
    w = ratings_frame([50], instrument="wai12", sessions=[2])
    ratings = pd.concat([a, w], ignore_index=True)  # NaN in the other instrument's items
    assert ratings["wai_1"].isna().sum() == 1
    assert len(run(ratings).summary) == 1


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("total", np.nan, "total is empty"),
        ("total", 41.0, r"outside 0\.\.40"),
        ("goals", 11.0, r"outside 0\.\.10"),
        ("wants_to_talk", None, "wants_to_talk has empty values"),
        ("session_number", 1.5, "whole numbers"),
        ("held_on", None, "held_on has empty values"),
        ("client_id", None, "client_id has empty values"),
    ],
)
def test_bad_values_are_named(column, value, message):
    ratings = ratings_frame([38, 37])
    ratings[column] = ratings[column].astype(object)
    ratings.loc[1, column] = value
    with pytest.raises(ScoringInputError, match=message):
        run(ratings, empty_sessions())


def test_not_a_dataframe_is_rejected():
    with pytest.raises(ScoringInputError, match=r"must be a pandas DataFrame"):
        evaluate([], empty_sessions(), today=TODAY)


def test_held_on_accepts_dates_and_datetimes_alike():
    ratings = ratings_frame([38, 30])
    as_datetime = ratings.assign(held_on=pd.to_datetime(ratings["held_on"]) + pd.Timedelta("9h"))
    first = run(ratings).flags
    second = evaluate(as_datetime, sessions_for(ratings), today=TODAY).flags
    pd.testing.assert_frame_equal(first, second)


def test_empty_ratings_give_empty_frames_with_the_contract_columns():
    result = run(ratings_frame([]), empty_sessions())
    assert result.flags.empty and result.episodes.empty and result.summary.empty
    assert "evidence" in result.flags.columns
