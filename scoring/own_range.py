"""Each client's own range, and the rupture episodes judged against it.

Client-rated alliance sits near the ceiling and moves 1.5-3 points from week to week, so a
rating means something only against the client's own usual level. This module walks every
history one rating at a time, all clients at once (a numpy step per position, not a loop
over clients), because the range a rating is judged by depends on what came before it:
ratings inside a rupture are left out, so a rupture does not widen the range and hide the
next one. The range is kept as running integer sums, so the walk costs one step per rating.

The range: the mean of the client's earlier ratings outside any episode, and their SD
shrunk toward the clinic-wide week-to-week SD with the weight of ``shrink_sessions``
ratings (an empirical-Bayes estimate; Efron & Morris 1975). On the realistic simulation a
client's own few ratings predict the spread of the next one worse than the clinic's
figure does, so the weight is large (16): the range's level is the client's own, its width
mostly the clinic's.

A rating is judged by how many SDs it falls below the range, widened for the uncertainty
of the mean (the predictive SD). A rupture episode opens at a rating ``probable_sds``
below the range, or when a run of lower ratings adds up: each rating more than
``drift_allowance_sds`` below adds its excess to a cumulative shortfall, a rating back in
the range clears it, and the episode opens when the shortfall reaches ``drift_sds``
(Page's 1954 CUSUM, the standard test for a sustained small shift). The run shows a
gradual, "withdrawal" rupture (Safran & Muran 2000) that no single rating does; ratings in
it are held out of the range until the shortfall clears, so a slow slide does not drag
the range down after it. Two routes, one sharp and one confirmed, follow the "possible /
probable" idea Gumz et al. (2012) derived from Stiles et al. (2004) and Strauss et al.
(2006), who each used a single threshold; the values were set on the realistic simulation
(``scoring.simulate``), with the detection table in ``make bench``. No drop smaller than
``min_drop_points`` opens an episode. An episode is repaired when a rating comes back to
within ``repair_sds`` of the range, and unrepaired when ``repair_within`` ratings after
its lowest point none has. After an unrepaired rupture the client's range restarts from
the ratings since it opened: the lower level is their new usual, which the flag for the
unrepaired rupture keeps in view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.history import EPS, TOTAL_SCALE, RatingHistory
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
    """Walk every history rating by rating; see the module docstring for the rules.

    Histories are kept longest first, so the ones still going at a position are a prefix
    and every per-history state array is read and written as a slice, not gathered.
    """
    n = len(h)
    starts = np.flatnonzero(h.group_start)
    lengths = np.diff(np.append(starts, n))
    by_length = np.argsort(-lengths, kind="stable")
    width = int(lengths.max(initial=0))
    # histories still going at each position: a prefix of the walk order
    active = np.searchsorted(-lengths[by_length], -np.arange(width), "left")
    first_row = starts[by_length]
    t = _GroupThresholds(h, first_row)
    ranges = _Ranges(h, len(starts))

    g = len(starts)
    held = np.full(g, -1, np.int64)  # first rating held out of the range while short
    shortfall = np.zeros(g)  # the cumulative shortfall (Page's CUSUM), in SDs
    noted = np.zeros(g, bool)  # the run being held has had its "possible" note
    ep = np.full(g, -1, np.int64)  # the open episode per history
    ep_start = np.zeros(g, np.int64)  # row of the open episode's first rating
    since_lowest = np.zeros(g, np.int64)

    mean, sd, z = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    count = np.zeros(n, np.int64)
    level = np.full(n, -1, np.int64)
    episode = np.full(n, -1, np.int64)
    unrepaired_at = np.zeros(n, bool)
    # Episodes, grown as they open; the first ``found`` entries are used.
    episodes = _no_episodes(64)
    opened, closed, status, lowest, e_mean, e_sd, gone_far = episodes
    found = 0

    for position in range(width):
        a = int(active[position])
        row = first_row[:a] + position
        x = h.total[row]
        m, s, bn = ranges.of(a, t)
        with np.errstate(invalid="ignore", divide="ignore"):
            judged = bn >= t.min_prior[:a]
            # the next rating's spread: the client's own plus the mean's uncertainty
            zz = np.where(judged, (m - x) / (s * np.sqrt(1.0 + 1.0 / np.maximum(bn, 1))), np.nan)
        mean[row] = np.where(judged, m, np.nan)
        sd[row] = np.where(judged, s, np.nan)
        z[row] = zz
        count[row] = bn
        in_ep = ep[:a] >= 0
        out = ~in_ep

        # Inside an open episode: repaired, left unrepaired, gone deeper, or still open.
        gk = np.flatnonzero(in_ep)
        if len(gk):
            rk, xk, eid = row[gk], x[gk], ep[gk]
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
            ranges.add(gk[back], rk[back], rk[back])  # the usual level again
            ranges.restart(gk[lost], ep_start[gk[lost]], rk[lost])  # the lower level is usual
            ep[gk[back | lost]] = -1

        # Outside an episode: ordinary, held while the shortfall adds up, or an opening.
        # Worked out for every history still going, kept only where ``out``.
        if out.any():
            with np.errstate(invalid="ignore"):
                enough = m - x >= t.min_points[:a] - EPS
                shallow = zz >= t.possible[:a] - EPS
                deep = enough & (zz >= t.probable[:a] - EPS)
                short = np.maximum(
                    0.0, shortfall[:a] + np.nan_to_num(zz - t.allowance[:a], nan=-np.inf)
                )
            opens = out & (deep | (enough & (short >= t.drift[:a] - EPS)))
            is_far = opens & (zz >= t.far[:a] - EPS) & (m - x >= t.far_points[:a] - EPS)
            # one "possible" note per run of lower ratings, not one per rating
            note = out & shallow & ~opens & ~noted[:a]
            level[row[note]] = POSSIBLE
            holding = held[:a] >= 0
            first = np.where(holding, held[:a], row)

            o = np.flatnonzero(opens)
            if len(o):
                ro, fo = row[o], first[o]
                level[ro] = np.where(is_far[o], FAR, PROBABLE)
                ids = np.arange(found, found + len(o))
                found += len(o)
                if found > len(opened):
                    episodes = _grown(episodes, found)
                    opened, closed, status, lowest, e_mean, e_sd, gone_far = episodes
                ep[o] = ids
                ep_start[o] = fo
                episode[ro] = ids
                opened[ids], e_mean[ids], e_sd[ids], gone_far[ids] = ro, m[o], s[o], is_far[o]
                lowest[ids] = ro
                for j in np.flatnonzero(fo < ro).tolist():  # the held ratings belong to it
                    span = np.arange(fo[j], ro[j] + 1)
                    episode[span] = ids[j]
                    lowest[ids[j]] = span[np.argmin(h.total[span] - EPS * (span == ro[j]))]
                since_lowest[o] = ro - lowest[ids]

            # A rating back in the range clears the shortfall; the held ratings join it.
            clear = out & ~opens & (short <= 0.0)
            ranges.add_where(clear, first, row)
            held[:a] = np.where(
                ~out, held[:a], np.where(clear | opens, -1, np.where(holding, held[:a], row))
            )
            shortfall[:a] = np.where(out & ~opens, short, np.where(opens, 0.0, shortfall[:a]))
            noted[:a] = np.where(out, ~opens & ~clear & (noted[:a] | note), noted[:a])

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
        recovery_line=e_mean[used] - h.per_row("repair_sds", opened[used]) * e_sd[used]
        if found
        else np.empty(0),
        lowest=lowest[used],
    )


def _no_episodes(capacity: int) -> tuple[np.ndarray, ...]:
    """Room for episodes: opened, closed, status, lowest, mean, SD, gone far."""
    rows = (np.full(capacity, -1, np.int64) for _ in range(2))
    return (
        *rows,
        np.full(capacity, _OPEN, np.int64),
        np.full(capacity, -1, np.int64),
        np.full(capacity, np.nan),
        np.full(capacity, np.nan),
        np.zeros(capacity, bool),
    )


def _grown(episodes: tuple[np.ndarray, ...], needed: int) -> tuple[np.ndarray, ...]:
    """The episode columns with room for at least ``needed``, entries kept."""
    more = _no_episodes(max(2 * len(episodes[0]), needed))
    for old, new in zip(episodes, more, strict=True):
        new[: len(old)] = old
    return more


class _Ranges:
    """Each history's range as running integer sums of its member ratings.

    Totals are scaled to integers (``TOTAL_SCALE``), so the sums are exact and a client's
    range never depends on which other clients were scored alongside. Members are added
    as spans of rows (a rating, or ratings held and then cleared), read from prefix sums.
    """

    def __init__(self, h: RatingHistory, groups: int) -> None:
        scaled = np.round(h.total * TOTAL_SCALE).astype(np.int64)
        self._scaled = scaled
        self._c1 = np.concatenate(([0], np.cumsum(scaled)))
        self._c2 = np.concatenate(([0], np.cumsum(scaled * scaled)))
        self.n = np.zeros(groups, np.int64)
        self.s1 = np.zeros(groups, np.int64)
        self.s2 = np.zeros(groups, np.int64)

    def add(self, groups: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        """Add rows ``first``..``last`` (inclusive) to each history's range."""
        self.n[groups] += last - first + 1
        self.s1[groups] += self._c1[last + 1] - self._c1[first]
        self.s2[groups] += self._c2[last + 1] - self._c2[first]

    def restart(self, groups: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        """Make rows ``first``..``last`` each history's whole range."""
        self.n[groups] = self.s1[groups] = self.s2[groups] = 0
        self.add(groups, first, last)

    def add_where(self, mask: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
        """``add`` for the first ``len(mask)`` histories (walk order) where ``mask`` holds.

        Mostly a single rating (``first == last``): read directly; spans from prefix sums.
        """
        a = len(mask)
        s1 = np.where(mask, self._scaled[last], 0)
        s2 = s1 * s1
        spans = np.flatnonzero(mask & (first < last))
        if len(spans):
            f, to = first[spans], last[spans] + 1
            s1[spans] = self._c1[to] - self._c1[f]
            s2[spans] = self._c2[to] - self._c2[f]
        self.n[:a] += np.where(mask, last - first + 1, 0)
        self.s1[:a] += s1
        self.s2[:a] += s2

    def of(self, a: int, t: _GroupThresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, spread and count of the range of the first ``a`` histories (walk order).

        The spread is the SD of the member ratings shrunk toward the clinic-wide SD with
        the weight of ``shrink_sessions`` ratings.
        """
        n, s1, s2 = self.n[:a], self.s1[:a], self.s2[:a]
        with np.errstate(invalid="ignore", divide="ignore"):
            m = s1 / n / TOTAL_SCALE
            # exact integer numerator: n*S2 - S1^2 is n times the sum of squared deviations
            squares = (n * s2 - s1 * s1) / np.maximum(n, 1) / (TOTAL_SCALE * TOTAL_SCALE)
            extra = np.maximum(n - 1, 0)
            shrink = t.shrink[:a]
            s = np.sqrt((t.within_var[:a] * shrink + squares) / (shrink + extra))
        return m, s, n


class _GroupThresholds:
    """The thresholds the walk needs, one value per history (its instrument's), in the
    order of ``first_rows``."""

    def __init__(self, h: RatingHistory, first_rows: np.ndarray) -> None:
        inst = h.instrument[first_rows]

        def per_group(name: str) -> np.ndarray:
            values = np.array([getattr(x, name) for x in h.thresholds], dtype=np.float64)
            return values[inst] if len(values) else np.empty(0)

        self.within_var = per_group("within_sd") ** 2
        self.shrink = per_group("shrink_sessions")
        self.min_prior = per_group("baseline_min_prior")
        self.possible = per_group("possible_sds")
        self.probable = per_group("probable_sds")
        self.allowance = per_group("drift_allowance_sds")
        self.drift = per_group("drift_sds")
        self.far = per_group("far_sds")
        self.far_points = per_group("reliable_change")
        self.min_points = per_group("min_drop_points")
        self.repair_sds = per_group("repair_sds")
        self.repair_within = per_group("repair_within")
