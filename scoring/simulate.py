"""Realistic simulated alliance ratings, for tests, benchmarks and the demo caseload.

Client-rated alliance sits near the ceiling (most alliance4 totals 36-40) with small
session-to-session noise; the interesting clients are the few whose ratings drop. The
simulation injects known ruptures so detection can be measured against the truth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import Thresholds
from scoring.instruments import DEFAULT_INSTRUMENT, get_instrument

#: Share of clients per pattern when ``mix`` is not given.
DEFAULT_MIX: Mapping[str, float] = {
    "stable": 0.70,
    "repaired": 0.10,
    "unrepaired": 0.07,
    "decline": 0.06,
    "stopped": 0.07,
}
PATTERNS: tuple[str, ...] = tuple(DEFAULT_MIX)

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
#: Probability that a session goes unrated by chance (a forgotten link).
CHANCE_MISSED = 0.03


@dataclass(frozen=True)
class SimulatedCaseload:
    """Simulated ``ratings`` and ``sessions`` (incl. unrated) and the injected ``truth``."""

    ratings: pd.DataFrame
    sessions: pd.DataFrame
    truth: pd.DataFrame


def simulate_caseload(
    n_clients: int,
    *,
    seed: int,
    start: dt.date,
    sessions_range: tuple[int, int] = (4, 30),
    mix: Mapping[str, float] | None = None,
) -> SimulatedCaseload:
    """Simulate weekly alliance4 ratings for ``n_clients``; deterministic for a seed.

    Patterns: ``stable`` near the ceiling; ``repaired`` (a V-shaped drop of 7-12 points
    that recovers within two sessions); ``unrepaired`` (a drop that stays); ``decline``
    (losing about 1 point a session); ``stopped`` (sessions continue, ratings don't).
    ``truth.rupture_session`` is the injected drop, or for a decline the first session
    whose expected total is a reliable change (RCI) below the client's level.
    """
    rng = np.random.default_rng(seed)
    shares = dict(mix or DEFAULT_MIX)
    unknown = sorted(set(shares) - set(PATTERNS))
    if unknown:
        raise ValueError(f"unknown pattern(s): {', '.join(unknown)}")
    lo, hi = sessions_range
    if not 4 <= lo <= hi:
        raise ValueError("sessions_range must satisfy 4 <= low <= high")
    instrument = get_instrument(DEFAULT_INSTRUMENT)
    rci = Thresholds.for_instrument(instrument).reliable_change
    weights = np.array([shares.get(p, 0.0) for p in PATTERNS], dtype=np.float64)
    pattern = rng.choice(len(PATTERNS), size=n_clients, p=weights / weights.sum())
    names = np.array(PATTERNS, dtype=object)
    is_ = {p: pattern == i for i, p in enumerate(PATTERNS)}

    # Clients with an event need enough sessions to see it and what follows.
    need = np.select(
        [is_["decline"], is_["repaired"] | is_["unrepaired"], is_["stopped"]], [12, 9, 7], lo
    )
    need = np.minimum(np.maximum(need, lo), hi)
    n_sessions = rng.integers(need, hi + 1)
    offset_weeks = rng.integers(0, hi - n_sessions + 1)

    level = 40.0 - rng.gamma(1.6, 1.0, n_clients)  # most clients 36-40
    level = np.where(rng.random(n_clients) < 0.08, 41.0, np.clip(level, 33.0, 40.0))
    # Session-to-session SD of the total before the ceiling clips it; after clipping a
    # stable client's totals vary by about 0.6 points, as near-ceiling SRS data do.
    noise_sd = rng.uniform(0.4, 1.1, n_clients)

    event = rng.integers(4, np.maximum(n_sessions - 3, 5))  # rupture, onset or stop
    depth = rng.uniform(7.0, 12.0, n_clients)
    repair_left = rng.uniform(0.0, 0.5, n_clients)  # share of the drop left one session on
    stay_left = rng.uniform(0.6, 1.0, n_clients)
    decline_rate = rng.uniform(0.8, 1.5, n_clients)
    onset = rng.integers(4, np.maximum(n_sessions - 7, 5))

    client = np.repeat(np.arange(n_clients), n_sessions)
    first = np.concatenate(([0], np.cumsum(n_sessions)[:-1]))
    session = np.arange(len(client)) - first[client] + 1
    pat = pattern[client]
    ev = event[client]
    k = session - ev
    effect = np.zeros(len(client))
    rep = pat == PATTERNS.index("repaired")
    effect = np.where(rep & (k == 0), -depth[client], effect)
    effect = np.where(rep & (k == 1), -depth[client] * repair_left[client], effect)
    unr = pat == PATTERNS.index("unrepaired")
    effect = np.where(unr & (k == 0), -depth[client], effect)
    effect = np.where(unr & (k > 0), -depth[client] * stay_left[client], effect)
    dec = pat == PATTERNS.index("decline")
    steps = session - onset[client] + 1
    # a decline levels off once it has cost 6-10 points, as slow withdrawals tend to
    floor = rng.uniform(6.0, 10.0, n_clients)[client]
    effect = np.where(dec & (steps > 0), -np.minimum(decline_rate[client] * steps, floor), effect)

    shared = rng.normal(0.0, 1.0, len(client)) * noise_sd[client] / 4.0
    per_item = rng.normal(0.0, 0.15, (len(client), len(instrument.items)))
    item_mean = (level[client] + effect) / len(instrument.items) + shared
    items = np.clip(
        np.round(item_mean[:, None] + per_item, 1), instrument.item_min, instrument.item_max
    )
    total = np.round(items.sum(axis=1), 1)

    event_window = (k >= 0) & (k <= 3) & (rep | unr)
    rated = (rng.random(len(client)) >= CHANCE_MISSED) | (session == 1) | event_window
    rated &= ~((pat == PATTERNS.index("stopped")) & (k >= 0))
    at_event = (k == 0) & (rep | unr)
    decline_truth = onset + np.ceil(rci / decline_rate).astype(np.int64) - 1
    at_decline = dec & (session == decline_truth[client])
    wants = (at_event & (rng.random(len(client)) < 0.35)) | (
        at_decline & (rng.random(len(client)) < 0.2)
    )
    comment = np.full(len(client), None, dtype=object)
    hurt = (at_event | at_decline) & (rng.random(len(client)) < 0.5)
    comment[hurt] = rng.choice(np.array(_RUPTURE_COMMENTS, dtype=object), hurt.sum())
    everyday = ~hurt & (rng.random(len(client)) < 0.03)
    comment[everyday] = rng.choice(np.array(_EVERYDAY_COMMENTS, dtype=object), everyday.sum())

    width = max(5, len(str(n_clients)))
    ids = np.array([f"c{i + 1:0{width}d}" for i in range(n_clients)], dtype=object)
    start64 = np.datetime64(start, "D")
    held_on = (start64 + (offset_weeks[client] + session - 1) * 7).astype("datetime64[ns]")

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
    ratings = pd.DataFrame(columns)

    rupture_session = np.where(
        is_["repaired"] | is_["unrepaired"], event, np.where(is_["decline"], decline_truth, -1)
    )
    repaired_session = np.where(
        is_["repaired"], event + np.where(depth * repair_left <= 1.0, 1, 2), -1
    )
    truth = pd.DataFrame(
        {
            "client_id": ids,
            "pattern": names[pattern],
            "rupture_session": pd.array(rupture_session, dtype="Int64"),
            "repaired_session": pd.array(repaired_session, dtype="Int64"),
        }
    )
    truth.loc[truth["rupture_session"] < 0, "rupture_session"] = pd.NA
    truth.loc[truth["repaired_session"] < 0, "repaired_session"] = pd.NA
    return SimulatedCaseload(ratings=ratings, sessions=sessions, truth=truth)
