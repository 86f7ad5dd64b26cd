"""A client rescored alone (the scalar path) is stored exactly as a batch would store it."""

from __future__ import annotations

import datetime as dt

from backend.flags.scoring_sync import rows_of_frames, rows_to_store, score_rows
from scoring import DEFAULT_CONFIG, simulate_caseload

TODAY = dt.date(2025, 12, 1)
CONFIG = DEFAULT_CONFIG.with_clinic_estimate("alliance4", 2.1)


def test_a_client_rescored_alone_is_stored_as_in_a_batch() -> None:
    caseload = simulate_caseload(60, seed=17, start=dt.date(2025, 1, 6), sessions_range=(8, 40))
    rows = rows_of_frames(caseload.ratings, caseload.sessions, lambda code: int(code[1:]))
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
