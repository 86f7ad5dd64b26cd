"""The scoring bench's limit is what its docstring says: one sort and grouped passes."""

from __future__ import annotations

import pandas as pd

from bench.scoring_bench import pandas_baseline


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
