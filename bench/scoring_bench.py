"""Benchmark scoring against its speed targets.

Run ``python -m bench scoring_bench``. It simulates a caseload and times, best of several
runs, each against a limit measured in the same run:

- full rescore: ``scoring.evaluate`` over the whole caseload's frames, every output frame
  built except each flag's evidence dict, which is made when the flags are first read
  (the time that read takes is printed under the table). Limit: what pandas needs for one
  sort and a handful of grouped passes over the same frame (mean, SD, min, max, position
  in the history), about what any per-client scoring must at least do.
- one client: what the backend does when a submission rescores its client, from the
  rows its history query returns (one tuple per session held, with its rating if any)
  to the rows it would store (``rows_to_store``: every flag, episode and summary as its
  table's key and values), through the scalar path ``scoring.one_client``. The query
  and the database writes are not included. Limit: the same rows sorted by session and
  walked once in plain Python for each rating's running mean, SD, min, max and position:
  the least any scoring of one history in Python must do.

A line under the table gives, for comparison, ``evaluate`` on the same client's frames.
Exits 1 if a target is missed (issue "Honest, fast numbers": 1.0 s for the full rescore,
1 ms for one client; issue 17).
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.flags.scoring_sync import HistoryRow, rows_of_frames, rows_to_store, score_rows
from scoring import DEFAULT_CONFIG, evaluate, simulate_caseload

CLIENTS = 20_000
SESSIONS_RANGE = (36, 72)  # about 51 ratings a client: just over 1M ratings
SINGLE_RATINGS = 30
FULL_TARGET_S = 1.0
SINGLE_TARGET_S = 0.001
START = dt.date(2025, 1, 6)
TODAY = dt.date(2026, 6, 1)


def best_of(fn: Callable[[], object], *, repeat: int, number: int = 1) -> float:
    """Best mean seconds per call over ``repeat`` rounds of ``number`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - started) / number)
    return min(times)


def pandas_baseline(ratings: pd.DataFrame) -> pd.DataFrame:
    """The limit: one sort and a handful of grouped passes over the same frame."""
    ordered = ratings.sort_values(["client_id", "instrument", "session_number"])
    grouped = ordered.groupby("client_id", sort=False)["total"]
    return pd.DataFrame(
        {
            "mean": grouped.transform("mean"),
            "sd": grouped.transform("std"),
            "low": grouped.transform("min"),
            "high": grouped.transform("max"),
            "position": grouped.cumcount(),
        }
    )


def python_baseline(rows: list[HistoryRow]) -> list[tuple[float, float, float, float, int]]:
    """The one-client limit: sort the rows by session, then one pass over the rated ones
    for each rating's running mean, SD, min, max and position."""
    out = []
    total = squares = 0.0
    low, high = math.inf, -math.inf
    for row in sorted(rows, key=lambda row: row[1]):
        value = row[6]
        if value is None:
            continue
        n = len(out) + 1
        total += value
        squares += value * value
        low, high = min(low, value), max(high, value)
        sd = math.sqrt(max(squares - total * total / n, 0.0) / (n - 1)) if n > 1 else math.nan
        out.append((total / n, sd, low, high, n - 1))
    return out


def backend_rows(ratings: pd.DataFrame, sessions: pd.DataFrame, client: int) -> list[HistoryRow]:
    """The rows the backend's history query returns for one client's sessions: each session
    (numbered as client ``client``) with its rating, if any; as the query, in no order."""
    return rows_of_frames(ratings, sessions, lambda _: client)[::-1]


def main() -> int:
    started = time.perf_counter()
    caseload = simulate_caseload(CLIENTS, seed=20261126, start=START, sessions_range=SESSIONS_RANGE)
    simulated = time.perf_counter() - started
    ratings, sessions = caseload.ratings, caseload.sessions
    print(
        f"simulated {len(ratings):,} ratings / {len(sessions):,} sessions for "
        f"{CLIENTS:,} clients in {simulated:.2f} s"
    )

    client = ratings["client_id"].iloc[0]
    one = ratings[ratings["client_id"] == client].head(SINGLE_RATINGS).copy()
    one_sessions = sessions[
        (sessions["client_id"] == client)
        & (sessions["session_number"] <= one["session_number"].max())
    ].copy()

    rows = backend_rows(one, one_sessions, client=1)

    def rescore_one() -> object:
        scores = score_rows(rows, [1], on=TODAY, config=DEFAULT_CONFIG)
        return rows_to_store(scores, [1])

    full = best_of(lambda: evaluate(ratings, sessions, today=TODAY), repeat=3)
    evaluation = evaluate(ratings, sessions, today=TODAY)
    started = time.perf_counter()
    flags = evaluation.flags  # the first read makes every flag's evidence dict
    evidence = time.perf_counter() - started
    full_base = best_of(lambda: pandas_baseline(ratings), repeat=3)
    single = best_of(rescore_one, repeat=7, number=200)
    single_base = best_of(lambda: python_baseline(rows), repeat=7, number=200)
    caseload_path = best_of(lambda: evaluate(one, one_sessions, today=TODAY), repeat=5, number=50)

    rows = [
        (f"full rescore ({len(ratings):,} ratings)", full, FULL_TARGET_S, full_base),
        (f"one client ({len(one)} ratings, rows to rows)", single, SINGLE_TARGET_S, single_base),
    ]
    header = f"{'case':42} {'measured':>10} {'target':>10} {'limit':>10} {'ratio':>7}  ok"
    print(header)
    print("-" * len(header))
    missed = False
    for name, measured, target, base in rows:
        ok = measured < target
        missed |= not ok
        print(
            f"{name:42} {_ms(measured):>10} {_ms(target):>10} {_ms(base):>10} "
            f"{measured / base:>6.1f}x  {'yes' if ok else 'NO'}"
        )
    print(
        "limit, full rescore = pandas sort_values + grouped mean, SD, min, max and cumcount "
        "of the same frame; one client = the same rows sorted and walked once in Python for "
        "running mean, SD, min, max and position; same run; ratio = measured / limit"
    )
    print(
        f"for comparison, one client through evaluate (frames in, frames out): {_ms(caseload_path)}"
    )
    print(
        f"the full rescore leaves each flag's evidence as columns until the flags are read; "
        f"reading all {len(flags):,} then makes their dicts in {_ms(evidence)}"
    )
    return 1 if missed else 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f} ms" if seconds < 0.01 else f"{seconds * 1000:,.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
