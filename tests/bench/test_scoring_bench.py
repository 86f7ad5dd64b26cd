"""The scoring bench measures what its docstring says: its limits and its one-client input."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from bench.scoring_bench import backend_rows, pandas_baseline, python_baseline
from tests.scoring.factories import START, ratings_frame, sessions_for, split_total


def test_the_limit_sorts_and_computes_each_clients_mean_sd_range_and_position() -> None:
    ratings = pd.DataFrame(
        {
            "client_id": ["b", "a", "b", "a", "a"],
            "instrument": ["alliance4"] * 5,
            "session_number": [2, 3, 1, 1, 2],
            "total": [30.0, 38.0, 34.0, 36.0, 37.0],
        }
    )
    limit = pandas_baseline(ratings)
    a = limit.loc[ratings.index[ratings["client_id"] == "a"]]
    assert set(a["mean"]) == {37.0} and set(a["sd"]) == {1.0}
    assert set(a["low"]) == {36.0} and set(a["high"]) == {38.0}
    # position follows session order, whatever the row order
    assert dict(zip(ratings.loc[a.index, "session_number"], a["position"], strict=True)) == {
        1: 0,
        2: 1,
        3: 2,
    }


def test_the_one_client_limit_walks_the_rated_rows_in_session_order() -> None:
    day = dt.date(2026, 1, 5)
    rows = [
        (1, 3, day, "alliance4", "alliance4", {}, 38.0, False),
        (1, 2, day, "alliance4", None, None, None, None),  # unrated: not walked
        (1, 1, day, "alliance4", "alliance4", {}, 36.0, False),
        (1, 4, day, "alliance4", "alliance4", {}, 37.0, True),
    ]
    mean, sd, low, high, position = python_baseline(rows)[-1]
    assert (mean, sd, low, high, position) == (37.0, 1.0, 36.0, 38.0, 2)
    assert [step[4] for step in python_baseline(rows)] == [0, 1, 2]


def test_the_one_client_case_starts_from_the_rows_the_backend_query_returns() -> None:
    ratings = ratings_frame([38.0, 36.5], sessions=[1, 3])
    sessions = sessions_for(ratings, extra=[("c1", 2)])
    rows = backend_rows(ratings, sessions, client=7)
    assert sorted(rows, key=lambda row: row[1]) == [
        (7, 1, START, "alliance4", "alliance4", split_total(38.0), 38.0, False),
        (7, 2, START + dt.timedelta(weeks=1), "alliance4", None, None, None, None),
        (
            7,
            3,
            START + dt.timedelta(weeks=2),
            "alliance4",
            "alliance4",
            split_total(36.5),
            36.5,
            False,
        ),
    ]
