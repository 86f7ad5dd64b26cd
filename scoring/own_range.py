"""Each client's own range, and the rupture episodes judged against it.

Client-rated alliance sits near the ceiling and moves 1.5-3 points from week to week, so a
rating means something only against the client's own usual level. This module walks every
history one rating at a time, all clients at once (a numpy step per position, not a loop
over clients), because the range a rating is judged by depends on what came before it:
ratings inside a rupture are left out, so a rupture does not widen the range and hide the
next one.

The range: the mean of the client's earlier ratings outside any episode, and their SD
shrunk toward the clinic-wide week-to-week SD with the weight of ``shrink_sessions``
ratings (an empirical-Bayes estimate; Efron & Morris 1975), so three steady ratings do not
make a one-point dip look alarming, and a client's own wider spread counts once it shows.

A rupture episode opens at a rating ``probable_sds`` below the range, or at the second of
two ratings in a row ``possible_sds`` below it (a gradual, "withdrawal" rupture shows as
a confirmed shallow drop; Safran & Muran 2000). Two thresholds with confirmation follow
the "possible / probable" scheme Gumz et al. (2012) derived from Stiles et al. (2004) and
Strauss et al. (2006), who each used a single threshold; the values themselves were set
on the realistic simulation (``scoring.simulate``), with the detection table in
``make bench``. It is repaired when a rating comes back to within ``repair_sds`` of the
range, and unrepaired when ``repair_within`` ratings after its lowest point none has. After
an unrepaired rupture the client's range restarts from the ratings since it opened: the
lower level is their new usual, which the flag for the unrepaired rupture keeps in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.history import EPS, RatingHistory
from scoring.vocabulary import EpisodeStatus, Level

#: Codes of ``Level`` in the ``level`` arrays below (-1: none).
POSSIBLE, PROBABLE, FAR = (
    list(Level).index(x) for x in (Level.possible, Level.probable, Level.far)
)
EPISODE_STATUSES: tuple[EpisodeStatus, ...] = tuple(EpisodeStatus)
_OPEN, _REPAIRED, _UNREPAIRED = (EPISODE_STATUSES.index(s) for s in EpisodeStatus)


@dataclass(frozen=True)
class OwnRange:
    """Per rating: the range it was judged by and what it did; per episode: its course.

    Row arrays align with the history. ``mean`` and ``sd`` are NaN until the client has
    ``baseline_min_prior`` ratings outside episodes; ``z`` is how many SDs below the mean
    the rating fell. ``level`` codes into ``Level`` (possible/probable/far, -1 none);
    ``episode`` is the episode a rating falls in (-1 none). Episode arrays are in opening
    order: ``opened``, ``closed`` (-1 while open) and ``lowest`` are history rows.
    """

    mean: np.ndarray
    sd: np.ndarray
    n: np.ndarray
    z: np.ndarray
    level: np.ndarray
    episode: np.ndarray
    unrepaired_at: np.ndarray
    opened: np.ndarray
    closed: np.ndarray
    status: np.ndarray
    episode_mean: np.ndarray
    episode_sd: np.ndarray
    recovery_line: np.ndarray
    lowest: np.ndarray


def own_range(h: RatingHistory) -> OwnRange:
    """Walk every history rating by rating; see the module docstring for the rules."""
    n = len(h)
    starts = np.flatnonzero(h.group_start)
    lengths = np.diff(np.append(starts, n))
    by_length = np.argsort(-lengths, kind="stable")
    # histories still going at each position: a prefix of ``by_length``
    active = np.searchsorted(-lengths[by_length], -np.arange(lengths.max(initial=0)), "left")
    t = _GroupThresholds(h, starts)

    g = len(starts)
    width = int(lengths.max(initial=0))
    # Totals by (history, position), and which of them make up the client's range.
    totals = np.full((g, width), np.nan)
    position_of = np.arange(n) - np.repeat(starts, lengths) if n else np.zeros(0, np.int64)
    group_of = np.repeat(np.arange(g), lengths)
    totals[group_of, position_of] = h.total
    in_range = np.zeros((g, width), bool)
    pending = np.full(g, -1, np.int64)  # position of a first shallow dip awaiting confirmation
    ep = np.full(g, -1, np.int64)  # the open episode per history
    ep_start = np.zeros(g, np.int64)  # position of the open episode's first rating
    since_lowest = np.zeros(g, np.int64)

    mean, sd, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    count = np.zeros(n, np.int64)
    level = np.full(n, -1, np.int64)
    episode = np.full(n, -1, np.int64)
    unrepaired_at = np.zeros(n, bool)
    # Episodes, at most one per rating; the first ``found`` entries are used.
    opened, closed = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    status, lowest = np.full(n, _OPEN, np.int64), np.full(n, -1, np.int64)
    e_mean, e_sd = np.full(n, np.nan), np.full(n, np.nan)
    gone_far = np.zeros(n, bool)
    found = 0

    for position in range(width):
        grp = by_length[: active[position]]
        row = starts[grp] + position
        x = h.total[row]
        m, s, bn = _range_of(totals[grp, :position], in_range[grp, :position], t, grp)
        with np.errstate(invalid="ignore", divide="ignore"):
            judged = bn >= t.min_prior[grp]
            # the next rating's spread: the client's own plus the mean's uncertainty
            zz = np.where(judged, (m - x) / (s * np.sqrt(1.0 + 1.0 / np.maximum(bn, 1))), np.nan)
        mean[row] = np.where(judged, m, np.nan)
        sd[row] = np.where(judged, s, np.nan)
        z[row] = zz
        count[row] = bn
        in_ep = ep[grp] >= 0

        # Inside an open episode: repaired, left unrepaired, gone deeper, or still open.
        k = np.flatnonzero(in_ep)
        if len(k):
            gk, rk, xk, eid = grp[k], row[k], x[k], ep[grp[k]]
            back = xk >= e_mean[eid] - t.repair_sds[gk] * e_sd[eid] - EPS
            deeper = xk < h.total[lowest[eid]] - EPS
            lowest[eid[deeper]] = rk[deeper]
            since_lowest[gk] = np.where(deeper, 0, since_lowest[gk] + 1)
            depth = e_mean[eid] - xk
            now_far = (
                ~back
                & ~gone_far[eid]
                & (depth >= t.far[gk] * e_sd[eid] - EPS)
                & (depth >= t.far_points[gk] - EPS)
            )
            level[rk[now_far]] = FAR
            gone_far[eid[now_far]] = True
            lost = ~back & (since_lowest[gk] >= t.repair_within[gk])
            episode[rk[~back]] = eid[~back]
            unrepaired_at[rk[lost]] = True
            status[eid[back]] = _REPAIRED
            status[eid[lost]] = _UNREPAIRED
            closed[eid[back | lost]] = rk[back | lost]
            in_range[gk[back], position] = True  # the usual level again
            for gl in gk[lost].tolist():  # the lower level is the new usual
                in_range[gl, :] = False
                in_range[gl, ep_start[gl] : position + 1] = True
            ep[gk[back | lost]] = -1

        # Outside an episode: ordinary, a first shallow dip, or the opening of an episode.
        k = np.flatnonzero(~in_ep)
        if len(k):
            gk, rk, xk, zk, mk, sdk = grp[k], row[k], x[k], zz[k], m[k], s[k]
            with np.errstate(invalid="ignore"):
                enough = mk - xk >= t.min_points[gk] - EPS
                shallow = enough & (zk >= t.possible[gk] - EPS)
                deep = enough & (zk >= t.probable[gk] - EPS)
            waiting = pending[gk] >= 0
            opens = deep | (shallow & waiting)
            is_far = opens & (zk >= t.far[gk] - EPS) & (mk - xk >= t.far_points[gk] - EPS)
            level[rk[shallow & ~opens]] = POSSIBLE
            level[rk[opens]] = np.where(is_far[opens], FAR, PROBABLE)

            o = np.flatnonzero(opens)
            go, ro = gk[o], rk[o]
            ids = np.arange(found, found + len(o))
            found += len(o)
            ep[go] = ids
            first = np.where(waiting[o], pending[go], position)
            dip = starts[go] + first
            episode[ro] = ids
            episode[dip] = ids  # a confirmed dip belongs to its episode
            ep_start[go] = first
            opened[ids], e_mean[ids], e_sd[ids], gone_far[ids] = ro, mk[o], sdk[o], is_far[o]
            lowest[ids] = np.where(h.total[dip] < xk[o] - EPS, dip, ro)
            since_lowest[go] = (lowest[ids] != ro).astype(np.int64)

            # A lone shallow dip that was not confirmed joins the range after all.
            settle = ~opens & waiting
            in_range[gk[settle], pending[gk[settle]]] = True
            pending[gk[opens | settle]] = -1
            first_dip = shallow & ~opens
            pending[gk[first_dip]] = position
            ordinary = ~opens & ~shallow
            in_range[gk[ordinary], position] = True

    used = slice(0, found)
    return OwnRange(
        mean=mean,
        sd=sd,
        n=count,
        z=z,
        level=level,
        episode=episode,
        unrepaired_at=unrepaired_at,
        opened=opened[used],
        closed=closed[used],
        status=status[used],
        episode_mean=e_mean[used],
        episode_sd=e_sd[used],
        recovery_line=e_mean[used] - h.per_row("repair_sds")[opened[used]] * e_sd[used]
        if found
        else np.empty(0),
        lowest=lowest[used],
    )


def _range_of(
    totals: np.ndarray, member: np.ndarray, t: _GroupThresholds, grp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, spread and count of each history's range (rows: histories, columns: ratings).

    The spread is the downward semi-deviation, doubled: near the ceiling, ratings cannot
    go up as far as they can come down, so the plain SD understates how far this client
    usually dips. It is shrunk toward the clinic-wide SD with the weight of
    ``shrink_sessions`` ratings.
    """
    n = member.sum(axis=1)
    values = np.where(member, totals, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = values.sum(axis=1) / np.maximum(n, 1)
        below = np.where(member & (totals < m[:, None]), totals - m[:, None], 0.0)
        extra = np.maximum(n - 1, 0)
        semi = 2.0 * (below * below).sum(axis=1)
        s = np.sqrt((t.within_var[grp] * t.shrink[grp] + semi) / (t.shrink[grp] + extra))
    return m, s, n


class _GroupThresholds:
    """The thresholds the walk needs, one value per history (its instrument's)."""

    def __init__(self, h: RatingHistory, starts: np.ndarray) -> None:
        inst = h.instrument[starts]

        def per_group(name: str) -> np.ndarray:
            values = np.array([getattr(x, name) for x in h.thresholds], dtype=np.float64)
            return values[inst] if len(values) else np.empty(0)

        self.within_var = per_group("within_sd") ** 2
        self.shrink = per_group("shrink_sessions")
        self.min_prior = per_group("baseline_min_prior")
        self.possible = per_group("possible_sds")
        self.probable = per_group("probable_sds")
        self.far = per_group("far_sds")
        self.far_points = per_group("reliable_change")
        self.min_points = per_group("min_drop_points")
        self.repair_sds = per_group("repair_sds")
        self.repair_within = per_group("repair_within")
