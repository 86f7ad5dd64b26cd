"""Benchmark the scoring library against its speed targets.

Run ``python bench/scoring_bench.py``. It simulates a caseload, times a full rescore and
the single-client path (best of several runs), and compares each with the limit measured
in the same run: what pandas needs for one sort and a handful of grouped passes over the
same frame (mean, SD, min, max, position in the history), about what any per-client
scoring must at least do. Exits 1 if a target is missed (issue "Honest, fast numbers":
1.0 s for the full rescore, 1 ms for one client). The full rescore is ``evaluate`` with
every output frame built except each flag's evidence dict, which is made when the flags
are first read; the time that read takes is printed below the table.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import evaluate, simulate_caseload

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

    full = best_of(lambda: evaluate(ratings, sessions, today=TODAY), repeat=3)
    evaluation = evaluate(ratings, sessions, today=TODAY)
    started = time.perf_counter()
    flags = evaluation.flags  # the first read makes every flag's evidence dict
    evidence = time.perf_counter() - started
    full_base = best_of(lambda: pandas_baseline(ratings), repeat=3)
    single = best_of(lambda: evaluate(one, one_sessions, today=TODAY), repeat=5, number=50)
    single_base = best_of(lambda: pandas_baseline(one), repeat=5, number=50)

    rows = [
        (f"full rescore ({len(ratings):,} ratings)", full, FULL_TARGET_S, full_base),
        (f"one client ({len(one)} ratings)", single, SINGLE_TARGET_S, single_base),
    ]
    header = f"{'case':34} {'measured':>10} {'target':>10} {'limit':>10} {'ratio':>7}  ok"
    print(header)
    print("-" * len(header))
    missed = False
    for name, measured, target, base in rows:
        ok = measured < target
        missed |= not ok
        print(
            f"{name:34} {_ms(measured):>10} {_ms(target):>10} {_ms(base):>10} "
            f"{measured / base:>6.1f}x  {'yes' if ok else 'NO'}"
        )
    print(
        "limit = pandas sort_values + grouped mean, SD, min, max and cumcount of the same "
        "frame, same run; ratio = measured / limit"
    )
    print(
        f"the full rescore leaves each flag's evidence as columns until the flags are read; "
        f"reading all {len(flags):,} then makes their dicts in {_ms(evidence)}"
    )
    return 1 if missed else 0


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


if __name__ == "__main__":
    sys.exit(main())
