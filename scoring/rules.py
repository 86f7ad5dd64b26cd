"""The flag rules: each a small named function over the whole caseload at once.

Every rule takes the sorted ``RatingHistory`` (or the session timeline) and returns the
rows it flags with their numbers. A flag on session k only ever looks at ratings up to
and including k. Thresholds come from ``ScoringConfig``; sources are in each docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.history import EPS, RatingHistory, SessionTimeline, run_length
from scoring.instruments import all_item_keys, get_instrument

SEVERITIES: tuple[str, ...] = ("info", "talk", "warning", "urgent")
#: Levels of the personal-baseline rule (Stiles et al. 2004: 1 SD possible, 2 SD probable).
LEVELS: tuple[str, ...] = ("possible", "probable")


@dataclass(frozen=True)
class RuleHits:
    """What one rule flagged: rows of the history (or timeline) with level, item and numbers."""

    rule: str
    severity: np.ndarray  # code into SEVERITIES per hit
    rows: np.ndarray  # indices into the history; for missing_ratings into the timeline
    explanation: list[str]
    evidence: dict[str, np.ndarray]
    level: np.ndarray | None = None  # code into LEVELS per hit
    item: np.ndarray | None = None  # code into instruments.all_item_keys() per hit
    item_order: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _nums(values: np.ndarray) -> list[str]:
    """``_num`` of many values, formatting each distinct value once (totals repeat a lot)."""
    if not len(values):
        return []
    unique, inverse = np.unique(values, return_inverse=True)
    text = np.array([_num(v) for v in unique.tolist()], dtype=object)
    return text[inverse.ravel()].tolist()


def _constant(severity: str, n: int) -> np.ndarray:
    return np.full(n, SEVERITIES.index(severity), dtype=np.int64)


def below_cutoff(h: RatingHistory) -> RuleHits:
    """Total under the instrument's clinical cutoff (alliance4: < 36).

    Source: the Session Rating Scale convention that totals under 36 signal an alliance
    worth discussing (Miller & Duncan 2000; Duncan et al. 2003). For the clinician: the
    client is telling you this session did not fully work for them.
    """
    cutoff = h.per_row("total_cutoff")
    rows = np.flatnonzero(h.total < cutoff - EPS)
    value, threshold = h.total[rows], cutoff[rows]
    text = [
        f"Total {v} is below {t}, the level at which a rating is worth talking over."
        for v, t in zip(_nums(value), _nums(threshold), strict=True)
    ]
    return RuleHits(
        "below_cutoff",
        _constant("talk", len(rows)),
        rows,
        text,
        {"value": value, "threshold": threshold},
    )


def item_low(h: RatingHistory) -> RuleHits:
    """Any single item under the item cutoff (alliance4: < 9), one flag per low item.

    Source: SRS practice of discussing any item marked below 9 of 10 (Duncan et al. 2003).
    For the clinician: it names which part of the alliance (bond, goals, way of working)
    the client rated lower, even when the total still looks fine.
    """
    rows_all, items_all, order_all, values_all, cut_all = [], [], [], [], []
    for code, instrument_id in enumerate(h.instrument_ids):
        in_instrument = h.instrument == code
        cutoff = h.thresholds[code].item_cutoff
        for order, key in enumerate(get_instrument(instrument_id).item_keys):
            values = h.items[key]
            rows = np.flatnonzero(in_instrument & (values < cutoff - EPS))
            rows_all.append(rows)
            items_all.append(np.full(len(rows), all_item_keys().index(key), dtype=np.int64))
            order_all.append(np.full(len(rows), order, dtype=np.int64))
            values_all.append(values[rows])
            cut_all.append(np.full(len(rows), cutoff))
    if not rows_all:
        empty = np.empty(0, dtype=np.int64)
        rows_all, items_all, order_all = [empty], [empty], [empty]
        values_all, cut_all = [np.empty(0)], [np.empty(0)]
    rows = np.concatenate(rows_all)
    item = np.concatenate(items_all)
    value, threshold = np.concatenate(values_all), np.concatenate(cut_all)
    text = [
        f"The item '{k}' was rated {v}, below {t}."
        for k, v, t in zip(
            np.array(all_item_keys(), dtype=object)[item].tolist(),
            _nums(value),
            _nums(threshold),
            strict=True,
        )
    ]
    return RuleHits(
        "item_low",
        _constant("talk", len(rows)),
        rows,
        text,
        {"value": value, "threshold": threshold},
        item=item,
        item_order=np.concatenate(order_all),
    )


def _drop(h: RatingHistory) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(h.previous), np.nan, h.previous - h.total)


def drop_from_previous(h: RatingHistory) -> RuleHits:
    """Total at least 1 point below the previous rating.

    Source: Rapport's convention; on a near-ceiling scale even a point is informative,
    but often noise (hence ``info``). For the clinician: a small dip to keep in mind.
    """
    drop = _drop(h)
    needed = h.per_row("drop_points")
    with np.errstate(invalid="ignore"):
        rows = np.flatnonzero(drop >= needed - EPS)
    value, prev, d, t = h.total[rows], h.previous[rows], drop[rows], needed[rows]
    text = [
        f"Total {v} is {x} point{'' if x == '1' else 's'} lower than the previous rating of {p}."
        for v, x, p in zip(_nums(value), _nums(d), _nums(prev), strict=True)
    ]
    return RuleHits(
        "drop_from_previous",
        _constant("info", len(rows)),
        rows,
        text,
        {"value": value, "previous": prev, "drop": d, "threshold": t},
    )


def reliable_drop(h: RatingHistory) -> RuleHits:
    """Drop from the previous rating of at least the reliable change index.

    Source: RCI = 1.96 x SD x sqrt(2 x (1 - r)) (Jacobson & Truax 1991); alliance4 SD 4.0
    and r .88 give 3.84 points. For the clinician: a drop this large is unlikely to be
    measurement noise; something happened in the session.
    """
    drop = _drop(h)
    rci = h.per_row("reliable_change")
    with np.errstate(invalid="ignore"):
        rows = np.flatnonzero(drop >= rci - EPS)
    value, prev, d, t = h.total[rows], h.previous[rows], drop[rows], rci[rows]
    text = [
        f"Total fell {x} points, from {p} to {v}; more than the "
        f"{t:.2f} points measurement noise could explain."
        for v, x, p, t in zip(_nums(value), _nums(d), _nums(prev), t.tolist(), strict=True)
    ]
    return RuleHits(
        "reliable_drop",
        _constant("warning", len(rows)),
        rows,
        text,
        {"value": value, "previous": prev, "drop": d, "threshold": t},
    )


def personal_sd(h: RatingHistory) -> np.ndarray:
    """The client's prior SD floored at half the population SD (NaN-safe)."""
    floor = h.per_row("sd_floor")
    return np.where(np.isnan(h.prior_sd), floor, np.maximum(h.prior_sd, floor))


def below_personal_baseline(h: RatingHistory) -> RuleHits:
    """Total more than 1 SD (possible) or 2 SD (probable) below the client's own prior mean.

    Source: ruptures defined against the client's own history (Stiles et al. 2004;
    Strauss et al. 2006); report both levels, act on the stricter (BMC Medical Research
    Methodology 2012). Needs 3 prior ratings; the SD is floored at half the population SD
    so that a very steady client is not flagged for a one-point wobble. For the clinician:
    low *for this client*, even if high by the book.
    """
    enough = h.prior_n >= h.per_row("baseline_min_prior")
    sd = personal_sd(h)
    mean = h.prior_mean
    with np.errstate(invalid="ignore"):
        possible_line = mean - h.per_row("possible_sds") * sd
        probable_line = mean - h.per_row("probable_sds") * sd
        possible = enough & (h.total < possible_line - EPS)
        probable = enough & (h.total < probable_line - EPS)
    rows = np.flatnonzero(possible | probable)
    is_probable = probable[rows]
    level = np.where(is_probable, LEVELS.index("probable"), LEVELS.index("possible"))
    severity = np.where(is_probable, SEVERITIES.index("warning"), SEVERITIES.index("talk"))
    threshold = np.where(is_probable, probable_line[rows], possible_line[rows])
    value, m, s, n = h.total[rows], mean[rows], sd[rows], h.prior_n[rows]
    z = (m - value) / s
    text = [
        f"Total {v} is {zz:.1f} SD below this client's own average of {mm:.1f} over {nn} sessions."
        for v, zz, mm, nn in zip(_nums(value), z.tolist(), m.tolist(), n.tolist(), strict=True)
    ]
    return RuleHits(
        "below_personal_baseline",
        severity,
        rows,
        text,
        {
            "value": value,
            "threshold": threshold,
            "mean": m,
            "sd": s,
            "observed_sd": h.prior_sd[rows],
            "n": n,
            "z": z,
        },
        level=level,
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


def downward_trend(h: RatingHistory) -> RuleHits:
    """A slow decline: over the last 5 ratings a Theil–Sen slope <= -0.5 points per session,
    at least 3 consecutive non-increases ending now, and a total decline >= the RCI.

    Source: gradual ("withdrawal") ruptures are easy to miss session by session (Safran &
    Muran 2000); the decline must reach reliable change (Jacobson & Truax 1991) so that
    drifting noise is not flagged. For the clinician: the alliance is quietly slipping.
    The slope's x is the session number, so a skipped rating still counts as a week passed.
    No Mann–Kendall p-value: five ratings are too few for it to mean much.
    """
    with np.errstate(invalid="ignore"):
        non_increase = h.total <= h.previous + EPS
    streak = run_length(non_increase, h.group_start)
    windows = h.per_row("trend_window").astype(np.int64) if len(h) else np.empty(0, np.int64)
    parts = []
    for w in np.unique(windows).tolist():
        full = np.flatnonzero((windows == w) & (h.position >= w - 1))
        # cheap conditions first, so the Theil–Sen medians run on few windows
        decline_all = h.total[full - w + 1] - h.total[full]
        cheap = (streak[full] >= h.per_row("trend_non_increases")[full]) & (
            decline_all >= h.per_row("reliable_change")[full] - EPS
        )
        candidates = full[cheap]
        if not len(candidates):
            continue
        span = candidates[:, None] + np.arange(-w + 1, 1)
        x, y = h.session[span].astype(np.float64), h.total[span]
        slope = theil_sen_slopes(x, y)
        decline = y[:, 0] - y[:, -1]
        slope_max = np.array([t.trend_slope for t in h.thresholds])[h.instrument[candidates]]
        rci = np.array([t.reliable_change for t in h.thresholds])[h.instrument[candidates]]
        hit = slope <= slope_max + EPS
        parts.append((candidates[hit], slope[hit], decline[hit], y[hit, 0], w, rci[hit]))
    if parts:
        rows = np.concatenate([p[0] for p in parts])
        slope = np.concatenate([p[1] for p in parts])
        decline = np.concatenate([p[2] for p in parts])
        first = np.concatenate([p[3] for p in parts])
        window = np.concatenate([np.full(len(p[0]), p[4]) for p in parts])
        rci = np.concatenate([p[5] for p in parts])
    else:
        rows = np.empty(0, dtype=np.int64)
        slope = decline = first = rci = np.empty(0)
        window = np.empty(0, dtype=np.int64)
    value = h.total[rows]
    text = [
        f"Totals have fallen over the last {w} ratings, from {_num(f)} to {_num(v)} "
        f"(about {-s:.1f} points per session)."
        for w, f, v, s in zip(
            window.tolist(), first.tolist(), value.tolist(), slope.tolist(), strict=True
        )
    ]
    return RuleHits(
        "downward_trend",
        _constant("warning", len(rows)),
        rows,
        text,
        {
            "value": value,
            "first": first,
            "decline": decline,
            "slope": slope,
            "threshold": rci,
            "non_increases": streak[rows],
            "window": window,
        },
    )


def client_wants_to_talk(h: RatingHistory) -> RuleHits:
    """The client ticked "I'd like to talk about how therapy is going".

    Source: a direct request is the clearest rupture marker there is (Safran & Muran 2000);
    it is urgent whatever the numbers. For the clinician: make room for it next session.
    """
    rows = np.flatnonzero(h.wants_to_talk)
    value = h.total[rows]
    text = [
        f"The client asked to talk about how therapy is going (total {_num(v)})."
        for v in value.tolist()
    ]
    return RuleHits(
        "client_wants_to_talk", _constant("urgent", len(rows)), rows, text, {"value": value}
    )


def ceiling_no_variance(h: RatingHistory) -> RuleHits:
    """Three or more consecutive perfect totals; flagged once, where the run reaches 3.

    Source: ceiling effects make client-rated alliance insensitive (Tryon, Blackwell &
    Hammel 2008); Duncan et al. (2003) advise inviting honest feedback. Flagging only the
    session where the run reaches the threshold avoids repeating the same prompt weekly.
    For the clinician: perfect scores may be politeness; ask what could be better.
    """
    ceiling = h.per_row("ceiling_total")
    at_ceiling = h.total >= ceiling - EPS
    run = run_length(at_ceiling, h.group_start)
    needed = h.per_row("ceiling_run")
    rows = np.flatnonzero(run == needed)
    value, r = h.total[rows], run[rows]
    text = [
        f"Perfect total of {_num(v)} for {n} sessions in a row; there may be feedback "
        f"the client isn't giving."
        for v, n in zip(value.tolist(), r.tolist(), strict=True)
    ]
    return RuleHits(
        "ceiling_no_variance",
        _constant("info", len(rows)),
        rows,
        text,
        {"value": value, "run": r, "threshold": needed[rows].astype(np.int64)},
    )


def missing_ratings(timeline: SessionTimeline, min_run: int, grace_days: int) -> RuleHits:
    """Two or more consecutive sessions without a rating, flagged on the run's latest one.

    Source: dropping out of routine feedback often precedes dropout from therapy
    (Lambert 2015; Miller et al. 2006). A session only counts once its rating link has
    expired (``rating_grace_days``). For the clinician: the client has gone quiet.
    """
    run = run_length(timeline.overdue, timeline.client_start)
    n = len(run)
    run_ends = np.ones(n, dtype=bool)
    if n:
        run_ends[:-1] = ~timeline.overdue[1:] | timeline.client_start[1:]
    rows = np.flatnonzero(timeline.overdue & run_ends & (run >= min_run))
    r = run[rows]
    last = timeline.session[rows]
    first = timeline.session[rows - r + 1] if len(rows) else last
    text = [
        f"No rating for {k} sessions in a row (sessions {a} to {b})."
        for k, a, b in zip(r.tolist(), first.tolist(), last.tolist(), strict=True)
    ]
    return RuleHits(
        "missing_ratings",
        _constant("warning", len(rows)),
        rows,
        text,
        {
            "value": r,
            "threshold": np.full(len(rows), min_run, dtype=np.int64),
            "first_session": first,
            "last_session": last,
            "grace_days": np.full(len(rows), grace_days, dtype=np.int64),
        },
    )


#: Rules over the rating history, in the order flags of one session are listed.
HISTORY_RULES = (
    client_wants_to_talk,
    reliable_drop,
    below_personal_baseline,
    downward_trend,
    below_cutoff,
    item_low,
    drop_from_previous,
    ceiling_no_variance,
)
RULE_NAMES: tuple[str, ...] = (*tuple(r.__name__ for r in HISTORY_RULES), "missing_ratings")
