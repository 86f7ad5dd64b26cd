"""Score a caseload: ratings and sessions in, explained flags, episodes and a summary out."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat

import numpy as np
import pandas as pd

from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig
from scoring.episodes import rupture_episodes
from scoring.frames import build_frame, categorical, object_array
from scoring.guidance import GUIDANCE_TEXTS, guidance_codes
from scoring.history import RatingHistory, SessionTimeline, build_history, build_timeline
from scoring.instruments import all_item_keys
from scoring.own_range import OwnRange, own_range
from scoring.rules import HISTORY_RULES, LEVELS, RULE_NAMES, SEVERITIES, RuleHits, missing_ratings
from scoring.schema import check_ratings, check_sessions
from scoring.summary import caseload_summary

FLAG_COLUMNS: tuple[str, ...] = (
    "client_id",
    "session_number",
    "held_on",
    "instrument",
    "rule",
    "severity",
    "level",
    "item",
    "explanation",
    "evidence",
    "guidance",
    "rules_version",
)

#: Per rating, the range scoring judged it by: what a chart of the client draws.
RANGE_COLUMNS: tuple[str, ...] = (
    "client_id",
    "session_number",
    "instrument",
    "total",
    "usual",
    "usual_sd",
    "usual_low",
    "change_from_previous",
    "in_episode",
)


@dataclass(frozen=True)
class Evaluation:
    """Everything scoring says about a caseload, as plain DataFrames for the backend.

    ``flags`` (``FLAG_COLUMNS``), one row per (client, session, rule[, item]), sorted by
    client_id, session_number, rule order, item order:
    client_id object[str]; session_number int64; held_on datetime64[ns] (midnight);
    instrument, rule, severity, level, item, guidance, rules_version: category (null as
    NaN; instrument is null for a missing_ratings flag before any rating); explanation
    object[str]; evidence object[dict[str, int | float | None]] (plain Python numbers,
    JSON-serialisable; floats rounded to 4 places). The evidence dicts are made when
    ``flags`` is first read; until then they are the rules' columns (``evidence``).

    ``episodes`` (``EPISODE_COLUMNS``), sorted by client_id, opened_session: text columns
    object[str]; episode_number, opened_session int64; opened_on, closed_on
    datetime64[ns] (NaT while open); closed_session Int64 (NA while open); means, SDs,
    thresholds and lowest_total float64 (pre_rupture_mean/sd NaN with no earlier rating).

    ``summary`` (``SUMMARY_COLUMNS``), one row per client in ratings or sessions, sorted by
    client_id, describing the client's current history (instrument of the latest
    rating): instrument object (None without ratings); ratings_count, urgent, warning,
    talk, info, sessions_without_rating int64; last_session_number Int64; last_held_on
    datetime64[ns]; latest_total, change_from_previous, personal_mean, personal_sd
    (unfloored), recent_slope (Theil–Sen, last 5) float64; recent_totals object[list[float]]
    (last 10, oldest first); repair_status object[str] (open/repaired/unrepaired/none);
    usual_mean, usual_sd, below_usual float64: the range the latest rating was judged by
    and how many points below its mean it fell (NaN until the range is known).

    ``ranges`` (``RANGE_COLUMNS``), one row per rating sorted by client_id, instrument,
    session_number: the client's usual level and SD the rating was judged by (NaN before
    the range is known), ``usual_low`` the line under which a rating reads as a possible
    dip, the change from the previous rating, and whether it fell inside an episode.
    """

    episodes: pd.DataFrame
    summary: pd.DataFrame
    ranges: pd.DataFrame
    flags_before_evidence: pd.DataFrame
    evidence: FlagEvidence
    rules_version: str = RULES_VERSION

    @cached_property
    def flags(self) -> pd.DataFrame:
        """The flags with their evidence dicts, made on first read (see ``FlagEvidence``)."""
        frame = self.flags_before_evidence.copy(deep=False)
        frame.insert(FLAG_COLUMNS.index("evidence"), "evidence", self.evidence.dicts())
        return frame


@dataclass(frozen=True)
class FlagEvidence:
    """Each flag's evidence, kept as the rules' columns until it is read.

    A dict per flag is a million small objects on a full rescore: about a tenth of its
    time, and most of the garbage collector's work. ``dicts`` makes them in flag order.
    """

    hits: tuple[RuleHits, ...]
    order: np.ndarray  # flag row -> position in the hits stacked in order

    def dicts(self) -> np.ndarray:
        stacked = [evidence for hit in self.hits for evidence in _evidence(hit)]
        return object_array(stacked)[self.order]


def evaluate(
    ratings: pd.DataFrame,
    sessions: pd.DataFrame,
    *,
    today: dt.date,
    config: ScoringConfig = DEFAULT_CONFIG,
) -> Evaluation:
    """Run every rule over every client's history; pure, deterministic, order-independent.

    ``today`` is an argument (never read from the clock) because it decides which unrated
    sessions are overdue; the same inputs always give the same output.
    """
    checked = check_ratings(ratings)
    checked_sessions = check_sessions(sessions)
    # sorted as Python sorts strings (as np.union1d would, but without an object sort)
    client_ids = object_array(
        sorted(set(checked.client_uniques.tolist()).union(checked_sessions.client_uniques.tolist()))
    )
    index = pd.Index(client_ids)
    r_client = _codes(index, checked.client_uniques, checked.client_code)
    s_client = _codes(index, checked_sessions.client_uniques, checked_sessions.client_code)
    history = build_history(checked, client_ids, r_client, config)
    today_day = np.datetime64(dt.date(today.year, today.month, today.day), "D")
    timeline = build_timeline(
        checked_sessions, checked, s_client, r_client, today_day, config.rating_grace_days
    )

    own = own_range(history)
    hits = {rule.__name__: rule(history, own) for rule in HISTORY_RULES}
    missing = missing_ratings(timeline, config.missing_run, config.rating_grace_days)
    flags, evidence, f_client, f_session, f_severity = _flag_frame(history, timeline, hits, missing)

    episodes = rupture_episodes(history, own)
    episode_client = pd.Index(client_ids).get_indexer(episodes["client_id"])
    summary = caseload_summary(
        history, own, timeline, f_client, f_session, f_severity, episodes, episode_client
    )
    return Evaluation(
        episodes=episodes,
        summary=summary,
        ranges=_range_frame(history, own),
        flags_before_evidence=flags,
        evidence=evidence,
    )


def _range_frame(h: RatingHistory, own: OwnRange) -> pd.DataFrame:
    names = np.array(h.instrument_ids, dtype=object)
    return build_frame(
        {
            "client_id": h.client_ids[h.client],
            "session_number": h.session,
            "instrument": names[h.instrument] if len(h) else object_array([]),
            "total": h.total,
            "usual": own.mean,
            "usual_sd": own.sd,
            "usual_low": own.mean - h.per_row("possible_sds") * own.sd,
            "change_from_previous": h.total - h.previous,
            "in_episode": own.episode >= 0,
        },
        len(h),
    )


def _codes(index: pd.Index, uniques: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Re-map factorised codes onto the sorted caseload-wide client index."""
    if not len(codes):
        return codes.astype(np.int64)
    return index.get_indexer(uniques).astype(np.int64)[codes]


def _plain(values: np.ndarray) -> list:
    """JSON-safe Python numbers: ints stay ints, floats rounded to 4 places, NaN -> None."""
    if values.dtype.kind in "iub":
        return values.astype(np.int64).tolist()
    rounded = np.round(values.astype(np.float64), 4)
    out = rounded.tolist()
    if np.isnan(rounded).any():
        out = [None if v != v else v for v in out]
    return out


def evidence_number(value: float | None) -> float | None:
    """``_plain`` of one float: ``np.round(x, 4)`` is rint(x * 10**4) / 10**4, which
    Python's ``round(x, 4)`` (decimal-exact) is not, so it is spelt out."""
    if value is None or value != value:
        return None
    if value in (math.inf, -math.inf):
        return value
    return round(value * 10000.0) / 10000.0


def _evidence(hit: RuleHits) -> list[dict]:
    pairs = [zip(repeat(key), _plain(values)) for key, values in hit.evidence.items()]
    return list(map(dict, zip(*pairs, strict=True)))


def _missing_instrument(h: RatingHistory, client: np.ndarray, session: np.ndarray) -> np.ndarray:
    """Code of the instrument of the client's latest rating before each session (-1 if none)."""
    out = np.full(len(client), -1, dtype=np.int64)
    if not len(client) or not len(h):
        return out
    span = int(max(h.session.max(), session.max())) + 1
    keys = h.client * span + h.session
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    pos = np.searchsorted(sorted_keys, client * span + session, side="left") - 1
    ok = pos >= 0
    ok[ok] = h.client[order[pos[ok]]] == client[ok]
    out[ok] = h.instrument[order[pos[ok]]]
    return out


def _flag_frame(
    h: RatingHistory,
    timeline: SessionTimeline,
    hits: dict[str, RuleHits],
    missing: RuleHits,
) -> tuple[pd.DataFrame, FlagEvidence, np.ndarray, np.ndarray, np.ndarray]:
    """Stack every rule's hits into one frame sorted by client, session, rule and item
    (all of ``FLAG_COLUMNS`` but the evidence, which ``FlagEvidence`` keeps).

    Low-cardinality text columns are categoricals (built from codes, so 1M flags stay
    fast); free text (``explanation``) and ``evidence`` are object columns.
    """
    item_keys = all_item_keys()
    columns: dict[str, list] = {
        k: []
        for k in (
            "client",
            "session",
            "held",
            "instrument",
            "rule",
            "item_order",
            "severity",
            "level",
            "item",
            "guidance",
        )
    }
    explanation: list[str] = []
    every = (*hits.values(), missing)
    for hit in every:
        n = len(hit)
        if hit is missing:
            client = timeline.client[hit.rows]
            session = timeline.session[hit.rows]
            columns["held"].append(timeline.held_on[hit.rows])
            columns["instrument"].append(_missing_instrument(h, client, session))
        else:
            client = h.client[hit.rows]
            session = h.session[hit.rows]
            columns["held"].append(h.held_on[hit.rows])
            columns["instrument"].append(h.instrument[hit.rows])
        columns["client"].append(client)
        columns["session"].append(session)
        columns["rule"].append(np.full(n, RULE_NAMES.index(hit.rule), dtype=np.int64))
        columns["item_order"].append(
            hit.item_order if hit.item_order is not None else np.zeros(n, dtype=np.int64)
        )
        columns["severity"].append(hit.severity)
        columns["level"].append(hit.level if hit.level is not None else np.full(n, -1))
        columns["item"].append(hit.item if hit.item is not None else np.full(n, -1))
        columns["guidance"].append(guidance_codes(hit.rule, columns["level"][-1]))
        explanation.extend(hit.explanation)

    stacked = {k: np.concatenate(v) for k, v in columns.items()}
    client, session, rule = stacked["client"], stacked["session"], stacked["rule"]
    order = np.lexsort((stacked["item_order"], rule, session, client))
    explanation_col = object_array(explanation)
    rule = rule[order]
    severity = stacked["severity"][order]
    frame = build_frame(
        {
            "client_id": h.client_ids[client[order]],
            "session_number": session[order],
            "held_on": stacked["held"][order].astype("datetime64[ns]"),
            "instrument": categorical(stacked["instrument"][order], h.instrument_ids),
            "rule": categorical(rule, RULE_NAMES),
            "severity": categorical(severity, SEVERITIES),
            "level": categorical(stacked["level"][order], LEVELS),
            "item": categorical(stacked["item"][order], item_keys),
            "explanation": explanation_col[order],
            "guidance": categorical(stacked["guidance"][order], GUIDANCE_TEXTS),
            "rules_version": categorical(np.zeros(len(rule), dtype=np.int64), (RULES_VERSION,)),
        },
        len(order),
    )
    return frame, FlagEvidence(every, order), client[order], session[order], severity
