"""Simulated alliance ratings that look like a clinic's, with the truth kept beside them.

Detection is only as honest as the data it is measured on. The figures below are the
published ones (sources on each constant); ``docs/decisions.md`` records why the first
simulator (clients who barely moved, drops of 7-12 points) made every rule look perfect.
Tests, ``make bench`` and ``rapport demo`` all draw from this one population.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.instruments import DEFAULT_INSTRUMENT, get_instrument

#: What happens to a client's alliance over the course (Larsson et al. 2018, N = 605:
#: about three in four clients had no rupture, 15% a rupture that was repaired, 11% one
#: that was not).
PATTERNS: tuple[str, ...] = ("none", "repaired", "unrepaired")
PATTERN_SHARES: tuple[float, ...] = (0.74, 0.15, 0.11)

#: Client means: SRS samples average about 36-37 of 40 with a between-client SD of about
#: 3-4 (Duncan et al. 2003; Campbell & Hemsley 2009). 40.5 minus a gamma(1.5, 2.6) puts
#: most clients at 33-39.8 (means above 40 are censored at the ceiling) with a tail into
#: the mid-20s.
MEAN_TOP, MEAN_SHAPE, MEAN_SCALE = 40.5, 1.5, 2.6
#: Week-to-week SD of a client's total: test-retest reliability of .54-.70 puts it at
#: 1.5-3 points (Duncan et al. 2003; Campbell & Hemsley 2009).
WITHIN_SD = (1.25, 2.5)
#: Lag-one correlation of a client's week-to-week noise: good and bad weeks cluster.
NOISE_AUTOCORRELATION = 0.3
#: The alliance grows a little over the first sessions (Kivlighan & Shaughnessy 2000):
#: up to this many points, fading with this time constant in sessions.
EARLY_GROWTH, GROWTH_SESSIONS = 2.0, 2.5
#: Items share the session's level; this is each item's own SD around it.
ITEM_SD = 0.35
#: Share of a client's sessions left unrated, drawn per client.
UNRATED = (0.05, 0.10)
#: Rupture depth in points, and the share that build up over 2-3 sessions (withdrawal
#: ruptures, Safran & Muran 2000) rather than at once (confrontation).
DEPTH = (3.0, 9.0)
GRADUAL_SHARE = 0.4
#: A repaired rupture is back within this many sessions of its lowest point.
REPAIR_SESSIONS = (1, 3)
#: Talk requests: at a good share of rupture onsets, and now and then at any session.
TALK_AT_RUPTURE, TALK_ORDINARY = 0.4, 0.01

_RUPTURE_COMMENTS = (
    "I felt rushed at the end.",
    "I didn't feel heard today.",
    "I'm not sure we're working on the right thing.",
    "It felt like you had already decided what I should do.",
    "Today was hard and I left feeling worse.",
    "I wanted to talk about something else.",
)
_EVERYDAY_COMMENTS = (
    "Thank you, this helped.",
    "Good session.",
    "I liked the exercise we tried.",
    "A bit tired today, but it was useful.",
    "It helps to go over the week together.",
)


@dataclass(frozen=True)
class SimulatedCaseload:
    """Simulated ``ratings`` and ``sessions`` (incl. unrated), and the truth behind them.

    ``truth``, one row per client: ``pattern`` (none/repaired/unrepaired), ``true_mean``
    and ``true_sd`` (the client's level after early growth and the SD of their weekly
    noise), ``rupture_session`` (onset), ``lowest_session``, ``rupture_end`` (last session
    inside the rupture: the one before repair, or the last session), ``depth`` (points),
    ``kind`` (sudden/gradual), ``repaired_session``; rupture columns are NA without one.

    ``session_truth``, one row per session: ``expected`` (the client's level that week
    without any rupture, before the ceiling), ``effect`` (the rupture's points, <= 0),
    ``in_rupture``, ``rated``.
    """

    ratings: pd.DataFrame
    sessions: pd.DataFrame
    truth: pd.DataFrame
    session_truth: pd.DataFrame


def simulate_caseload(
    n_clients: int,
    *,
    seed: int,
    start: dt.date,
    sessions_range: tuple[int, int] = (8, 24),
) -> SimulatedCaseload:
    """Simulate weekly alliance4 ratings for ``n_clients``; deterministic for a seed."""
    lo, hi = sessions_range
    if not 8 <= lo <= hi:
        raise ValueError("sessions_range must satisfy 8 <= low <= high")
    rng = np.random.default_rng(seed)
    instrument = get_instrument(DEFAULT_INSTRUMENT)
    n_items = len(instrument.items)

    pattern = rng.choice(len(PATTERNS), size=n_clients, p=PATTERN_SHARES)
    n_sessions = rng.integers(lo, hi + 1, n_clients)
    offset_weeks = rng.integers(0, hi - n_sessions + 1)
    true_mean = np.maximum(MEAN_TOP - rng.gamma(MEAN_SHAPE, MEAN_SCALE, n_clients), 15.0)
    true_sd = rng.uniform(*WITHIN_SD, n_clients)
    growth = rng.uniform(0.0, EARLY_GROWTH, n_clients)
    unrated_share = rng.uniform(*UNRATED, n_clients)

    has_rupture = pattern > 0
    # Three ratings before the onset to know the client by, and room after it to see repair.
    onset = rng.integers(4, np.maximum(n_sessions - 5, 5))
    depth = rng.uniform(*DEPTH, n_clients)
    gradual = rng.random(n_clients) < GRADUAL_SHARE
    build = np.where(gradual, rng.integers(2, 4, n_clients), 1)
    lowest = onset + build - 1
    repaired = pattern == PATTERNS.index("repaired")
    back = lowest + rng.integers(REPAIR_SESSIONS[0], REPAIR_SESSIONS[1] + 1, n_clients)
    stays = rng.uniform(0.7, 1.0, n_clients)  # share of the drop an unrepaired rupture keeps
    lingers = rng.uniform(0.5, 1.0, n_clients)  # between the lowest point and repair

    client = np.repeat(np.arange(n_clients), n_sessions)
    first = np.concatenate(([0], np.cumsum(n_sessions)[:-1]))
    session = np.arange(len(client)) - first[client] + 1

    expected = true_mean[client] - growth[client] * np.exp(-(session - 1) / GROWTH_SESSIONS)
    k = session - onset[client]
    ruptured = has_rupture[client]
    building = ruptured & (k >= 0) & (session <= lowest[client])
    effect = np.where(building, -depth[client] * (k + 1) / build[client], 0.0)
    after = ruptured & (session > lowest[client])
    rep = repaired[client]
    lingering = after & rep & (session < back[client])
    effect = np.where(lingering, -depth[client] * lingers[client], effect)
    effect = np.where(after & ~rep, -depth[client] * stays[client], effect)
    in_rupture = effect < 0

    noise = _autocorrelated(rng, client, first, n_sessions) * true_sd[client]
    level = expected + effect + noise
    items = level[:, None] / n_items + rng.normal(0.0, ITEM_SD, (len(client), n_items))
    items = np.clip(np.round(items, 1), instrument.item_min, instrument.item_max)
    total = np.round(items.sum(axis=1), 1)

    rated = rng.random(len(client)) >= unrated_share[client]
    at_onset = ruptured & (k == 0)
    wants = np.where(at_onset, rng.random(len(client)) < TALK_AT_RUPTURE, False)
    wants |= rng.random(len(client)) < TALK_ORDINARY
    comment = np.full(len(client), None, dtype=object)
    hurt = in_rupture & (rng.random(len(client)) < 0.3)
    comment[hurt] = rng.choice(np.array(_RUPTURE_COMMENTS, dtype=object), hurt.sum())
    everyday = ~hurt & (rng.random(len(client)) < 0.04)
    comment[everyday] = rng.choice(np.array(_EVERYDAY_COMMENTS, dtype=object), everyday.sum())

    width = max(5, len(str(n_clients)))
    ids = np.array([f"c{i + 1:0{width}d}" for i in range(n_clients)], dtype=object)
    held_on = (np.datetime64(start, "D") + (offset_weeks[client] + session - 1) * 7).astype(
        "datetime64[ns]"
    )
    sessions = pd.DataFrame(
        {"client_id": ids[client], "session_number": session, "held_on": held_on}
    )
    columns = {
        "client_id": ids[client][rated],
        "session_number": session[rated],
        "held_on": held_on[rated],
        "instrument": np.full(int(rated.sum()), instrument.id, dtype=object),
    }
    for j, key in enumerate(instrument.item_keys):
        columns[key] = items[rated, j]
    columns |= {"total": total[rated], "wants_to_talk": wants[rated], "comment": comment[rated]}

    def when(values: np.ndarray, where: np.ndarray) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(np.where(where, values, 0).astype(np.int64), ~where)

    end = np.where(repaired, back - 1, n_sessions)
    truth = pd.DataFrame(
        {
            "client_id": ids,
            "pattern": np.array(PATTERNS, dtype=object)[pattern],
            "true_mean": true_mean,
            "true_sd": true_sd,
            "rupture_session": when(onset, has_rupture),
            "lowest_session": when(lowest, has_rupture),
            "rupture_end": when(end, has_rupture),
            "depth": np.where(has_rupture, depth, np.nan),
            "kind": np.where(has_rupture, np.where(gradual, "gradual", "sudden"), None),
            "repaired_session": when(back, repaired & (back <= n_sessions)),
        }
    )
    session_truth = pd.DataFrame(
        {
            "client_id": ids[client],
            "session_number": session,
            "expected": expected,
            "effect": effect,
            "in_rupture": in_rupture,
            "rated": rated,
        }
    )
    return SimulatedCaseload(
        ratings=pd.DataFrame(columns), sessions=sessions, truth=truth, session_truth=session_truth
    )


def _autocorrelated(
    rng: np.random.Generator, client: np.ndarray, first: np.ndarray, n_sessions: np.ndarray
) -> np.ndarray:
    """Unit-variance AR(1) noise per client, restarting at each client's first session."""
    phi = NOISE_AUTOCORRELATION
    shocks = rng.normal(0.0, 1.0, len(client))
    noise = np.empty(len(client))
    noise[first] = shocks[first]
    scale = np.sqrt(1.0 - phi * phi)
    for step in range(1, int(n_sessions.max(initial=0))):
        rows = first[n_sessions > step] + step
        noise[rows] = phi * noise[rows - 1] + scale * shocks[rows]
    return noise
