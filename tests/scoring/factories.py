"""Small builders of ratings and sessions frames for scoring tests."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pandas as pd

from scoring.instruments import get_instrument

START = dt.date(2026, 1, 5)
TODAY = dt.date(2026, 12, 1)


def split_total(total: float, instrument_id: str = "alliance4") -> dict[str, float]:
    """Items that add up to ``total``, as even as the instrument's step allows."""
    instrument = get_instrument(instrument_id)
    keys = instrument.item_keys
    each = math.ceil(round(total * 10) / len(keys)) / 10  # the last item takes the remainder
    values = [each] * (len(keys) - 1)
    values.append(round(total - sum(values), 1))
    return dict(zip(keys, values, strict=True))


def ratings_frame(
    totals: Sequence[float],
    *,
    client_id: str = "c1",
    instrument: str = "alliance4",
    first_session: int = 1,
    sessions: Sequence[int] | None = None,
    wants_to_talk: Sequence[bool] | None = None,
    start: dt.date = START,
) -> pd.DataFrame:
    """One client's ratings, weekly from ``start``; items split evenly from each total."""
    numbers = (
        list(sessions) if sessions is not None else [first_session + i for i in range(len(totals))]
    )
    talk = list(wants_to_talk) if wants_to_talk is not None else [False] * len(totals)
    rows = []
    for number, total, wants in zip(numbers, totals, talk, strict=True):
        rows.append(
            {
                "client_id": client_id,
                "session_number": number,
                "held_on": start + dt.timedelta(weeks=number - 1),
                "instrument": instrument,
                **split_total(total, instrument),
                "total": float(total),
                "wants_to_talk": bool(wants),
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(
            columns=[
                "client_id",
                "session_number",
                "held_on",
                "instrument",
                *get_instrument(instrument).item_keys,
                "total",
                "wants_to_talk",
            ]
        ).astype({"session_number": "int64", "total": "float64", "wants_to_talk": bool})
    return frame


def sessions_for(ratings: pd.DataFrame, extra: Sequence[tuple[str, int]] = ()) -> pd.DataFrame:
    """The sessions behind ``ratings`` plus ``extra`` (client_id, session_number) unrated ones."""
    rated = ratings[["client_id", "session_number", "held_on"]]
    added = pd.DataFrame(
        [
            {
                "client_id": c,
                "session_number": n,
                "held_on": START + dt.timedelta(weeks=n - 1),
            }
            for c, n in extra
        ],
        columns=["client_id", "session_number", "held_on"],
    )
    frame = pd.concat([rated, added], ignore_index=True) if len(added) else rated.copy()
    return frame.astype({"session_number": "int64"})
