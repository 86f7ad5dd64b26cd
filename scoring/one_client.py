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
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scoring.client_input import CheckedRating, checked_ratings, checked_sessions, one_client
from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig
from scoring.episodes import EPISODE_SEVERITY, TRIGGER_RULES, episode_text
from scoring.evaluate import evidence_number
from scoring.guidance import GUIDANCE, guidance_text
from scoring.history import EPS, TOTAL_SCALE
from scoring.history_walk import History, Walked, histories, walk
from scoring.own_range import FAR, POSSIBLE, PROBABLE
from scoring.records import Record, ScoreRecords
from scoring.rules import (
    RULE_NAMES,
    SEVERITIES,
    baseline_text,
    ceiling_text,
    cutoff_text,
    date_text,
    item_low_text,
    low_items_text,
    missing_text,
    number_text,
    points_text,
    talk_request_text,
    unrepaired_text,
    with_items,
)
from scoring.summary import RECENT_SLOPE_WINDOW, RECENT_TOTALS, SUMMARY_COLUMNS
from scoring.vocabulary import Level, Severity

_NAN = math.nan
_LEVELS: tuple[Level, ...] = tuple(Level)
_RULE_ORDER = {name: i for i, name in enumerate(RULE_NAMES)}
_BASELINE_SEVERITY = {POSSIBLE: Severity.info, PROBABLE: Severity.warning, FAR: Severity.urgent}
_num = evidence_number


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
    client = one_client(ratings, sessions)
    if client is None:
        return ScoreRecords(flags=[], episodes=[], summary=[], ranges=[])
    checked = checked_ratings(ratings, client)
    held = checked_sessions(sessions, client)
    today_day = dt.date(today.year, today.month, today.day).toordinal()
    timeline = _timeline(checked, held, today_day, config.rating_grace_days)

    flags: list[Record] = []
    episodes: list[Record] = []
    ranges: list[Record] = []
    walked = []
    for history in histories(checked, config):
        walked_history = walk(history)
        walked.append((history, walked_history))
        for rule_flags in _HISTORY_RULES:
            flags.extend(rule_flags(client, history, walked_history))
        _history_episodes(client, history, walked_history, episodes)
        _history_ranges(client, history, walked_history, ranges)
    flags.extend(_missing_flags(client, checked, timeline, config))
    flags.sort(key=_flag_order)
    episodes.sort(key=_opened_session)
    for number, episode in enumerate(episodes, start=1):
        episode["episode_number"] = number
    summary = _summary(client, walked, flags, episodes, timeline)
    return ScoreRecords(flags=flags, episodes=episodes, summary=[summary], ranges=ranges)


def _flag(
    client: str,
    rating: CheckedRating,
    instrument: str | None,
    rule: str,
    severity: Severity,
    level: Level | None,
    explanation: str,
    evidence: dict[str, Any],
) -> Record:
    """A flag on a rating, with the guidance for its rule and level."""
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


def _low_items(h: History, i: int) -> str:
    return low_items_text(h.instrument, h.ratings[i].items, h.t.item_cutoff)


def _talk_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.client_wants_to_talk``."""
    return [
        _flag(
            client,
            rating,
            h.instrument.id,
            "client_wants_to_talk",
            Severity.urgent,
            None,
            talk_request_text(rating.total),
            {"value": _num(rating.total)},
        )
        for rating in h.ratings
        if rating.wants
    ]


def _unrepaired_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.rupture_not_repaired``."""
    totals, sessions = h.totals, h.sessions
    out = []
    for i, unrepaired in enumerate(w.unrepaired_at):
        if not unrepaired:
            continue
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
            "value": _num(totals[i]),
            "usual": _num(e.mean),
            "recovery_line": _num(e.line),
            "opened_session": sessions[e.opened],
            "lowest": _num(totals[e.lowest]),
            "within": int(h.repair_within),
        }
        out.append(
            _flag(
                client,
                h.ratings[i],
                h.instrument.id,
                "rupture_not_repaired",
                Severity.urgent,
                None,
                text,
                evidence,
            )
        )
    return out


def _baseline_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.below_personal_baseline``."""
    totals, sessions = h.totals, h.sessions
    thresholds = {POSSIBLE: h.possible, PROBABLE: h.probable}
    out = []
    run = 0  # ratings of the rating's episode up to it (1 outside an episode)
    for i, level in enumerate(w.level):
        episode = w.episode[i]
        run = run + 1 if episode >= 0 and i and w.episode[i - 1] == episode else 1
        if level < 0:
            continue
        value, mean = totals[i], w.mean[i]
        if episode >= 0:
            opened, episode_mean = w.episodes[episode].opened, w.episodes[episode].mean
        else:
            opened, episode_mean = i, mean
        usual = episode_mean if mean != mean else mean
        below = usual - value
        text = baseline_text(
            level,
            number_text(value),
            number_text(usual),
            points_text(below),
            opened == i,
            run,
            number_text(totals[i - 1] if i else _NAN),
            sessions[i - run + 1],
            sessions[opened],
        )
        evidence = {
            "value": _num(value),
            "usual": _num(usual),
            "below_usual": _num(below),
            "sd": _num(w.sd[i]),
            "z": _num(w.z[i]),
            "n": w.count[i],
            "threshold_sds": _num(thresholds.get(level, h.far)),
            "clinic_sd": _num(h.within_sd),
        }
        out.append(
            _flag(
                client,
                h.ratings[i],
                h.instrument.id,
                "below_personal_baseline",
                _BASELINE_SEVERITY[level],
                _LEVELS[level],
                with_items(text, _low_items(h, i)),
                evidence,
            )
        )
    return out


def _cutoff_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.below_cutoff``."""
    ratings, totals = h.ratings, h.totals
    n = len(totals)
    cutoff = float(h.t.total_cutoff)
    below_line = cutoff - EPS
    below = [x < below_line for x in totals]
    may_start = [not (m < below_line) for m in w.mean]  # an unknown range may start a run
    min_prior = int(h.min_prior)
    known = w.mean[min_prior] if min_prior < n else _NAN  # the range once first known
    out = []
    for start, count, last, ended in _standing_runs(below, may_start, h.t.cutoff_clear_run):
        from_start = start < min_prior and min_prior < n and known < below_line
        text = cutoff_text(
            number_text(cutoff),
            count,
            ended,
            from_start,
            date_text(ratings[start].held_on),
            date_text(ratings[last].held_on),
            number_text(totals[start]),
            number_text(totals[last]),
            number_text(known),
        )
        evidence = {
            "value": _num(totals[start]),
            "threshold": _num(cutoff),
            "ratings_below": count,
            "latest_below": _num(totals[last]),
            "ended": int(ended),
        }
        out.append(
            _flag(
                client,
                ratings[start],
                h.instrument.id,
                "below_cutoff",
                Severity.talk,
                Level.from_start if from_start else None,
                with_items(text, _low_items(h, start)),
                evidence,
            )
        )
    return out


def _item_low_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.item_low``."""
    ratings = h.ratings
    item_cutoff = float(h.t.item_cutoff)
    line = item_cutoff - EPS
    low = [any(v < line for v in rating.items) for rating in ratings]
    out = []
    for start, count, _, _ in _standing_runs(low, None, h.t.cutoff_clear_run):
        text = item_low_text(_low_items(h, start), count, date_text(ratings[start].held_on))
        evidence = {
            "value": _num(h.totals[start]),
            "threshold": _num(item_cutoff),
            "ratings_with_low_item": count,
        }
        out.append(
            _flag(
                client,
                ratings[start],
                h.instrument.id,
                "item_low",
                Severity.info,
                None,
                text,
                evidence,
            )
        )
    return out


def _ceiling_flags(client: str, h: History, w: Walked) -> list[Record]:
    """``rules.ceiling_no_variance``."""
    line = float(h.t.ceiling_total) - EPS
    needed = float(h.t.ceiling_run)
    out = []
    run = 0
    for i, x in enumerate(h.totals):
        run = run + 1 if x >= line else 0
        if run == needed:
            out.append(
                _flag(
                    client,
                    h.ratings[i],
                    h.instrument.id,
                    "ceiling_no_variance",
                    Severity.info,
                    None,
                    ceiling_text(x, run),
                    {"value": _num(x), "run": run, "threshold": int(needed)},
                )
            )
    return out


#: ``rules.HISTORY_RULES`` for one history, in the same order (a rule added there and not
#: here fails tests/scoring/test_one_client.py).
_HISTORY_RULES: tuple[Callable[[str, History, Walked], list[Record]], ...] = (
    _talk_flags,
    _unrepaired_flags,
    _baseline_flags,
    _cutoff_flags,
    _item_low_flags,
    _ceiling_flags,
)


def _standing_runs(
    condition: list[bool], may_start: list[bool] | None, clear_run: float
) -> list[tuple[int, int, int, bool]]:
    """``scoring.rules.standing_runs`` for one history: (start, count, last, ended) per run.

    A segment begins at the first rating, or where the condition holds after ``clear_run``
    quiet ratings; its run begins at its first rating where the condition holds and
    ``may_start`` allows. Every segment but the last has ended.
    """
    clear = float(clear_run)
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


def _history_episodes(client: str, h: History, w: Walked, out: list[Record]) -> None:
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


def _history_ranges(client: str, h: History, w: Walked, out: list[Record]) -> None:
    """``evaluate``'s ranges for one history: the range each rating was judged by."""
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
    ratings: list[CheckedRating], held: dict[int, dt.date], today_day: int, grace_days: int
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
    client: str, ratings: list[CheckedRating], timeline: list[_Held], config: ScoringConfig
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
    walked: list[tuple[History, Walked]],
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
