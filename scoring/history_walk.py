"""One history's own range, walked a rating at a time in plain Python.

``scoring.own_range`` walks every history at once, a numpy step per position; for one
client that is thousands of calls of a microsecond each. This is the same walk over one
(client, instrument) history as plain arithmetic: the rules are in ``own_range``'s
docstring, and every operation here is the one numpy performs there, in the same order
(integer running sums scaled by ``TOTAL_SCALE``, the shrunk predictive SD, ``EPS``
comparisons, IEEE division), so the numbers agree to the bit.
"""

from __future__ import annotations

import math
from itertools import accumulate

import numpy as np

from scoring.client_input import CheckedRating
from scoring.config import ScoringConfig, Thresholds
from scoring.history import EPS, TOTAL_SCALE
from scoring.instruments import Instrument
from scoring.own_range import FAR, POSSIBLE, PROBABLE
from scoring.vocabulary import EpisodeStatus

_NAN = math.nan
_MAX = float(np.finfo(np.float64).max)


class History:
    """One (client, instrument) history in session order, with its instrument's thresholds.

    Thresholds are read as the caseload path reads them (``np.float64`` of each), so the
    comparisons below are the same comparisons.
    """

    def __init__(self, instrument: Instrument, ratings: list[CheckedRating], t: Thresholds) -> None:
        self.instrument = instrument
        self.ratings = ratings
        self.sessions = [r.session for r in ratings]
        self.totals = [r.total for r in ratings]
        self.t = t
        self.within_sd = float(t.within_sd)
        self.shrink = float(t.shrink_sessions)
        self.min_prior = float(t.baseline_min_prior)
        self.possible = float(t.possible_sds)
        self.probable = float(t.probable_sds)
        self.allowance = float(t.drift_allowance_sds)
        self.drift = float(t.drift_sds)
        self.far = float(t.far_sds)
        self.far_points = float(t.reliable_change)
        self.min_points = float(t.min_drop_points)
        self.repair_sds = float(t.repair_sds)
        self.repair_within = float(t.repair_within)


def histories(ratings: list[CheckedRating], config: ScoringConfig) -> list[History]:
    """The client's histories, one per instrument in instrument-id order (as ``evaluate``)."""
    by_instrument: dict[str, list[CheckedRating]] = {}
    for rating in ratings:
        by_instrument.setdefault(rating.instrument.id, []).append(rating)
    out = []
    for instrument_id in sorted(by_instrument):
        rows = sorted(by_instrument[instrument_id], key=lambda r: r.session)
        instrument = rows[0].instrument
        out.append(History(instrument, rows, config.thresholds_for(instrument_id)))
    return out


class Episode:
    """One rupture episode of a history; ``opened``, ``closed`` (-1 while open) and
    ``lowest`` are positions in the history, ``line`` its recovery line."""

    __slots__ = ("closed", "gone_far", "line", "lowest", "mean", "opened", "sd", "status")

    def __init__(self, opened: int, mean: float, sd: float, gone_far: bool) -> None:
        self.opened = opened
        self.mean = mean
        self.sd = sd
        self.gone_far = gone_far
        self.lowest = opened
        self.closed = -1
        self.status = EpisodeStatus.open
        self.line = _NAN


class Walked:
    """Per rating of one history: ``OwnRange``'s columns; ``episodes`` in opening order."""

    def __init__(self, n: int) -> None:
        self.mean = [_NAN] * n
        self.sd = [_NAN] * n
        self.z = [_NAN] * n
        self.count = [0] * n
        self.level = [-1] * n
        self.episode = [-1] * n
        self.unrepaired_at = [False] * n
        self.episodes: list[Episode] = []


def walk(h: History) -> Walked:
    """``own_range`` for one history; see its module docstring for the rules."""
    totals = h.totals
    n = len(totals)
    out = Walked(n)
    scaled = [round(x * TOTAL_SCALE) for x in totals]
    c1 = [0, *accumulate(scaled)]
    c2 = [0, *accumulate(x * x for x in scaled)]
    within_var = h.within_sd * h.within_sd
    shrink = h.shrink
    square_scale = TOTAL_SCALE * TOTAL_SCALE

    r_n = r_1 = r_2 = 0  # the range: count and integer sums of the scaled member totals
    held = -1  # first rating held out of the range while the shortfall adds up
    shortfall = 0.0
    noted = False
    ep: Episode | None = None
    ep_id = ep_start = since_lowest = 0

    for i, x in enumerate(totals):
        bn = r_n
        if bn:
            m = r_1 / bn / TOTAL_SCALE
            squares = (bn * r_2 - r_1 * r_1) / bn / square_scale
            s = _sqrt(_divide(within_var * shrink + squares, shrink + (bn - 1)))
        else:
            m = s = _NAN
        judged = bn >= h.min_prior
        if judged:
            z = _divide(m - x, s * math.sqrt(1.0 + 1.0 / bn))
            out.mean[i], out.sd[i], out.z[i] = m, s, z
        else:
            z = _NAN
        out.count[i] = bn

        if ep is not None:
            back = x >= ep.mean - h.repair_sds * ep.sd - EPS
            if x < totals[ep.lowest] - EPS:
                ep.lowest = i
                since_lowest = 0
            else:
                since_lowest += 1
            depth = ep.mean - x
            if (
                not back
                and not ep.gone_far
                and depth >= h.far * ep.sd - EPS
                and depth >= h.far_points - EPS
            ):
                out.level[i] = FAR
                ep.gone_far = True
            if back:
                ep.status, ep.closed = EpisodeStatus.repaired, i
                r_n, r_1, r_2 = r_n + 1, r_1 + scaled[i], r_2 + scaled[i] * scaled[i]
                ep = None
            else:
                out.episode[i] = ep_id
                if since_lowest >= h.repair_within:  # lost: the lower level is the usual now
                    out.unrepaired_at[i] = True
                    ep.status, ep.closed = EpisodeStatus.unrepaired, i
                    r_n = i - ep_start + 1
                    r_1 = c1[i + 1] - c1[ep_start]
                    r_2 = c2[i + 1] - c2[ep_start]
                    ep = None
            continue

        enough = m - x >= h.min_points - EPS
        shallow = z >= h.possible - EPS
        deep = enough and z >= h.probable - EPS
        short = shortfall + _finite(z - h.allowance)
        if short < 0.0:  # np.maximum(0, short), NaN kept
            short = 0.0
        opens = deep or (enough and short >= h.drift - EPS)
        is_far = opens and z >= h.far - EPS and m - x >= h.far_points - EPS
        note = shallow and not opens and not noted
        if note:
            out.level[i] = POSSIBLE
        holding = held >= 0
        first = held if holding else i
        clear = False
        if opens:
            out.level[i] = FAR if is_far else PROBABLE
            ep = Episode(i, m, s, is_far)
            ep_id = len(out.episodes)
            out.episodes.append(ep)
            ep_start = first
            for j in range(first, i + 1):  # the held ratings belong to it
                out.episode[j] = ep_id
            if first < i:
                ep.lowest = min(
                    range(first, i + 1), key=lambda j: totals[j] - EPS * (1.0 if j == i else 0.0)
                )
            since_lowest = i - ep.lowest
            held = -1
        else:
            clear = short <= 0.0
            if clear:  # back in the range: the held ratings join it
                r_n += i - first + 1
                r_1 += c1[i + 1] - c1[first]
                r_2 += c2[i + 1] - c2[first]
                held = -1
            elif not holding:
                held = i
        shortfall = 0.0 if opens else short
        noted = not opens and not clear and (noted or note)

    for episode in out.episodes:
        episode.line = episode.mean - h.repair_sds * episode.sd
    return out


def _divide(a: float, b: float) -> float:
    """IEEE division, as numpy does it: a zero divisor gives inf or NaN, not an error."""
    if b:
        return a / b
    if a != a or a == 0.0:
        return _NAN
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _sqrt(value: float) -> float:
    return math.sqrt(value) if value >= 0.0 else _NAN


def _finite(value: float) -> float:
    """``np.nan_to_num(value, nan=-inf)``: NaN adds nothing, infinities become the largest
    floats."""
    if value != value:
        return -math.inf
    if value == math.inf:
        return _MAX
    if value == -math.inf:
        return -_MAX
    return value
