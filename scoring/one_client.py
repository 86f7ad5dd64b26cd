"""One client's scores in plain Python: what a submission rescores, in well under 1 ms.

``evaluate`` is vectorised over a caseload. For one client with a few dozen ratings its
thousands of numpy and pandas calls (a microsecond or more each) cost several
milliseconds, while the same steps as plain Python loops over one history cost a
fraction of that. ``score_client`` is those loops: one client's ratings and sessions as
records in, the same ``ScoreRecords`` out that ``evaluate`` gives for that client, float
for float, word for word (docs/decisions.md, "A scalar path for one client").

Shared with the caseload path, so they cannot drift apart: every threshold
(``ScoringConfig``), every sentence (``scoring.rules``, ``scoring.episodes``,
``scoring.guidance``), every refusal (``scoring.schema``), the vocabulary and the rule
order. Repeated, step for step: the arithmetic (integer running sums scaled by
``TOTAL_SCALE``, the shrunk predictive SD, ``EPS`` comparisons, numpy's rounding), which
``tests/scoring/test_one_client.py`` holds equal on random histories.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig, Thresholds
from scoring.episodes import EPISODE_SEVERITY, TRIGGER_RULES, episode_text
from scoring.evaluate import evidence_number
from scoring.guidance import GUIDANCE, guidance_text
from scoring.history import EPS, TOTAL_SCALE
from scoring.instruments import Instrument, UnknownInstrument, get_instrument
from scoring.own_range import FAR, POSSIBLE, PROBABLE
from scoring.records import Record, ScoreRecords
from scoring.rules import (
    RULE_NAMES,
    SEVERITIES,
    _day_text,
    baseline_text,
    ceiling_text,
    cutoff_text,
    item_low_text,
    low_items_text,
    missing_text,
    talk_request_text,
    unrepaired_text,
    with_items,
)
from scoring.schema import (
    RATINGS,
    SESSIONS,
    ScoringInputError,
    duplicate_row,
    empty_values,
    ids_not_strings,
    item_empty,
    item_outside,
    missing_columns,
    not_dates,
    session_negative,
    sessions_not_whole,
    talk_empty,
    talk_not_bool,
    total_empty,
    total_outside,
    totals_not_numbers,
    unknown_instrument,
)
from scoring.summary import RECENT_SLOPE_WINDOW, RECENT_TOTALS, SUMMARY_COLUMNS
from scoring.vocabulary import EpisodeStatus, Level, Severity

_NAN = math.nan
_MAX = float(np.finfo(np.float64).max)
_EPOCH = dt.date(1970, 1, 1).toordinal()
_LEVELS: tuple[Level, ...] = tuple(Level)
_RULE_ORDER = {name: i for i, name in enumerate(RULE_NAMES)}
_BASELINE_SEVERITY = {POSSIBLE: Severity.info, PROBABLE: Severity.warning, FAR: Severity.urgent}


def score_client(
    ratings: Sequence[Mapping[str, Any]],
    sessions: Sequence[Mapping[str, Any]],
    *,
    today: dt.date,
    config: ScoringConfig = DEFAULT_CONFIG,
) -> ScoreRecords:
    """Score one client's whole history: ``evaluate``'s records for it, in plain Python.

    ``ratings`` and ``sessions`` are one record (mapping) per row, with the columns of
    ``scoring.schema``'s contract as keys (a rating's items as keys too; other
    instruments' items may be absent). Every record must name the same client. Values
    are checked as ``evaluate`` checks its frames, with the same refusals
    (``ScoringInputError``); numbers must be numbers (a numeric string is refused) and
    dates ``date``/``datetime``/``numpy.datetime64`` or ISO text.
    """
    client = _one_client(ratings, sessions)
    if client is None:
        return ScoreRecords(flags=[], episodes=[], summary=[], ranges=[])
    checked = _checked_ratings(ratings, client)
    held = _checked_sessions(sessions, client)
    today_day = dt.date(today.year, today.month, today.day).toordinal()
    timeline = _timeline(checked, held, today_day, config.rating_grace_days)

    flags: list[Record] = []
    episodes: list[Record] = []
    ranges: list[Record] = []
    walked = []
    for history in _histories(checked, config):
        walk = _walk(history)
        walked.append((history, walk))
        _history_flags(client, history, walk, flags)
        _history_episodes(client, history, walk, episodes)
        _history_ranges(client, history, walk, ranges)
    flags.extend(_missing_flags(client, checked, timeline, config))
    flags.sort(key=_flag_order)
    episodes.sort(key=_opened_session)
    for number, episode in enumerate(episodes, start=1):
        episode["episode_number"] = number
    summary = _summary(client, walked, flags, episodes, timeline)
    return ScoreRecords(flags=flags, episodes=episodes, summary=[summary], ranges=ranges)


# ---------------------------------------------------------------------------------------
# Input: records checked against scoring.schema's contract


class _Rating:
    """One checked rating."""

    __slots__ = ("day", "held_on", "instrument", "items", "session", "total", "wants")

    def __init__(
        self,
        session: int,
        held_on: dt.date,
        instrument: Instrument,
        total: float,
        wants: bool,
        items: tuple[float, ...],
    ) -> None:
        self.session = session
        self.held_on = held_on
        self.day = held_on.toordinal()
        self.instrument = instrument
        self.total = total
        self.wants = wants
        self.items = items


def _one_client(
    ratings: Sequence[Mapping[str, Any]], sessions: Sequence[Mapping[str, Any]]
) -> str | None:
    """The client every record names (None without records), or a refusal."""
    clients = set()
    for table, records in (("ratings", ratings), ("sessions", sessions)):
        for record in records:
            if not isinstance(record, Mapping):
                raise ScoringInputError(
                    f"{table} must be records (mappings), not {type(record).__name__}"
                )
            required = RATINGS.required if table == "ratings" else SESSIONS.required
            missing = [name for name in required if name not in record]
            if missing:
                raise missing_columns(table, missing)
            client = record["client_id"]
            if client is None or client != client:
                raise empty_values(table, "client_id")
            if not isinstance(client, str):
                raise ids_not_strings(table)
            clients.add(client)
    if len(clients) > 1:
        raise ScoringInputError(
            f"score_client scores one client; the records name {len(clients)}: "
            + ", ".join(sorted(clients))
        )
    return clients.pop() if clients else None


def _checked_ratings(records: Sequence[Mapping[str, Any]], client: str) -> list[_Rating]:
    out = []
    seen: set[int] = set()
    for record in records:
        session = _session_number(record["session_number"], "ratings")
        held_on = _date(record["held_on"], "ratings")
        instrument = _instrument(record["instrument"])
        total = _total(record["total"], client, session)
        if not instrument.total_min <= total <= instrument.total_max:
            raise total_outside(total, client, session, instrument)
        items = tuple(
            _item(record, key, client, session, instrument) for key in instrument.item_keys
        )
        wants = _wants(record["wants_to_talk"])
        if session in seen:
            raise duplicate_row("ratings", client, session)
        seen.add(session)
        out.append(_Rating(session, held_on, instrument, total, wants, items))
    return out


def _checked_sessions(records: Sequence[Mapping[str, Any]], client: str) -> dict[int, dt.date]:
    """Held sessions: the date of each, by session number."""
    out: dict[int, dt.date] = {}
    for record in records:
        session = _session_number(record["session_number"], "sessions")
        held_on = _date(record["held_on"], "sessions")
        if session in out:
            raise duplicate_row("sessions", client, session)
        out[session] = held_on
    return out


def _is_empty(value: object) -> bool:
    return value is None or value != value  # None, NaN, NaT


def _session_number(value: object, table: str) -> int:
    if type(value) is not int:
        if _is_empty(value):
            raise empty_values(table, "session_number")
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise sessions_not_whole(table)
        if not isinstance(value, numbers.Integral) and not float(value).is_integer():
            raise sessions_not_whole(table)
        value = int(value)
    if value < 0:
        raise session_negative(table)
    return value


def _date(value: object, table: str) -> dt.date:
    """The date of a held session; a datetime's own (local) date, its time dropped."""
    if type(value) is dt.date:
        return value
    if _is_empty(value):
        raise empty_values(table, "held_on")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[D]").item()
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError as exc:
            raise not_dates(table, exc) from None
    raise not_dates(table, f"{type(value).__name__} is not a date")


def _instrument(value: object) -> Instrument:
    if _is_empty(value):
        raise empty_values("ratings", "instrument")
    try:
        return get_instrument(value)  # type: ignore[arg-type]
    except (UnknownInstrument, TypeError):
        raise unknown_instrument(value) from None


def _total(value: object, client: str, session: int) -> float:
    if type(value) is not float:
        if value is None:
            raise total_empty(client, session)
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise totals_not_numbers()
        value = float(value)
    if value != value:
        raise total_empty(client, session)
    return value


def _item(
    record: Mapping[str, Any], key: str, client: str, session: int, instrument: Instrument
) -> float:
    value = record.get(key)
    if type(value) is not float:
        if value is None or isinstance(value, str) or not isinstance(value, numbers.Real):
            raise item_empty(key, client, session, instrument.id)
        value = float(value)
    if value != value:
        raise item_empty(key, client, session, instrument.id)
    if value < instrument.item_min or value > instrument.item_max:
        raise item_outside(key, value, client, session, instrument)
    return value


def _wants(value: object) -> bool:
    if value is True or value is False:
        return value
    if _is_empty(value):
        raise talk_empty()
    if isinstance(value, np.bool_) or (isinstance(value, numbers.Real) and value in (0, 1)):
        return bool(value)
    raise talk_not_bool()


# ---------------------------------------------------------------------------------------
# The walk: scoring.own_range for one history, a rating at a time


class _History:
    """One (client, instrument) history in session order, with its instrument's thresholds.

    Thresholds are read as the caseload path reads them (``np.float64`` of each), so the
    comparisons below are the same comparisons.
    """

    def __init__(self, instrument: Instrument, ratings: list[_Rating], t: Thresholds) -> None:
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


def _histories(ratings: list[_Rating], config: ScoringConfig) -> list[_History]:
    """The client's histories, one per instrument in instrument-id order (as ``evaluate``)."""
    by_instrument: dict[str, list[_Rating]] = {}
    for rating in ratings:
        by_instrument.setdefault(rating.instrument.id, []).append(rating)
    out = []
    for instrument_id in sorted(by_instrument):
        rows = sorted(by_instrument[instrument_id], key=lambda r: r.session)
        instrument = rows[0].instrument
        out.append(_History(instrument, rows, config.thresholds_for(instrument_id)))
    return out


class _Episode:
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


class _Walked:
    """Per rating of one history: ``OwnRange``'s columns; ``episodes`` in opening order."""

    def __init__(self, n: int) -> None:
        self.mean = [_NAN] * n
        self.sd = [_NAN] * n
        self.z = [_NAN] * n
        self.count = [0] * n
        self.level = [-1] * n
        self.episode = [-1] * n
        self.unrepaired_at = [False] * n
        self.episodes: list[_Episode] = []


def _walk(h: _History) -> _Walked:
    """``own_range`` for one history; see its module docstring for the rules."""
    totals = h.totals
    n = len(totals)
    out = _Walked(n)
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
    ep: _Episode | None = None
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
            ep = _Episode(i, m, s, is_far)
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


# ---------------------------------------------------------------------------------------
# Records: flags, episodes and ranges per history, missing ratings and the summary


def _flag(
    client: str,
    rating: _Rating,
    instrument: str | None,
    rule: str,
    severity: Severity,
    level: Level | None,
    explanation: str,
    evidence: dict[str, Any],
) -> Record:
    return {
        "client_id": client,
        "session_number": rating.session,
        "held_on": rating.held_on,
        "instrument": instrument,
        "rule": rule,
        "severity": severity.value,
        "level": None if level is None else level.value,
        "item": None,
        "explanation": explanation,
        "evidence": evidence,
        "guidance": guidance_text(rule, level),
        "rules_version": RULES_VERSION,
    }


def _flag_order(flag: Record) -> tuple[int, int]:
    return flag["session_number"], _RULE_ORDER[flag["rule"]]


def _opened_session(episode: Record) -> int:
    return episode["opened_session"]


def _low_items(h: _History, i: int) -> str:
    return low_items_text(h.instrument, h.ratings[i].items, h.t.item_cutoff)


def _history_flags(client: str, h: _History, w: _Walked, flags: list[Record]) -> None:
    """Every history rule's flags, as ``scoring.rules`` raises them."""
    ratings, totals, sessions = h.ratings, h.totals, h.sessions
    name = h.instrument.id
    n = len(totals)
    num = evidence_number

    for rating in ratings:
        if rating.wants:
            flags.append(
                _flag(
                    client,
                    rating,
                    name,
                    "client_wants_to_talk",
                    Severity.urgent,
                    None,
                    talk_request_text(rating.total),
                    {"value": num(rating.total)},
                )
            )

    within = int(h.repair_within)
    for i in range(n):
        if w.unrepaired_at[i]:
            e = w.episodes[w.episode[i]]
            text = unrepaired_text(
                sessions[e.opened],
                totals[e.opened],
                e.mean,
                h.repair_within,
                totals[e.lowest],
                sessions[e.lowest],
                totals[i],
            )
            evidence = {
                "value": num(totals[i]),
                "usual": num(e.mean),
                "recovery_line": num(e.line),
                "opened_session": sessions[e.opened],
                "lowest": num(totals[e.lowest]),
                "within": within,
            }
            flags.append(
                _flag(
                    client,
                    ratings[i],
                    name,
                    "rupture_not_repaired",
                    Severity.urgent,
                    None,
                    text,
                    evidence,
                )
            )

    thresholds = {POSSIBLE: h.possible, PROBABLE: h.probable}
    run = 0
    for i in range(n):
        episode = w.episode[i]
        run = run + 1 if episode >= 0 and i and w.episode[i - 1] == episode else 1
        level = w.level[i]
        if level < 0:
            continue
        value, mean = totals[i], w.mean[i]
        if episode >= 0:
            e = w.episodes[episode]
            opened, episode_mean = e.opened, e.mean
        else:
            opened, episode_mean = i, mean
        usual = episode_mean if mean != mean else mean
        below = usual - value
        text = baseline_text(
            level,
            value,
            usual,
            below,
            opened == i,
            run,
            totals[i - 1] if i else _NAN,
            sessions[i - run + 1],
            sessions[opened],
        )
        evidence = {
            "value": num(value),
            "usual": num(usual),
            "below_usual": num(below),
            "sd": num(w.sd[i]),
            "z": num(w.z[i]),
            "n": w.count[i],
            "threshold_sds": num(thresholds.get(level, h.far)),
            "clinic_sd": num(h.within_sd),
        }
        flags.append(
            _flag(
                client,
                ratings[i],
                name,
                "below_personal_baseline",
                _BASELINE_SEVERITY[level],
                _LEVELS[level],
                with_items(text, _low_items(h, i)),
                evidence,
            )
        )

    cutoff = float(h.t.total_cutoff)
    clear = float(h.t.cutoff_clear_run)
    below_line = cutoff - EPS
    below_flags = [x < below_line for x in totals]
    may_start = [not (m < below_line) for m in w.mean]
    min_prior = int(h.min_prior)
    known = w.mean[min_prior] if min_prior < n else _NAN
    for start, count, last, ended in _standing_runs(below_flags, may_start, clear):
        from_start = start < min_prior and min_prior < n and known < below_line
        text = cutoff_text(
            cutoff,
            count,
            ended,
            from_start,
            _day_text(ratings[start].day - _EPOCH),
            _day_text(ratings[last].day - _EPOCH),
            totals[start],
            totals[last],
            known,
        )
        evidence = {
            "value": num(totals[start]),
            "threshold": num(cutoff),
            "ratings_below": count,
            "latest_below": num(totals[last]),
            "ended": int(ended),
        }
        flags.append(
            _flag(
                client,
                ratings[start],
                name,
                "below_cutoff",
                Severity.talk,
                Level.from_start if from_start else None,
                with_items(text, _low_items(h, start)),
                evidence,
            )
        )

    item_cutoff = float(h.t.item_cutoff)
    item_line = item_cutoff - EPS
    low = [any(v < item_line for v in rating.items) for rating in ratings]
    for start, count, _, _ in _standing_runs(low, None, clear):
        text = item_low_text(_low_items(h, start), count, _day_text(ratings[start].day - _EPOCH))
        evidence = {
            "value": num(totals[start]),
            "threshold": num(item_cutoff),
            "ratings_with_low_item": count,
        }
        flags.append(
            _flag(client, ratings[start], name, "item_low", Severity.info, None, text, evidence)
        )

    ceiling_line = float(h.t.ceiling_total) - EPS
    needed = float(h.t.ceiling_run)
    at_ceiling = 0
    for i, x in enumerate(totals):
        at_ceiling = at_ceiling + 1 if x >= ceiling_line else 0
        if at_ceiling == needed:
            evidence = {"value": num(x), "run": at_ceiling, "threshold": int(needed)}
            flags.append(
                _flag(
                    client,
                    ratings[i],
                    name,
                    "ceiling_no_variance",
                    Severity.info,
                    None,
                    ceiling_text(x, at_ceiling),
                    evidence,
                )
            )


def _standing_runs(
    condition: list[bool], may_start: list[bool] | None, clear: float
) -> list[tuple[int, int, int, bool]]:
    """``scoring.rules.standing_runs`` for one history: (start, count, last, ended) per run.

    A segment begins at the first rating, or where the condition holds after ``clear``
    quiet ratings; its run begins at its first rating where the condition holds and
    ``may_start`` allows. Every segment but the last has ended.
    """
    runs: list[list[int]] = []  # per segment: [start (-1 until begun), count, last]
    quiet = 0
    for i, holds in enumerate(condition):
        if not runs or (holds and quiet >= clear):
            runs.append([-1, 0, -1])
        if holds:
            run = runs[-1]
            if run[0] < 0 and (may_start is None or may_start[i]):
                run[0] = i
            if run[0] >= 0:
                run[1] += 1
                run[2] = i
            quiet = 0
        else:
            quiet += 1
    last_ended = quiet >= clear
    return [
        (start, count, last, k < len(runs) - 1 or last_ended)
        for k, (start, count, last) in enumerate(runs)
        if start >= 0
    ]


def _history_episodes(client: str, h: _History, w: _Walked, out: list[Record]) -> None:
    """``rupture_episodes`` for one history (numbered once the client's are sorted)."""
    within = int(h.repair_within)
    for e in w.episodes:
        opened = h.ratings[e.opened]
        closed = h.ratings[e.closed] if e.closed >= 0 else None
        shown = closed or opened
        status = e.status.value
        out.append(
            {
                "client_id": client,
                "instrument": h.instrument.id,
                "episode_number": 0,
                "opened_session": opened.session,
                "opened_on": opened.held_on,
                "trigger_rule": TRIGGER_RULES[0],
                "pre_rupture_mean": _none_if_nan(e.mean),
                "pre_rupture_sd": _none_if_nan(e.sd),
                "recovery_threshold": _none_if_nan(e.line),
                "lowest_total": h.totals[e.lowest],
                "status": status,
                "closed_session": None if closed is None else closed.session,
                "closed_on": None if closed is None else closed.held_on,
                "severity": EPISODE_SEVERITY[e.status].value,
                "explanation": episode_text(
                    opened.session,
                    opened.total,
                    e.mean,
                    status,
                    shown.session,
                    shown.total,
                    e.line,
                    within,
                    h.totals[e.lowest],
                ),
                "rules_version": RULES_VERSION,
            }
        )


def _history_ranges(client: str, h: _History, w: _Walked, out: list[Record]) -> None:
    previous = _NAN
    for i, x in enumerate(h.totals):
        mean, sd = w.mean[i], w.sd[i]
        out.append(
            {
                "client_id": client,
                "session_number": h.sessions[i],
                "instrument": h.instrument.id,
                "total": x,
                "usual": _none_if_nan(mean),
                "usual_sd": _none_if_nan(sd),
                "usual_low": _none_if_nan(mean - h.possible * sd),
                "change_from_previous": _none_if_nan(x - previous),
                "in_episode": w.episode[i] >= 0,
            }
        )
        previous = x


def _none_if_nan(value: float) -> float | None:
    return None if value != value else value


class _Held:
    """A session on the client's timeline."""

    __slots__ = ("held_on", "overdue", "rated", "session")

    def __init__(self, session: int, held_on: dt.date, rated: bool, overdue: bool) -> None:
        self.session = session
        self.held_on = held_on
        self.rated = rated
        self.overdue = overdue


def _timeline(
    ratings: list[_Rating], held: dict[int, dt.date], today_day: int, grace_days: int
) -> list[_Held]:
    """``build_timeline`` for the client: every session held, in session order; a rated
    session missing from ``sessions`` is added from its rating. Unrated sessions count as
    overdue once the rating link has expired."""
    rated = {r.session: r.held_on for r in ratings}
    merged = {**rated, **held}  # a held session's own date wins, as in ``build_timeline``
    out = []
    for session in sorted(merged):
        held_on = merged[session]
        is_rated = session in rated
        overdue = not is_rated and today_day - held_on.toordinal() > grace_days
        out.append(_Held(session, held_on, is_rated, overdue))
    return out


def _missing_flags(
    client: str, ratings: list[_Rating], timeline: list[_Held], config: ScoringConfig
) -> list[Record]:
    """``missing_ratings`` for the client: a flag where a run of overdue sessions reaches
    ``missing_run``, carrying the whole run."""
    min_run = config.missing_run
    rated_sessions = sorted(r.session for r in ratings)
    instrument_of = {r.session: r.instrument.id for r in ratings}
    out = []
    run = 0
    last = len(timeline) - 1
    for k, entry in enumerate(timeline):
        run = run + 1 if entry.overdue else 0
        ends = entry.overdue and (k == last or not timeline[k + 1].overdue)
        if not ends or run < min_run:
            continue
        flagged = timeline[k - run + min_run]
        first = timeline[k - run + 1].session
        before = bisect_left(rated_sessions, flagged.session)  # the latest earlier rating
        out.append(
            {
                "client_id": client,
                "session_number": flagged.session,
                "held_on": flagged.held_on,
                "instrument": instrument_of[rated_sessions[before - 1]] if before else None,
                "rule": "missing_ratings",
                "severity": Severity.talk.value,
                "level": None,
                "item": None,
                "explanation": missing_text(run, first, entry.session),
                "evidence": {
                    "value": run,
                    "threshold": int(min_run),
                    "first_session": first,
                    "last_session": entry.session,
                    "grace_days": int(config.rating_grace_days),
                },
                "guidance": GUIDANCE["missing_ratings"],
                "rules_version": RULES_VERSION,
            }
        )
    return out


def _summary(
    client: str,
    walked: list[tuple[_History, _Walked]],
    flags: list[Record],
    episodes: list[Record],
    timeline: list[_Held],
) -> Record:
    """``caseload_summary``'s row for the client: its current history (the instrument of
    its latest rating), flags since its latest rating, overdue sessions after it."""
    record: Record = dict.fromkeys(SUMMARY_COLUMNS)
    record.update(client_id=client, ratings_count=0, recent_totals=[], repair_status="none")
    last_session = -1
    if walked:
        h, w = max(walked, key=lambda pair: pair[0].sessions[-1])
        last_session = h.sessions[-1]
        totals = h.totals
        count = len(totals)
        scaled = [round(x * TOTAL_SCALE) for x in totals]
        s1 = sum(scaled)
        s2 = sum(x * x for x in scaled)
        latest, usual, usual_sd = totals[-1], w.mean[-1], w.sd[-1]
        current = [e for e in episodes if e["instrument"] == h.instrument.id]
        record.update(
            instrument=h.instrument.id,
            ratings_count=count,
            last_session_number=last_session,
            last_held_on=h.ratings[-1].held_on,
            latest_total=latest,
            personal_mean=s1 / count / TOTAL_SCALE,
            recent_totals=totals[-RECENT_TOTALS:],
            repair_status=current[-1]["status"] if current else "none",
            usual_mean=_none_if_nan(usual),
            usual_sd=_none_if_nan(usual_sd),
            below_usual=_none_if_nan(usual - latest),
        )
        if count > 1:
            variance = (count * s2 - s1 * s1) / (count * (count - 1))
            window = slice(-RECENT_SLOPE_WINDOW, None)
            record.update(
                change_from_previous=latest - totals[-2],
                personal_sd=math.sqrt(max(variance, 0.0)) / TOTAL_SCALE,
                recent_slope=_theil_sen(h.sessions[window], totals[window]),
            )
    counts = dict.fromkeys(SEVERITIES, 0)
    for flag in flags:
        if flag["session_number"] >= last_session:
            counts[flag["severity"]] += 1
    record.update(counts)
    record["sessions_without_rating"] = sum(
        1 for entry in timeline if entry.overdue and entry.session > last_session
    )
    return record


def _theil_sen(x: list[int], y: list[float]) -> float:
    """``summary.theil_sen_slopes`` of one window: the median pairwise slope."""
    slopes = sorted(
        (y[j] - y[i]) / (x[j] - x[i]) for i in range(len(x)) for j in range(i + 1, len(x))
    )
    half, odd = divmod(len(slopes), 2)
    return slopes[half] if odd else (slopes[half - 1] + slopes[half]) / 2
