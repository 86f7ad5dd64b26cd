"""Rupture episodes: when the alliance broke down and whether it came back.

Repaired ruptures go with better outcomes (Eubanks, Muran & Safran 2018: r = .29,
d = .62), unrepaired ones with worse (Larsson et al. 2018; McLaughlin et al. 2014), so a
clinician needs to see not only the drop but what happened after it. The episodes are
found by ``scoring.own_range``; this module lays them out for the backend. A request to
talk is the client's own and never opens or belongs to an episode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import RULES_VERSION
from scoring.frames import build_frame, object_array
from scoring.history import RatingHistory
from scoring.own_range import EPISODE_STATUSES, OwnRange
from scoring.rules import number_text
from scoring.vocabulary import EpisodeStatus, Severity

#: Rules that open an episode (names the episode's ``trigger_rule``).
TRIGGER_RULES: tuple[str, ...] = ("below_personal_baseline",)
#: How soon an episode in each status needs the therapist.
EPISODE_SEVERITY = {
    EpisodeStatus.open: Severity.warning,
    EpisodeStatus.repaired: Severity.info,
    EpisodeStatus.unrepaired: Severity.urgent,
}

EPISODE_COLUMNS: tuple[str, ...] = (
    "client_id",
    "instrument",
    "episode_number",
    "opened_session",
    "opened_on",
    "trigger_rule",
    "pre_rupture_mean",
    "pre_rupture_sd",
    "recovery_threshold",
    "lowest_total",
    "status",
    "closed_session",
    "closed_on",
    "severity",
    "explanation",
    "rules_version",
)


def rupture_episodes(h: RatingHistory, own: OwnRange) -> pd.DataFrame:
    """One row per episode, sorted by client and opening session, numbered per client."""
    rows = own.opened
    status = np.array([EPISODE_STATUSES[s].value for s in own.status.tolist()], dtype=object)
    closed = own.closed >= 0
    safe = np.where(closed, own.closed, rows)
    closed_session = pd.arrays.IntegerArray(
        np.where(closed, h.session[safe], 0).astype(np.int64), ~closed
    )
    closed_on = np.where(closed, h.held_on[safe], np.datetime64("NaT", "ns"))
    lowest_total = h.total[own.lowest] if len(rows) else np.empty(0)

    client = h.client[rows]
    order = np.lexsort((h.session[rows], client))
    client_sorted = client[order]
    start = np.ones(len(order), dtype=bool)
    start[1:] = client_sorted[1:] != client_sorted[:-1]
    idx = np.arange(len(order))
    number = np.empty(len(order), dtype=np.int64)
    number[order] = idx - np.maximum.accumulate(np.where(start, idx, 0)) + 1 if len(order) else 0

    within = h.per_row("repair_within", rows).astype(np.int64)
    text = [
        episode_text(*args)
        for args in zip(
            h.session[rows].tolist(),
            h.total[rows].tolist(),
            own.episode_mean.tolist(),
            status.tolist(),
            h.session[safe].tolist(),
            h.total[safe].tolist(),
            own.recovery_line.tolist(),
            within.tolist(),
            lowest_total.tolist(),
            strict=True,
        )
    ]
    names = np.array(h.instrument_ids, dtype=object)
    severity = np.array([EPISODE_SEVERITY[EpisodeStatus(s)].value for s in status], dtype=object)
    columns = {
        "client_id": h.client_ids[client],
        "instrument": names[h.instrument[rows]] if len(rows) else object_array([]),
        "episode_number": number,
        "opened_session": h.session[rows],
        "opened_on": h.held_on[rows],
        "trigger_rule": np.full(len(rows), TRIGGER_RULES[0], dtype=object),
        "pre_rupture_mean": own.episode_mean,
        "pre_rupture_sd": own.episode_sd,
        "recovery_threshold": own.recovery_line,
        "lowest_total": lowest_total,
        "status": status,
        "closed_session": closed_session,
        "closed_on": closed_on.astype("datetime64[ns]"),
        "severity": severity,
        "explanation": object_array(text),
        "rules_version": np.full(len(rows), RULES_VERSION, dtype=object),
    }
    return build_frame({name: columns[name][order] for name in EPISODE_COLUMNS}, len(order))


def episode_text(
    session: int,
    total: float,
    usual: float,
    status: str,
    closed_session: int,
    closed_total: float,
    line: float,
    within: int,
    lowest: float,
) -> str:
    opened = (
        f"Rupture at session {session}: total {number_text(total)}, "
        f"{number_text(usual - total)} points below this client's usual {number_text(usual)}"
    )
    if status == EpisodeStatus.repaired:
        return (
            f"{opened}; repaired at session {closed_session}, when the total came back to "
            f"{number_text(closed_total)} (at least {number_text(line)})."
        )
    if status == EpisodeStatus.unrepaired:
        return (
            f"{opened}; not back to {number_text(line)} within {within} ratings of its lowest "
            f"point (lowest {number_text(lowest)})."
        )
    return f"{opened}; waiting to see if the total comes back to {number_text(line)}."
