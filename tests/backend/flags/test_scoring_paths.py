"""A client rescored alone (the scalar path) is stored exactly as a batch would store it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from backend.flags.scoring_sync import HistoryRow, rows_to_store, score_rows
from scoring import DEFAULT_CONFIG, simulate_caseload
from scoring.instruments import get_instrument

TODAY = dt.date(2025, 12, 1)
CONFIG = DEFAULT_CONFIG.with_clinic_estimate("alliance4", 2.1)


def history_rows(caseload_ratings: pd.DataFrame, sessions: pd.DataFrame) -> list[HistoryRow]:
    """The history query's rows for a simulated caseload; client "c00007" becomes 7."""
    rated = {(r.client_id, r.session_number): r for r in caseload_ratings.itertuples(index=False)}
    rows: list[HistoryRow] = []
    for held in sessions.itertuples(index=False):
        client, day = int(held.client_id[1:]), pd.Timestamp(held.held_on).date()
        rating = rated.get((held.client_id, held.session_number))
        if rating is None:
            rows.append((client, held.session_number, day, "alliance4", None, None, None, None))
            continue
        scores = {k: getattr(rating, k) for k in get_instrument(rating.instrument).item_keys}
        rows.append(
            (
                client,
                held.session_number,
                day,
                rating.instrument,
                rating.instrument,
                scores,
                float(rating.total),
                bool(rating.wants_to_talk),
            )
        )
    return rows


def test_a_client_rescored_alone_is_stored_as_in_a_batch() -> None:
    caseload = simulate_caseload(60, seed=17, start=dt.date(2025, 1, 6), sessions_range=(8, 40))
    rows = history_rows(caseload.ratings, caseload.sessions)
    # a client who missed the first sessions: those flags take the planned instrument
    late = dt.date(2025, 3, 3)
    rows += [
        (99, 1, late, "wai12", None, None, None, None),
        (99, 2, late + dt.timedelta(weeks=1), "wai12", None, None, None, None),
        (99, 3, late + dt.timedelta(weeks=2), "wai12", None, None, None, None),
    ]
    ids = sorted({row[0] for row in rows})
    scored = score_rows(rows, ids, on=TODAY, config=CONFIG)
    batch = rows_to_store(scored, ids)
    flags = episodes = 0
    for client in ids:
        own_rows = [row for row in rows if row[0] == client]
        alone = rows_to_store(score_rows(own_rows, [client], on=TODAY, config=CONFIG), [client])
        assert alone == rows_to_store(scored, [client])
        flags += len(alone.flags)
        episodes += len(alone.episodes)
    assert flags == len(batch.flags) and episodes == len(batch.episodes) and episodes > 0
    planned = [computed for key, computed in batch.flags if key[0] == 99]
    assert planned and {flag["instrument"] for flag in planned} == {"wai12"}
