"""Rupture episodes: when the alliance broke down and whether it came back.

Repaired ruptures go with better outcomes (Eubanks, Muran & Safran 2018: r = .29,
d = .62), unrepaired ones with worse (Larsson et al. 2018; McLaughlin et al. 2014), so a
clinician needs to see not only the drop but what happened after it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.config import RULES_VERSION
from scoring.frames import build_frame, object_array
from scoring.history import EPS, RatingHistory
from scoring.rules import LEVELS, RuleHits, _num, personal_sd

#: Rules that open an episode, strongest first (names the episode's ``trigger_rule``).
TRIGGER_RULES: tuple[str, ...] = (
    "below_personal_baseline",
    "reliable_drop",
    "downward_trend",
    "client_wants_to_talk",
)
_TRIGGER_WORDS = {
    "below_personal_baseline": "well below this client's usual rating",
    "reliable_drop": "a reliable drop",
    "downward_trend": "a steady decline",
    "client_wants_to_talk": "the client asked to talk",
}
_SEVERITY = {"open": "warning", "repaired": "info", "unrepaired": "urgent"}

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


def trigger_rows(hits: dict[str, RuleHits], n: int) -> np.ndarray:
    """The opening rule per history row (None where nothing opens an episode).

    Only the ``probable`` level of the baseline rule opens an episode: acting on the
    stricter of the two definitions (BMC Medical Research Methodology 2012).
    """
    names = np.full(n, None, dtype=object)
    for rule in reversed(TRIGGER_RULES):
        found = hits[rule]
        rows = found.rows
        if found.level is not None:
            rows = rows[found.level == LEVELS.index("probable")]
        names[rows] = rule
    return names


def rupture_episodes(h: RatingHistory, triggers: np.ndarray) -> pd.DataFrame:
    """Open an episode at each trigger outside an open one; close it repaired or unrepaired.

    Repaired: a later rating within ``repair_within`` (3) reaches the pre-rupture mean
    minus ``repair_sds`` (0.5) SD. Unrepaired: ``repair_within`` later ratings and none did.
    Open: fewer later ratings so far. With no earlier rating the recovery line is the
    instrument's total cutoff. The state machine loops over trigger rows only.
    """
    n = len(h)
    rows = np.flatnonzero(triggers != None)  # noqa: E711 - elementwise on an object array
    inst = h.instrument[rows]
    t = h.thresholds
    within = np.array([x.repair_within for x in t], dtype=np.int64)[inst]
    repair_sds = np.array([x.repair_sds for x in t])[inst]
    cutoff = np.array([x.total_cutoff for x in t])[inst]
    mean = h.prior_mean[rows]
    sd = personal_sd(h)[rows]
    has_prior = h.prior_n[rows] > 0
    threshold = np.where(has_prior, mean - repair_sds * sd, cutoff)

    max_within = int(within.max(initial=0))
    first_reach = np.zeros(len(rows), dtype=np.int64)
    later = np.zeros(len(rows), dtype=np.int64)
    lowest = h.total[rows].copy()
    lowest_open = lowest.copy()
    for j in range(1, max_within + 1):
        idx = np.minimum(rows + j, max(n - 1, 0))
        valid = (
            (rows + j < n) & (h.group_first_index[idx] == h.group_first_index[rows]) & (j <= within)
        )
        later += valid
        value = h.total[idx]
        reached = valid & (value >= threshold - EPS) & (first_reach == 0)
        first_reach = np.where(reached, j, first_reach)
        still = valid & ((first_reach == 0) | (first_reach == j))
        lowest = np.where(still, np.minimum(lowest, value), lowest)
        lowest_open = np.where(valid, np.minimum(lowest_open, value), lowest_open)
    status = np.where(
        first_reach > 0, "repaired", np.where(later >= within, "unrepaired", "open")
    ).astype(object)
    close_offset = np.where(first_reach > 0, first_reach, np.where(later >= within, within, n))

    # Tight loop over trigger rows: a trigger inside an open episode opens nothing new.
    keep = np.zeros(len(rows), dtype=bool)
    group = h.group_first_index[rows].tolist()
    closes = (rows + close_offset).tolist()
    current_group, blocked_until = -1, -1
    for k, (g, r) in enumerate(zip(group, rows.tolist(), strict=True)):
        if g != current_group or r > blocked_until:
            keep[k] = True
            current_group, blocked_until = g, closes[k]

    sel = np.flatnonzero(keep)
    rows, status, threshold = rows[sel], status[sel], threshold[sel]
    mean, sd, within = mean[sel], np.where(has_prior[sel], sd[sel], np.nan), within[sel]
    lowest = np.where(status == "open", lowest_open[sel], lowest[sel])
    close_row = rows + close_offset[sel]
    closed = status != "open"
    safe = np.where(closed, close_row, rows)
    closed_session = pd.arrays.IntegerArray(
        np.where(closed, h.session[safe], 0).astype(np.int64), ~closed
    )
    closed_on = np.where(closed, h.held_on[safe], np.datetime64("NaT", "ns"))

    client = h.client[rows]
    order = np.lexsort((h.session[rows], client))
    client_sorted = client[order]
    start = np.ones(len(order), dtype=bool)
    start[1:] = client_sorted[1:] != client_sorted[:-1]
    idx = np.arange(len(order))
    number = np.empty(len(order), dtype=np.int64)
    number[order] = idx - np.maximum.accumulate(np.where(start, idx, 0)) + 1 if len(order) else 0

    trigger = triggers[rows]
    opened_total = h.total[rows]
    reach_total = h.total[safe]
    text = [
        _episode_text(*args)
        for args in zip(
            h.session[rows].tolist(),
            trigger.tolist(),
            opened_total.tolist(),
            mean.tolist(),
            status.tolist(),
            h.session[safe].tolist(),
            reach_total.tolist(),
            threshold.tolist(),
            within.tolist(),
            lowest.tolist(),
            strict=True,
        )
    ]
    names = np.array(h.instrument_ids, dtype=object)
    severity = np.array([_SEVERITY[s] for s in status.tolist()], dtype=object)
    columns = {
        "client_id": h.client_ids[client],
        "instrument": names[h.instrument[rows]] if len(rows) else object_array([]),
        "episode_number": number,
        "opened_session": h.session[rows],
        "opened_on": h.held_on[rows],
        "trigger_rule": trigger,
        "pre_rupture_mean": mean,
        "pre_rupture_sd": sd,
        "recovery_threshold": threshold,
        "lowest_total": lowest,
        "status": status,
        "closed_session": closed_session,
        "closed_on": closed_on.astype("datetime64[ns]"),
        "severity": severity,
        "explanation": object_array(text),
        "rules_version": np.full(len(rows), RULES_VERSION, dtype=object),
    }
    return build_frame({name: columns[name][order] for name in EPISODE_COLUMNS}, len(order))


def _episode_text(
    session: int,
    trigger: str,
    total: float,
    mean: float,
    status: str,
    closed_session: int,
    closed_total: float,
    threshold: float,
    within: int,
    lowest: float,
) -> str:
    before = f"against an earlier average of {mean:.1f}" if mean == mean else "at the first rating"
    opened = (
        f"Rupture at session {session} ({_TRIGGER_WORDS[trigger]}): total {_num(total)} {before}"
    )
    if status == "repaired":
        return (
            f"{opened}; repaired at session {closed_session}, when the total came back to "
            f"{_num(closed_total)} (at least {threshold:.1f})."
        )
    if status == "unrepaired":
        return (
            f"{opened}; not back to {threshold:.1f} within {within} ratings "
            f"(lowest {_num(lowest)})."
        )
    return (
        f"{opened}; waiting to see if the total returns to {threshold:.1f} within {within} ratings."
    )
