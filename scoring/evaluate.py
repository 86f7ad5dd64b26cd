"""Score a caseload: ratings and sessions in, explained flags, episodes and a summary out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig
from scoring.episodes import rupture_episodes, trigger_rows
from scoring.guidance import GUIDANCE
from scoring.history import RatingHistory, SessionTimeline, build_history, build_timeline
from scoring.rules import HISTORY_RULES, RULE_NAMES, RuleHits, missing_ratings
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


@dataclass(frozen=True)
class Evaluation:
    """Everything scoring says about a caseload, as plain DataFrames for the backend."""

    flags: pd.DataFrame
    episodes: pd.DataFrame
    summary: pd.DataFrame
    rules_version: str = RULES_VERSION


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
    client_ids = np.union1d(
        pd.unique(checked.client_id), pd.unique(checked_sessions.client_id)
    ).astype(object)
    history = build_history(checked, client_ids, config)
    today_day = np.datetime64(dt.date(today.year, today.month, today.day), "D")
    timeline = build_timeline(
        checked_sessions, checked, client_ids, today_day, config.rating_grace_days
    )

    hits = {rule.__name__: rule(history) for rule in HISTORY_RULES}
    missing = missing_ratings(timeline, config.missing_run, config.rating_grace_days)
    flags, f_client, f_session, f_severity = _flag_frame(history, timeline, hits, missing)

    episodes = rupture_episodes(history, trigger_rows(hits, len(history)))
    episode_client = pd.Index(client_ids).get_indexer(episodes["client_id"])
    summary = caseload_summary(
        history, timeline, f_client, f_session, f_severity, episodes, episode_client
    )
    return Evaluation(flags=flags, episodes=episodes, summary=summary)


def _plain(values: np.ndarray) -> list:
    """JSON-safe Python numbers: ints stay ints, floats rounded to 4 places, NaN -> None."""
    if values.dtype.kind in "iub":
        return values.astype(np.int64).tolist()
    rounded = np.round(values.astype(np.float64), 4)
    out = rounded.tolist()
    if np.isnan(rounded).any():
        out = [None if v != v else v for v in out]
    return out


def _evidence(hit: RuleHits) -> list[dict]:
    keys = list(hit.evidence)
    columns = [_plain(hit.evidence[k]) for k in keys]
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _missing_instrument(h: RatingHistory, client: np.ndarray, session: np.ndarray) -> np.ndarray:
    """The instrument of the client's latest rating before each session (None if none)."""
    out = np.full(len(client), None, dtype=object)
    if not len(client) or not len(h):
        return out
    span = int(max(h.session.max(), session.max())) + 1
    keys = h.client * span + h.session
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    pos = np.searchsorted(sorted_keys, client * span + session, side="left") - 1
    ok = pos >= 0
    ok[ok] = h.client[order[pos[ok]]] == client[ok]
    names = np.array(h.instrument_ids, dtype=object)
    out[ok] = names[h.instrument[order[pos[ok]]]]
    return out


def _flag_frame(
    h: RatingHistory,
    timeline: SessionTimeline,
    hits: dict[str, RuleHits],
    missing: RuleHits,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Stack every rule's hits into one frame sorted by client, session, rule and item."""
    names = np.array(h.instrument_ids, dtype=object)
    parts = []
    for hit in (*hits.values(), missing):
        n = len(hit)
        if hit is missing:
            client = timeline.client[hit.rows]
            session = timeline.session[hit.rows]
            held = timeline.held_on[hit.rows]
            instrument = _missing_instrument(h, client, session)
        else:
            client = h.client[hit.rows]
            session = h.session[hit.rows]
            held = h.held_on[hit.rows]
            instrument = names[h.instrument[hit.rows]] if n else np.empty(0, dtype=object)
        parts.append(
            {
                "client": client,
                "session": session,
                "held": held,
                "instrument": instrument,
                "rule": np.full(n, hit.rule, dtype=object),
                "rule_order": np.full(n, RULE_NAMES.index(hit.rule), dtype=np.int64),
                "item_order": hit.item_order
                if hit.item_order is not None
                else np.zeros(n, dtype=np.int64),
                "severity": hit.severity,
                "level": hit.level if hit.level is not None else np.full(n, None, dtype=object),
                "item": hit.item if hit.item is not None else np.full(n, None, dtype=object),
                "explanation": hit.explanation,
                "evidence": _evidence(hit),
            }
        )

    def stack(key: str, dtype: object = None) -> np.ndarray:
        chunks = []
        for p in parts:
            value = p[key]
            if isinstance(value, list):
                arr = np.empty(len(value), dtype=object)
                arr[:] = value
                value = arr
            chunks.append(value)
        return np.concatenate(chunks).astype(dtype) if dtype else np.concatenate(chunks)

    client = stack("client", np.int64)
    session = stack("session", np.int64)
    rule_order = stack("rule_order", np.int64)
    item_order = stack("item_order", np.int64)
    order = np.lexsort((item_order, rule_order, session, client))
    client, session = client[order], session[order]
    severity = stack("severity", object)[order]
    rules = stack("rule", object)[order]
    frame = pd.DataFrame(
        {
            "client_id": h.client_ids[client].astype(object),
            "session_number": session,
            "held_on": stack("held").astype("datetime64[ns]")[order],
            "instrument": stack("instrument", object)[order],
            "rule": rules,
            "severity": severity,
            "level": stack("level", object)[order],
            "item": stack("item", object)[order],
            "explanation": stack("explanation", object)[order],
            "evidence": stack("evidence", object)[order],
            "guidance": np.array([GUIDANCE[r] for r in RULE_NAMES], dtype=object)[
                rule_order[order]
            ],
            "rules_version": RULES_VERSION,
        },
        columns=list(FLAG_COLUMNS),
    )
    return frame, client, session, severity
