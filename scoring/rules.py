"""The flag rules: each a small named function over the whole caseload at once.

Every rule takes the sorted ``RatingHistory`` and the client's own range (``OwnRange``)
and returns the rows it flags with their numbers. A flag on session k only ever looks at
ratings up to and including k, except that a standing condition's flag (raised once, where
the condition began) carries the run as it goes on. Thresholds come from
``ScoringConfig``; sources are in each docstring. Explanations give numbers in points;
SDs and thresholds stay in the evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from scoring.history import EPS, RatingHistory, SessionTimeline, run_length
from scoring.instruments import Instrument, Item, get_instrument
from scoring.own_range import FAR, POSSIBLE, PROBABLE, OwnRange
from scoring.vocabulary import Level, Severity

SEVERITIES: tuple[str, ...] = tuple(Severity)
LEVELS: tuple[str, ...] = tuple(Level)
FROM_START = LEVELS.index(Level.from_start)


@dataclass(frozen=True, kw_only=True)
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


@lru_cache(maxsize=4096)
def number_text(value: float) -> str:
    """'37.5', '38': totals repeat a lot, so each distinct value is formatted once."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def points_text(value: float) -> str:
    """'1 point', '4.5 points'."""
    text = number_text(value)
    return f"{text} point{'' if text == '1' else 's'}"


def _days(values: np.ndarray) -> list[str]:
    """'03 Nov 2026' for each date, the one way the product writes a date."""
    return [_day_text(d) for d in values.astype("datetime64[D]").astype(np.int64).tolist()]


@lru_cache(maxsize=4096)
def _day_text(days: int) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%d %b %Y")


def date_text(day: date) -> str:
    """``_days`` of one date."""
    return _day_text(day.toordinal() - _EPOCH_ORDINAL)


_EPOCH = date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()


def _constant(severity: Severity, n: int) -> np.ndarray:
    return np.full(n, SEVERITIES.index(severity), dtype=np.int64)


def low_items_texts(h: RatingHistory, rows: np.ndarray) -> list[str]:
    """The items of each rating under the item cutoff, in the words a clinician uses.

    'felt less listened to (7.5 of 10) and was less sure the session focused on what
    matters to them (8)'; empty when no item is low. Built column-wise (object arrays),
    one pass per instrument and per combination of low items, not one per rating.
    """
    out = np.full(len(rows), "", dtype=object)
    codes = h.instrument[rows]
    for code in np.unique(codes).tolist():
        at = np.flatnonzero(codes == code)
        instrument = get_instrument(h.instrument_ids[code])
        cutoff = h.thresholds[code].item_cutoff - EPS
        scale = _item_scale(instrument)
        values = [h.items[item.key][rows[at]] for item in instrument.items]
        low = np.column_stack([v < cutoff for v in values])
        pattern = low @ (1 << np.arange(len(values)))
        for combo in np.unique(pattern[pattern > 0]).tolist():
            sel = np.flatnonzero(pattern == combo)
            low_here = [i for i in range(len(values)) if combo >> i & 1]
            # ratings repeat: write each distinct set of low values once
            key = np.zeros(len(sel), np.int64)
            for i in low_here:
                uniques, inverse = np.unique(values[i][sel], return_inverse=True)
                key = key * len(uniques) + inverse.reshape(-1)
                key = np.unique(key, return_inverse=True)[1].reshape(-1)
            _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
            picked = sel[first]
            parts = [
                _low_item(instrument.items[i], _nums(values[i][picked]), scale, n == 0)
                for n, i in enumerate(low_here)
            ]
            out[at[sel]] = _joined(parts)[inverse.reshape(-1)]
    return out.tolist()


def low_items_text(instrument: Instrument, values: Sequence[float], item_cutoff: float) -> str:
    """``low_items_texts`` for one rating: its item values in the instrument's item order."""
    cutoff = item_cutoff - EPS
    scale = _item_scale(instrument)
    parts: list[str] = []
    for item, value in zip(instrument.items, values, strict=True):
        if value < cutoff:
            parts.append(_low_item(item, number_text(value), scale, not parts))
    return _joined(parts) if parts else ""


def _item_scale(instrument: Instrument) -> str:
    return f" of {number_text(float(instrument.item_max))}"


def _low_item(item: Item, value: Any, scale: str, first: bool) -> Any:
    """'felt less listened to (7.5 of 10)'; the scale only after the first low item.

    ``value`` is a number's text, or an object array of them (one per rating).
    """
    return f"{item.low_phrase} (" + value + (f"{scale})" if first else ")")


def _joined(parts: list[Any]) -> Any:
    """'a', 'a and b', 'a, b and c': of texts, or elementwise of object arrays of texts."""
    text = parts[0]
    for part in parts[1:-1]:
        text = text + ", " + part
    if len(parts) > 1:
        text = text + " and " + parts[-1]
    return text


def _nums(values: np.ndarray, fmt: Callable[[float], str] = number_text) -> np.ndarray:
    """``fmt`` (``number_text``) of many values, each distinct value once, as an object array
    that adds to strings elementwise."""
    unique, inverse = np.unique(values, return_inverse=True)
    return np.array([fmt(v) for v in unique.tolist()], dtype=object)[inverse.reshape(-1)]


def _with_items(lines: list[str], h: RatingHistory, rows: np.ndarray) -> list[str]:
    """Each line followed by the low items of its rating, when there are any."""
    return [
        with_items(line, items) for line, items in zip(lines, low_items_texts(h, rows), strict=True)
    ]


def with_items(line: str, items: str) -> str:
    """A flag's line followed by the low items of its rating (``low_items_text``), if any."""
    return f"{line} The client {items}." if items else line


def client_wants_to_talk(h: RatingHistory, own: OwnRange) -> RuleHits:
    """The client ticked "I'd like to talk about how our sessions are going".

    Source: a direct request is the clearest rupture marker there is (Safran & Muran 2000).
    It is the client's own words, not a score: urgent whatever the numbers, never part of a
    numeric rupture episode, and never closed by scoring; it waits for the therapist.
    """
    rows = np.flatnonzero(h.wants_to_talk)
    value = h.total[rows]
    text = [talk_request_text(v) for v in value.tolist()]
    return RuleHits(
        rule="client_wants_to_talk",
        severity=_constant(Severity.urgent, len(rows)),
        rows=rows,
        explanation=text,
        evidence={"value": value},
    )


def talk_request_text(total: float) -> str:
    return (
        f"The client asked to talk about how your sessions are going (total {number_text(total)})."
    )


def below_personal_baseline(h: RatingHistory, own: OwnRange) -> RuleHits:
    """A rating below the client's own usual range (see ``scoring.own_range``).

    possible (info): one rating ``possible_sds`` below the range: often ordinary
    week-to-week movement, a reason to check in. probable (warning): ``probable_sds``
    below, or a run of lower ratings whose shortfall adds up to ``drift_sds`` (CUSUM,
    Page 1954; see ``scoring.own_range``): a likely rupture, the repair steps apply.
    far (urgent): ``far_sds`` below and at least a reliable change (Jacobson & Truax 1991,
    from test-retest reliability) in points: far outside anything this client has shown,
    worth contact before the next session. A sharp and a confirmed route after Gumz et al.
    (2012); thresholds set on the realistic simulation (``make bench``).
    """
    rows = np.flatnonzero(own.level >= 0)
    level = own.level[rows]
    severity = np.select(
        [level == POSSIBLE, level == PROBABLE, level == FAR],
        [SEVERITIES.index(s) for s in (Severity.info, Severity.warning, Severity.urgent)],
    )
    value, mean, sd, z = h.total[rows], own.mean[rows], own.sd[rows], own.z[rows]
    episode = own.episode[rows]
    opened = np.where(
        episode >= 0, own.opened[np.maximum(episode, 0)] if len(own.opened) else rows, rows
    )
    episode_mean = np.where(
        episode >= 0,
        own.episode_mean[np.maximum(episode, 0)] if len(own.opened) else mean,
        mean,
    )
    below = np.where(np.isnan(mean), episode_mean - value, mean - value)
    usual = np.where(np.isnan(mean), episode_mean, mean)
    run = _episode_run(own, rows)
    text = list(
        map(
            baseline_text,
            level.tolist(),
            _nums(value).tolist(),
            _nums(usual).tolist(),
            _nums(below, points_text).tolist(),
            (opened == rows).tolist(),
            run.tolist(),
            _nums(h.previous[rows]).tolist(),
            h.session[rows - run + 1].tolist(),
            h.session[opened].tolist(),
        )
    )
    text = _with_items(text, h, rows)
    return RuleHits(
        rule="below_personal_baseline",
        severity=severity.astype(np.int64),
        rows=rows,
        explanation=text,
        evidence={
            "value": value,
            "usual": usual,
            "below_usual": below,
            "sd": sd,
            "z": z,
            "n": own.n[rows],
            "threshold_sds": np.select(
                [level == POSSIBLE, level == PROBABLE],
                [h.per_row("possible_sds", rows), h.per_row("probable_sds", rows)],
                h.per_row("far_sds", rows),
            ),
            "clinic_sd": h.per_row("within_sd", rows),
        },
        level=level,
    )


def baseline_text(
    level: int,
    value: str,
    usual: str,
    below: str,
    opened_here: bool,
    run: int,
    previous: str,
    run_from: int,
    opened_session: int,
) -> str:
    """A ``below_personal_baseline`` flag's line, without its low items.

    ``level`` codes into ``Level``; ``opened_here``: the rating opened its episode, the
    ``run``-th lower rating in a row since session ``run_from`` (``previous`` the total
    before it); ``opened_session``: where its episode opened. Numbers come written
    (``number_text``; ``below`` by ``points_text``), so a caseload writes each once.
    """
    head = f"Total {value} is {below} below this client's usual {usual}"
    if level == POSSIBLE:
        return f"{head}. One lower rating like this is often an ordinary week; check in."
    if level == PROBABLE and opened_here and run == 2:
        return (
            f"{head}, the second lower rating in a row (after {previous}). "
            "A strain in the relationship is likely."
        )
    if level == PROBABLE and opened_here and run > 2:
        return (
            f"{head}, the {_ordinal(run)} lower rating in a row (since session "
            f"{run_from}). A strain in the relationship is likely."
        )
    if level == PROBABLE:
        return f"{head}. A strain in the relationship is likely."
    if opened_here:
        return f"{head}, far lower than anything this client has rated before."
    return (
        f"{head}: the drop that began at session {opened_session} has gone "
        "far below anything this client has rated before."
    )


def _episode_run(own: OwnRange, rows: np.ndarray) -> np.ndarray:
    """Per row, how many ratings of its episode lead up to it (1 outside an episode).

    An episode opened by a run of lower ratings holds the whole run (``own_range``).
    """
    n = len(own.episode)
    idx = np.arange(n)
    same = np.zeros(n, bool)
    if n > 1:
        same[1:] = (own.episode[1:] == own.episode[:-1]) & (own.episode[1:] >= 0)
    start = np.maximum.accumulate(np.where(same, 0, idx)) if n else idx
    return (idx - start + 1)[rows]


def _ordinal(k: int) -> str:
    words = ("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")
    return words[k - 3] if 3 <= k <= 10 else f"{k}th"


def rupture_not_repaired(h: RatingHistory, own: OwnRange) -> RuleHits:
    """A rupture episode that has not come back within ``repair_within`` ratings of its
    lowest point.

    Source: unrepaired ruptures go with worse outcomes and dropout (Eubanks, Muran &
    Safran 2018; Larsson et al. 2018), so one left open is urgent: raise it before the
    next session, consider supervision, and talk about fit. Raised once, at the rating
    where the episode was judged unrepaired.
    """
    rows = np.flatnonzero(own.unrepaired_at)
    episode = own.episode[rows]
    opened, lowest = own.opened[episode], own.lowest[episode]
    usual, line = own.episode_mean[episode], own.recovery_line[episode]
    within = h.per_row("repair_within", rows)
    text = list(
        map(
            unrepaired_text,
            h.session[opened].tolist(),
            h.total[opened].tolist(),
            usual.tolist(),
            within.tolist(),
            h.total[lowest].tolist(),
            h.session[lowest].tolist(),
            h.total[rows].tolist(),
        )
    )
    return RuleHits(
        rule="rupture_not_repaired",
        severity=_constant(Severity.urgent, len(rows)),
        rows=rows,
        explanation=text,
        evidence={
            "value": h.total[rows],
            "usual": usual,
            "recovery_line": line,
            "opened_session": h.session[opened],
            "lowest": h.total[lowest],
            "within": within.astype(np.int64),
        },
    )


def unrepaired_text(
    opened_session: int,
    opened_total: float,
    usual: float,
    within: float,
    lowest: float,
    lowest_session: int,
    latest: float,
) -> str:
    return (
        f"The drop that began at session {opened_session} (total {number_text(opened_total)} "
        f"against a usual {number_text(usual)}) has not come back within {int(within)} ratings of "
        f"its lowest point ({number_text(lowest)} at session {lowest_session}); "
        f"latest {number_text(latest)}."
    )


@dataclass(frozen=True)
class Runs:
    """Standing conditions: where each run began, how many ratings it holds, and its last."""

    start: np.ndarray
    count: np.ndarray
    last: np.ndarray
    ended: np.ndarray


def standing_runs(
    h: RatingHistory, condition: np.ndarray, may_start: np.ndarray, clear: np.ndarray
) -> Runs:
    """Runs of a standing condition, each to be flagged once where it began.

    A run begins at a rating where the condition holds and ``may_start`` allows, takes in
    every later rating where it holds, and ends after ``clear`` ratings in a row without
    it; only then can a new run (and a new flag) begin.
    """
    n = len(h)
    quiet = run_length(~condition, h.group_start)
    previous_quiet = np.zeros(n, np.int64)
    previous_quiet[1:] = quiet[:-1]
    new_segment = h.group_start | (condition & (previous_quiet >= clear))
    segment = np.cumsum(new_segment) - 1
    # Rows ascend and segments with them, so a segment's first or last row is where the
    # segment number changes: no unbuffered ``ufunc.at`` over a million rows.
    candidates = np.flatnonzero(condition & may_start)
    runs = segment[candidates]
    opens = _changes(runs)
    runs, start = runs[opens], candidates[opens]
    first = np.full(int(segment[-1]) + 1 if n else 0, n, np.int64)
    first[runs] = start
    member = np.flatnonzero(condition & (first[segment] <= np.arange(n)))
    of_member = segment[member]
    count = np.bincount(of_member, minlength=len(first))[runs]
    is_last = _changes(of_member[::-1])[::-1]
    last = np.full(len(first), -1, np.int64)
    last[of_member[is_last]] = member[is_last]
    # ended: the segment's history goes on for ``clear`` quiet ratings after its last
    segment_end = np.flatnonzero(np.append(new_segment[1:], True))[runs]
    ended = quiet[segment_end] >= clear[segment_end]
    return Runs(start, count, last[runs], ended.astype(bool))


def _changes(sorted_values: np.ndarray) -> np.ndarray:
    """True where a value differs from the one before (and at the first)."""
    out = np.ones(len(sorted_values), bool)
    out[1:] = sorted_values[1:] != sorted_values[:-1]
    return out


def below_cutoff(h: RatingHistory, own: OwnRange) -> RuleHits:
    """A run of totals under the instrument's clinical cutoff (alliance4: < 36), flagged once.

    Source: the Session Rating Scale convention that totals under 36 signal an alliance
    worth discussing (Miller & Duncan 2000; Duncan et al. 2003). One flag where the run
    begins, carrying the run; a new one only after ``cutoff_clear_run`` ratings at or above
    the cutoff. A client whose own usual level is below the cutoff is judged against that
    level instead (``below_personal_baseline``); if it was so from the first ratings, the
    one flag says the alliance may never have formed, and the guidance turns to fit,
    goals and, where it serves the client, a referral.
    """
    cutoff = h.per_row("total_cutoff")
    below = h.total < cutoff - EPS
    own_level_low = own.mean < cutoff - EPS  # False while the range is unknown (NaN)
    runs = standing_runs(h, below, ~own_level_low, h.per_row("cutoff_clear_run"))
    rows = runs.start
    min_prior = h.per_row("baseline_min_prior").astype(np.int64)
    # from the start: the run began among the first ratings and the range, once known, is low
    known_at = h.group_first_index + min_prior
    known = np.minimum(known_at, len(h) - 1) if len(h) else known_at
    from_start = (
        (h.position[rows] < min_prior[rows])
        & (known_at[rows] < len(h))
        & (h.group_first_index[known[rows]] == h.group_first_index[rows])
        & (own.mean[known[rows]] < cutoff[rows] - EPS)
    )
    level = np.where(from_start, FROM_START, -1)
    text = list(
        map(
            cutoff_text,
            _nums(cutoff[rows]).tolist(),
            runs.count.tolist(),
            runs.ended.tolist(),
            from_start.tolist(),
            _days(h.held_on[rows]),
            _days(h.held_on[runs.last]),
            _nums(h.total[rows]).tolist(),
            _nums(h.total[runs.last]).tolist(),
            _nums(own.mean[known[rows]]).tolist() if len(rows) else [],
        )
    )
    text = _with_items(text, h, rows)
    return RuleHits(
        rule="below_cutoff",
        severity=_constant(Severity.talk, len(rows)),
        rows=rows,
        explanation=text,
        evidence={
            "value": h.total[rows],
            "threshold": cutoff[rows],
            "ratings_below": runs.count,
            "latest_below": h.total[runs.last],
            "ended": runs.ended.astype(np.int64),
        },
        level=level,
    )


def cutoff_text(
    cutoff: str,
    count: int,
    ended: bool,
    from_start: bool,
    since: str,
    until: str,
    value: str,
    latest: str,
    usual: str,
) -> str:
    """A ``below_cutoff`` flag's line, without its low items: a run of ``count`` ratings
    from the day ``since`` to ``until`` (first ``value``, last ``latest``). Numbers come
    written (``number_text``), so a caseload writes each once."""
    if from_start:
        return (
            f"Below {cutoff} from the first sessions (usual {usual}): the "
            "working alliance may never have fully formed. Later ratings are judged "
            "against this client's own level."
        )
    if ended:
        return (
            f"Below {cutoff} in {count} rating{'s' if count > 1 else ''} from {since} to "
            f"{until}; at or above {cutoff} since."
        )
    if count > 1:
        return f"Below {cutoff} in {count} ratings since {since} (latest below: {latest})."
    return f"Total {value} is below {cutoff}, the level worth talking over."


def item_low(h: RatingHistory, own: OwnRange) -> RuleHits:
    """A run of ratings with an item under the item cutoff (alliance4: < 9), flagged once.

    Source: SRS practice of discussing any item marked below 9 of 10 (Duncan et al. 2003).
    Context (info): it names which part of the alliance (bond, goals, way of working) was
    rated lower, also in the total's own flags. On realistic near-ceiling data a talk
    flag per low item per session was most of the alert burden and rarely a rupture.
    """
    low = np.zeros(len(h), bool)
    for code, instrument_id in enumerate(h.instrument_ids):
        cutoff = h.thresholds[code].item_cutoff
        in_instrument = h.instrument == code
        for key in get_instrument(instrument_id).item_keys:
            low |= in_instrument & (h.items[key] < cutoff - EPS)
    runs = standing_runs(h, low, np.ones(len(h), bool), h.per_row("cutoff_clear_run"))
    rows = runs.start
    text = list(
        map(item_low_text, low_items_texts(h, rows), runs.count.tolist(), _days(h.held_on[rows]))
    )
    return RuleHits(
        rule="item_low",
        severity=_constant(Severity.info, len(rows)),
        rows=rows,
        explanation=text,
        evidence={
            "value": h.total[rows],
            "threshold": h.per_row("item_cutoff", rows),
            "ratings_with_low_item": runs.count,
        },
    )


def item_low_text(items: str, count: int, since: str) -> str:
    return f"The client {items}" + (
        f"; an item was low in {count} ratings since {since}." if count > 1 else "."
    )


def ceiling_no_variance(h: RatingHistory, own: OwnRange) -> RuleHits:
    """Three or more consecutive perfect totals; flagged once, where the run reaches 3.

    Source: ceiling effects make client-rated alliance insensitive (Tryon, Blackwell &
    Hammel 2008); Duncan et al. (2003) advise inviting honest feedback. For the clinician:
    perfect scores may be politeness; ask what could be better.
    """
    ceiling = h.per_row("ceiling_total")
    run = run_length(h.total >= ceiling - EPS, h.group_start)
    needed = h.per_row("ceiling_run")
    rows = np.flatnonzero(run == needed)
    value, r = h.total[rows], run[rows]
    text = list(map(ceiling_text, value.tolist(), r.tolist()))
    return RuleHits(
        rule="ceiling_no_variance",
        severity=_constant(Severity.info, len(rows)),
        rows=rows,
        explanation=text,
        evidence={"value": value, "run": r, "threshold": needed[rows].astype(np.int64)},
    )


def ceiling_text(value: float, run: int) -> str:
    return (
        f"Perfect total of {number_text(value)} for {run} sessions in a row; there may be feedback "
        f"the client isn't giving."
    )


def missing_ratings(timeline: SessionTimeline, min_run: int, grace_days: int) -> RuleHits:
    """Two or more consecutive sessions without a rating, flagged once per run.

    Source: dropping out of routine feedback often precedes dropout from therapy
    (Lambert 2015; Miller et al. 2006). A session only counts once its rating link has
    expired (``rating_grace_days``). The flag sits on the session where the run reached
    ``min_run`` and carries the run as it grows. For the clinician: the client has gone
    quiet; ask how the feedback is going for them.
    """
    run = run_length(timeline.overdue, timeline.client_start)
    n = len(run)
    run_ends = np.ones(n, dtype=bool)
    if n:
        run_ends[:-1] = ~timeline.overdue[1:] | timeline.client_start[1:]
    ends = np.flatnonzero(timeline.overdue & run_ends & (run >= min_run))
    length = run[ends]
    rows = ends - length + min_run
    first = timeline.session[ends - length + 1] if len(ends) else timeline.session[ends]
    last = timeline.session[ends]
    text = list(map(missing_text, length.tolist(), first.tolist(), last.tolist()))
    return RuleHits(
        rule="missing_ratings",
        severity=_constant(Severity.talk, len(rows)),
        rows=rows,
        explanation=text,
        evidence={
            "value": length,
            "threshold": np.full(len(rows), min_run, dtype=np.int64),
            "first_session": first,
            "last_session": last,
            "grace_days": np.full(len(rows), grace_days, dtype=np.int64),
        },
    )


def missing_text(count: int, first: int, last: int) -> str:
    return f"No rating for {count} sessions in a row (sessions {first} to {last})."


#: Rules over the rating history, in the order flags of one session are listed.
HISTORY_RULES = (
    client_wants_to_talk,
    rupture_not_repaired,
    below_personal_baseline,
    below_cutoff,
    item_low,
    ceiling_no_variance,
)
RULE_NAMES: tuple[str, ...] = (*tuple(r.__name__ for r in HISTORY_RULES), "missing_ratings")
#: The client's own request: never part of an episode, never closed by scoring.
CLIENT_REQUEST_RULE = client_wants_to_talk.__name__
#: Rules whose flags belong to a numeric rupture episode and close when it is repaired.
EPISODE_RULES: tuple[str, ...] = ("below_personal_baseline",)
