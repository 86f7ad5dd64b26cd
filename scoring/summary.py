"""One row per client for the caseload view, so the dashboard never recomputes scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.frames import build_frame, object_array
from scoring.history import TOTAL_SCALE, RatingHistory, SessionTimeline
from scoring.own_range import OwnRange
from scoring.rules import SEVERITIES

#: Totals kept per client for a sparkline.
RECENT_TOTALS = 10
#: Ratings the recent slope is taken over.
RECENT_SLOPE_WINDOW = 5

SUMMARY_COLUMNS: tuple[str, ...] = (
    "client_id",
    "instrument",
    "ratings_count",
    "last_session_number",
    "last_held_on",
    "latest_total",
    "change_from_previous",
    "personal_mean",
    "personal_sd",
    "recent_slope",
    "recent_totals",
    "urgent",
    "warning",
    "talk",
    "info",
    "repair_status",
    "sessions_without_rating",
    "usual_mean",
    "usual_sd",
    "below_usual",
)


def theil_sen_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Theil–Sen slope of each row of (windows x w) arrays: the median pairwise slope.

    Robust to one odd rating, unlike least squares (Sen 1968). NaN pairs are ignored.
    """
    i, j = np.triu_indices(x.shape[1], k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        slopes = (y[:, j] - y[:, i]) / (x[:, j] - x[:, i])
    if np.isnan(slopes).any():
        out = np.full(len(slopes), np.nan)
        ok = ~np.all(np.isnan(slopes), axis=1)
        out[ok] = np.nanmedian(slopes[ok], axis=1)
        return out
    return np.median(slopes, axis=1)


def latest_rows(h: RatingHistory) -> np.ndarray:
    """Per client code, the history row of the client's latest rating (-1 if none)."""
    latest = np.full(len(h.client_ids), -1, dtype=np.int64)
    if len(h):
        # a history's sessions ascend, so the latest rating is the last of one history
        ends = np.flatnonzero(h.group_end)
        client = h.client[ends]
        order = np.lexsort((h.session[ends], client))
        last = np.ones(len(order), dtype=bool)
        last[:-1] = client[order][1:] != client[order][:-1]
        latest[client[order][last]] = ends[order[last]]
    return latest


def caseload_summary(
    h: RatingHistory,
    own: OwnRange,
    timeline: SessionTimeline,
    flag_client: np.ndarray,
    flag_session: np.ndarray,
    flag_severity: np.ndarray,
    episodes: pd.DataFrame,
    episode_client: np.ndarray,
) -> pd.DataFrame:
    """Summarise each client's current history (the instrument of their latest rating).

    Flag counts cover the latest rated session and any later (unrated) one, so a caseload
    row shows what is new since the client last rated. ``sessions_without_rating`` counts
    overdue unrated sessions after the latest rating.
    """
    nc = len(h.client_ids)
    latest = latest_rows(h)
    has = latest >= 0
    row = np.where(has, latest, 0)
    empty = len(h) == 0

    start = h.group_first_index[row] if not empty else np.zeros(nc, dtype=np.int64)
    count = np.where(has, row - start + 1, 0)
    last_session = np.where(has, h.session[row] if not empty else 0, -1)

    nan = np.full(nc, np.nan)
    if empty:
        latest_total = change = mean = sd = slope = usual = usual_sd = nan
        instrument = np.full(nc, None, dtype=object)
        last_held = np.full(nc, np.datetime64("NaT", "ns"))
        recent: list[list[float]] = [[] for _ in range(nc)]
    else:
        latest_total = np.where(has, h.total[row], np.nan)
        change = np.where(has, h.total[row] - h.previous[row], np.nan)
        scaled = np.round(h.total * TOTAL_SCALE).astype(np.int64)
        csum = np.concatenate(([0], np.cumsum(scaled)))
        csq = np.concatenate(([0], np.cumsum(scaled * scaled)))
        s1 = csum[row + 1] - csum[start]
        s2 = csq[row + 1] - csq[start]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(has, s1 / np.maximum(count, 1) / TOTAL_SCALE, np.nan)
            var = (count * s2 - s1 * s1) / np.maximum(count * (count - 1), 1)
            sd = np.where(count > 1, np.sqrt(np.maximum(var, 0)) / TOTAL_SCALE, np.nan)
        slope = _recent_slopes(h, row, start, has)
        usual = np.where(has, own.mean[row], np.nan)
        usual_sd = np.where(has, own.sd[row], np.nan)
        names = np.array(h.instrument_ids, dtype=object)
        instrument = np.where(has, names[h.instrument[row]], None).astype(object)
        last_held = np.where(has, h.held_on[row], np.datetime64("NaT", "ns"))
        # the last RECENT_TOTALS rows of each client's history, oldest first
        span = row[:, None] + np.arange(1 - RECENT_TOTALS, 1)
        kept = np.where(has, np.minimum(count, RECENT_TOTALS), 0)
        window = h.total[np.maximum(span, 0)].tolist()
        recent = [
            w if k == RECENT_TOTALS else w[RECENT_TOTALS - k :]
            for w, k in zip(window, kept.tolist(), strict=True)
        ]

    counted = flag_session >= last_session[flag_client]
    counts = np.bincount(
        flag_client[counted] * len(SEVERITIES) + flag_severity[counted],
        minlength=nc * len(SEVERITIES),
    ).reshape(nc, len(SEVERITIES))

    without = timeline.overdue & (timeline.session > last_session[timeline.client])
    sessions_without = np.bincount(timeline.client[without], minlength=nc)

    repair = np.full(nc, "none", dtype=object)
    if len(episodes):
        current = episodes["instrument"].to_numpy(dtype=object) == instrument[episode_client]
        ep_client = episode_client[current]
        ep_status = episodes["status"].to_numpy(dtype=object)[current]
        # episodes are sorted by client then opened session: the last one per client wins
        last = np.ones(len(ep_client), dtype=bool)
        last[:-1] = ep_client[1:] != ep_client[:-1]
        repair[ep_client[last]] = ep_status[last]

    columns = {
        "client_id": h.client_ids,
        "instrument": object_array(instrument),
        "ratings_count": count.astype(np.int64),
        "last_session_number": pd.arrays.IntegerArray(
            np.where(has, last_session, 0).astype(np.int64), ~has
        ),
        "last_held_on": np.asarray(last_held, dtype="datetime64[ns]"),
        "latest_total": latest_total,
        "change_from_previous": change,
        "personal_mean": mean,
        "personal_sd": sd,
        "recent_slope": slope,
        "recent_totals": object_array(recent),
        **{name: counts[:, i].astype(np.int64) for i, name in enumerate(SEVERITIES)},
        "repair_status": repair,
        "sessions_without_rating": sessions_without.astype(np.int64),
        "usual_mean": usual,
        "usual_sd": usual_sd,
        "below_usual": usual - latest_total,
    }
    return build_frame({name: columns[name] for name in SUMMARY_COLUMNS}, nc)


def _recent_slopes(
    h: RatingHistory, row: np.ndarray, start: np.ndarray, has: np.ndarray
) -> np.ndarray:
    """Theil–Sen slope over each client's last ``RECENT_SLOPE_WINDOW`` ratings (NaN with < 2)."""
    slope = np.full(len(row), np.nan)
    for w in (RECENT_SLOPE_WINDOW,):
        pick = np.flatnonzero(has & (row - start >= 1))
        if not len(pick):
            continue
        span = row[pick, None] + np.arange(-w + 1, 1)
        inside = span >= start[pick, None]
        span = np.maximum(span, 0)
        x = np.where(inside, h.session[span], np.nan)
        y = np.where(inside, h.total[span], np.nan)
        slope[pick] = theil_sen_slopes(x, y)
    return slope
