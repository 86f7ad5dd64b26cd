"""Keep stored flags, episodes and summaries in step with what scoring says.

Scoring is pure and recomputes from the whole history; the database adds what only
people know (who acknowledged what, and what they did). Syncing therefore matches
each computed flag to its stored row by (client, session, rule, item), refreshes
the numbers and wording, keeps the lifecycle, and withdraws flags that a rules
change no longer produces.

Every submission rescores its client inside its own write transaction, so this is on
the hot path and holds the database's write lock. It reads and writes plain rows
(SQLAlchemy Core, not ORM objects), compares what is stored with what was computed,
and writes only what changed: a new rating changes a handful of rows out of a
client's whole history, and loading and dirty-checking an ORM object for every one of
them was most of a submission's cost. One client is scored by ``scoring.one_client``
(plain Python, well under a millisecond), a batch by ``scoring.evaluate``; both give
the same records (``scoring.records``), which is all the reconcile reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlmodel import Session

from backend.clients.models import Client
from backend.clock import today, utcnow
from backend.db import Database
from backend.flags.models import ClientSummary, Episode, Flag, ScoringCalibration
from backend.notifications.outbox import queue_urgent_alerts
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from scoring import RULES_VERSION, ScoringConfig, estimate_psychometrics, evaluate
from scoring.episodes import EPISODE_COLUMNS
from scoring.evaluate import FLAG_COLUMNS
from scoring.instruments import all_item_keys, get_instrument
from scoring.one_client import score_client
from scoring.records import Record, ScoreRecords, evaluation_records
from scoring.rules import CLIENT_REQUEST_RULE, EPISODE_RULES, RULE_NAMES
from scoring.schema import ScoringInputError
from scoring.summary import SUMMARY_COLUMNS
from scoring.vocabulary import LIVE_FLAG_STATUSES, EpisodeStatus, FlagStatus, Resolution

_LIVE = tuple(s.value for s in LIVE_FLAG_STATUSES)
_FLAG: Table = Flag.__table__
_EPISODE: Table = Episode.__table__
_SUMMARY: Table = ClientSummary.__table__


def _computed_columns(scored: Sequence[str], table: Table, key: Sequence[str]) -> tuple[str, ...]:
    """What scoring decides in a stored row: the scoring output's columns the table keeps,
    other than the row's key. The rest of the row is the clinician's (acknowledged, by
    whom, what they did)."""
    return tuple(name for name in scored if name in table.c and name not in key)


_FLAG_KEY = ("client_id", "session_number", "rule", "item")
#: What a flag's reconcile reads besides key and scores: a withdrawn flag raised again
#: comes back acknowledged if the therapist had recorded an action.
_FLAG_BOOKKEEPING = ("id", "status", "action")
_FLAG_COMPUTED = _computed_columns(FLAG_COLUMNS, _FLAG, _FLAG_KEY)
_EPISODE_KEY = ("client_id", "instrument", "opened_session")
_EPISODE_COMPUTED = _computed_columns(EPISODE_COLUMNS, _EPISODE, _EPISODE_KEY)
_SUMMARY_KEY = ("client_id",)
#: Plus the rules version, which the summary frame leaves to ``RULES_VERSION``.
_SUMMARY_COMPUTED = (*_computed_columns(SUMMARY_COLUMNS, _SUMMARY, _SUMMARY_KEY), "rules_version")


#: One row per session held: client_id, session_number, held_on, the instrument the
#: session was planned with, then its rating's instrument, scores, total and wants_to_talk
#: (None when unrated).
HistoryRow = tuple[int, int, date, str, str | None, dict | None, float | None, bool | None]


def history_rows(db: Session, client_ids: Sequence[int]) -> Sequence[HistoryRow]:
    """Every session these clients have held, with its rating if any: one query."""
    return db.execute(
        select(
            TherapySession.client_id,
            TherapySession.session_number,
            TherapySession.held_on,
            TherapySession.instrument,
            Rating.instrument,
            Rating.scores,
            Rating.total,
            Rating.wants_to_talk,
        )
        .select_from(TherapySession)
        .outerjoin(Rating, Rating.therapy_session_id == TherapySession.id)
        .where(TherapySession.client_id.in_(client_ids))
    ).all()


def rows_of_frames(
    ratings: pd.DataFrame, sessions: pd.DataFrame, client_number: Callable[[str], int]
) -> list[HistoryRow]:
    """What ``history_rows`` would return for these frames (``scoring.schema``'s contract),
    each client id numbered by ``client_number``: the inverse of ``_frames``, for the
    benchmarks and tests that start from a simulated caseload."""
    rated = {(r.client_id, r.session_number): r for r in ratings.itertuples(index=False)}
    rows: list[HistoryRow] = []
    for held in sessions.itertuples(index=False):
        client, day = client_number(held.client_id), pd.Timestamp(held.held_on).date()
        rating = rated.get((held.client_id, held.session_number))
        if rating is None:
            rows.append((client, held.session_number, day, "alliance4", None, None, None, None))
            continue
        scores = {k: getattr(rating, k) for k in get_instrument(rating.instrument).item_keys}
        rows.append(
            (
                client,
                held.session_number,
                day,
                rating.instrument,
                rating.instrument,
                scores,
                float(rating.total),
                bool(rating.wants_to_talk),
            )
        )
    return rows


def history_frames(db: Session, client_ids: Sequence[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scoring input for these clients as frames: their ratings and every session held."""
    return _frames(history_rows(db, client_ids))


def _frames(rows: Sequence[HistoryRow]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ratings and sessions frames, built a column at a time (``scoring.schema``'s contract)."""
    therapy_sessions = pd.DataFrame(
        {
            "client_id": [str(row[0]) for row in rows],
            "session_number": np.array([row[1] for row in rows], dtype=np.int64),
            "held_on": pd.to_datetime([row[2] for row in rows]),
        }
    )
    rated = [row[:3] + row[4:] for row in rows if row[4] is not None]
    scores = [row[4] for row in rated]
    ratings = pd.DataFrame(
        {
            "client_id": [str(row[0]) for row in rated],
            "session_number": np.array([row[1] for row in rated], dtype=np.int64),
            "held_on": pd.to_datetime([row[2] for row in rated]),
            "instrument": [row[3] for row in rated],
            "total": np.array([row[5] for row in rated], dtype=float),
            "wants_to_talk": np.array([bool(row[6]) for row in rated], dtype=bool),
            **{
                key: np.array([s.get(key, np.nan) for s in scores], dtype=float)
                for key in all_item_keys()
            },
        }
    )
    return ratings, therapy_sessions


def rescore_clients(*, db: Session, client_ids: Iterable[int], on: date | None = None) -> None:
    """Recompute and store flags, episodes and summaries for these clients (idempotent)."""
    ids = sorted(set(client_ids))
    if not ids:
        return
    scores = score_clients(db, ids, on=on)
    store_scores(db, ids, scores)


def _client_records(rows: Sequence[HistoryRow]) -> tuple[list[Record], list[Record]]:
    """One client's ratings and sessions as records (``scoring.schema``'s contract)."""
    ratings, sessions = [], []
    for client_id, number, held_on, _, instrument, scores, total, wants in rows:
        client = str(client_id)
        sessions.append({"client_id": client, "session_number": number, "held_on": held_on})
        if instrument is not None:
            ratings.append(
                {
                    **scores,  # the items, as keys of their own
                    "client_id": client,
                    "session_number": number,
                    "held_on": held_on,
                    "instrument": instrument,
                    "total": total,
                    "wants_to_talk": bool(wants),
                }
            )
    return ratings, sessions


@dataclass(frozen=True)
class Scores:
    """What scoring says about some clients, and the rows it was computed from."""

    records: ScoreRecords
    rows: Sequence[HistoryRow]


def score_clients(db: Session, client_ids: Sequence[int], *, on: date | None = None) -> Scores:
    """Read these clients' history and score it: reads only, so it needs no write lock."""
    rows = history_rows(db, client_ids)
    return score_rows(rows, client_ids, on=on or today(), config=clinic_config(db))


def score_rows(
    rows: Sequence[HistoryRow], client_ids: Sequence[int], *, on: date, config: ScoringConfig
) -> Scores:
    """Score the history these rows hold as of the day ``on``: one client in plain Python,
    a batch vectorised.

    Both paths give the same records (tests/scoring/test_one_client.py); a submission
    rescores one client, where the vectorised path's fixed cost was most of the time.
    """
    if len(set(client_ids)) == 1:
        ratings, sessions = _client_records(rows)
        records = score_client(ratings, sessions, today=on, config=config)
    else:
        ratings_frame, sessions_frame = _frames(rows)
        evaluation = evaluate(ratings_frame, sessions_frame, today=on, config=config)
        records = evaluation_records(evaluation)
    return Scores(records, rows)


def clinic_config(db: Session) -> ScoringConfig:
    """The scoring configuration in force: registry defaults, with the clinic's own
    week-to-week SD for each instrument that has a calibration row."""
    config = ScoringConfig()
    for row in db.execute(select(ScoringCalibration.instrument, ScoringCalibration.within_sd)):
        config = config.with_clinic_estimate(row.instrument, row.within_sd)
    return config


def calibrate(db: Session) -> list[ScoringCalibration]:
    """Estimate the clinic's week-to-week SD per instrument from every rating it holds.

    An instrument with too few clients with enough ratings keeps (or returns to) its
    registry default: its row is removed.
    """
    ratings, _ = history_frames(db, list(db.scalars(select(Client.id))))
    rows = []
    for instrument in sorted(set(ratings["instrument"])):
        try:
            estimate = estimate_psychometrics(ratings, instrument)
        except ScoringInputError:
            estimate = None
        stored = db.get(ScoringCalibration, instrument)
        if estimate is None or estimate.within_sd is None:
            if stored is not None:
                db.delete(stored)
            continue
        row = stored or ScoringCalibration(instrument=instrument, within_sd=0, ratings=0, clients=0)
        row.within_sd = round(estimate.within_sd, 3)
        row.ratings, row.clients, row.estimated_at = estimate.ratings, estimate.clients, utcnow()
        db.add(row)
        rows.append(row)
    db.flush()
    return rows


def store_scores(db: Session, client_ids: Sequence[int], scores: Scores) -> None:
    """Write what ``scores`` says about these clients (it may hold others: they are left)."""
    ids = sorted(set(client_ids))
    to_store = rows_to_store(scores, ids)
    now = utcnow()
    _sync_flags(db, ids, to_store.flags, now)
    _sync_episodes(db, ids, to_store.episodes, now)
    _sync_summaries(db, ids, to_store.summaries, now)
    _resolve_repaired(db, ids, now)


#: A stored row as scoring decides it: its key, and the values of its computed columns.
Computed = tuple[tuple[Any, ...], dict[str, Any]]


@dataclass(frozen=True)
class RowsToStore:
    """Scoring's records for some clients, converted to the rows their tables store."""

    flags: list[Computed]
    episodes: list[Computed]
    summaries: list[Computed]


def rows_to_store(scores: Scores, client_ids: Sequence[int]) -> RowsToStore:
    """What the tables should hold for these clients: each record through its table's
    converter. Pure: the reconcile then compares it with what is stored."""
    keep = {str(client_id) for client_id in client_ids}
    records = scores.records

    def convert(spec: _Table, rows: list[Record]) -> list[Computed]:
        return [spec.convert(row) for row in rows if row["client_id"] in keep]

    flags = convert(_FLAGS, records.flags)
    _with_planned_instruments(flags, scores.rows)
    return RowsToStore(
        flags=flags,
        episodes=convert(_EPISODES, records.episodes),
        summaries=convert(_SUMMARIES, records.summary),
    )


def _number(value: object) -> float | None:
    return None if value is None else round(float(value), 3)


def _differs(before: Row, computed: dict[str, Any]) -> bool:
    return any(getattr(before, name) != value for name, value in computed.items())


def _refreshed_at(before: Row, computed: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """Episodes and summaries: rewrite what scoring says, stamped, when it changed."""
    return {"updated_at": now, **computed} if _differs(before, computed) else None


def _updated_at(now: datetime) -> dict[str, Any]:
    return {"updated_at": now}


@dataclass(frozen=True)
class _Table:
    """How one stored table follows a scoring output: the generic reconcile's converter.

    ``key`` names a row (client first), ``computed`` what scoring decides in it, ``kept``
    what else the reconcile reads of a stored row (its id, the clinician's part).
    ``convert`` turns a scoring record into its key and computed values; ``refresh``
    says what to write over a stored row that differs, ``extra`` what a new row adds;
    the defaults (stamp ``updated_at``) suit episodes and summaries. ``row_id`` is the
    column an update finds the stored row by.
    """

    table: Table
    key: tuple[str, ...]
    computed: tuple[str, ...]
    convert: Callable[[dict[str, Any]], tuple[tuple[Any, ...], dict[str, Any]]]
    refresh: Callable[[Row, dict[str, Any], datetime], dict[str, Any] | None] = _refreshed_at
    extra: Callable[[datetime], dict[str, Any]] = _updated_at
    kept: tuple[str, ...] = ("id",)
    row_id: str = "id"


@dataclass(frozen=True)
class _Reconciled:
    """What a reconcile inserted, and the stored rows scoring no longer produces."""

    new: list[dict[str, Any]]
    gone: list[Row]


def _reconcile(
    db: Session, spec: _Table, ids: list[int], rows: list[Computed], now: datetime
) -> _Reconciled:
    """Load the stored rows by key, insert what is new, update what changed."""
    table = spec.table
    read = dict.fromkeys((*spec.kept, *spec.key, *spec.computed))
    stored = {
        tuple(getattr(row, name) for name in spec.key): row
        for row in db.execute(
            select(*(table.c[name] for name in read)).where(table.c.client_id.in_(ids))
        )
    }
    new, changed, seen = [], [], set()
    for key, computed in rows:
        seen.add(key)
        before = stored.get(key)
        if before is None:
            new.append({**dict(zip(spec.key, key, strict=True)), **spec.extra(now), **computed})
        elif (refreshed := spec.refresh(before, computed, now)) is not None:
            changed.append({"_key": getattr(before, spec.row_id), **refreshed})
    if new:
        db.execute(insert(table), new)
    if changed:
        db.execute(update(table).where(table.c[spec.row_id] == bindparam("_key")), changed)
    return _Reconciled(new, [row for key, row in stored.items() if key not in seen])


def _flag(row: Record) -> Computed:
    key = (int(row["client_id"]), int(row["session_number"]), row["rule"], row["item"] or "")
    return key, {name: row[name] for name in _FLAG_COMPUTED}


def _with_planned_instruments(flags: list[Computed], history: Sequence[HistoryRow]) -> None:
    """Sessions missed before a client's first rating have no rated instrument; such a
    flag belongs to the one the session was planned with."""
    planned: dict[tuple[int, int], str] = {}
    for key, computed in flags:
        if computed["instrument"] is None:
            if not planned:
                planned.update({(held[0], held[1]): held[3] for held in history})
            computed["instrument"] = planned[key[:2]]


def _opened(now: datetime) -> dict[str, Any]:
    return {"status": "open", "created_at": now}


def _refreshed_flag(before: Row, computed: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    if before.status == FlagStatus.withdrawn:
        # raised again: live once more, with whatever the therapist wrote kept
        status = FlagStatus.acknowledged if before.action else FlagStatus.open
    elif _differs(before, computed):
        status = before.status
    else:
        return None
    # a raised flag has no reason to be withdrawn
    return {"status": status, "withdrawn_reason": None, **computed}


_FLAGS = _Table(
    _FLAG, _FLAG_KEY, _FLAG_COMPUTED, _flag, _refreshed_flag, _opened, _FLAG_BOOKKEEPING
)


def _sync_flags(db: Session, ids: list[int], flags: list[Computed], now: datetime) -> None:
    reconciled = _reconcile(db, _FLAGS, ids, flags, now)
    queue_urgent_alerts(db, raised=reconciled.new)  # in this transaction: flag and mail
    gone = [row for row in reconciled.gone if row.status in _LIVE]
    if gone:
        db.execute(
            update(_FLAG).where(_FLAG.c.id == bindparam("_key")),
            [
                {
                    "_key": row.id,
                    "status": FlagStatus.withdrawn,
                    "withdrawn_reason": withdrawal_reason(row.rule, row.rules_version),
                }
                for row in gone
            ],
        )


#: Why a flag of a rule that the current rules no longer have was withdrawn.
_RETIRED_RULES = {
    "drop_from_previous": (
        "A one-point drop is now shown on the chart and in its hover text, not as a flag."
    ),
    "reliable_drop": (
        "Drops are now judged against this client's own usual range, not the previous "
        "rating; see the rupture flags."
    ),
    "downward_trend": (
        "A decline is now judged against this client's own usual range (two lower ratings "
        "in a row confirm it); see the rupture flags."
    ),
}


def withdrawal_reason(rule: str, rules_version: str) -> str:
    """Why scoring no longer raises a flag, in words the therapist can read."""
    if rule not in RULE_NAMES:
        detail = _RETIRED_RULES.get(rule, "The current rules no longer have this kind of flag.")
        return f"Withdrawn when the rules were updated to version {RULES_VERSION}. {detail}"
    if rules_version != RULES_VERSION:
        return (
            f"Withdrawn when the rules were updated to version {RULES_VERSION}: a standing "
            "condition is now one flag where it began, and a rating is judged against this "
            "client's own usual range."
        )
    return "Withdrawn: with the ratings as they now stand, the rules no longer raise this flag."


def _episode(row: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    closed = row["closed_session"]
    computed = {
        **{name: row[name] for name in _EPISODE_COMPUTED},
        "opened_on": row["opened_on"],
        "pre_rupture_mean": _number(row["pre_rupture_mean"]),
        "pre_rupture_sd": _number(row["pre_rupture_sd"]),
        "recovery_threshold": _number(row["recovery_threshold"]),
        "lowest_total": float(row["lowest_total"]),
        "closed_session": None if closed is None else int(closed),
        "closed_on": row["closed_on"],
    }
    return (int(row["client_id"]), row["instrument"], int(row["opened_session"])), computed


_EPISODES = _Table(_EPISODE, _EPISODE_KEY, _EPISODE_COMPUTED, _episode)


def _sync_episodes(db: Session, ids: list[int], episodes: list[Computed], now: datetime) -> None:
    gone = [row.id for row in _reconcile(db, _EPISODES, ids, episodes, now).gone]
    if gone:
        db.execute(delete(_EPISODE).where(_EPISODE.c.id.in_(gone)))


_SUMMARY_NUMBERS = (
    "latest_total",
    "change_from_previous",
    "personal_mean",
    "personal_sd",
    "recent_slope",
    "usual_mean",
    "usual_sd",
    "below_usual",
)
_SUMMARY_SCORED = ("client_id", *(name for name in _SUMMARY_COMPUTED if name != "rules_version"))


def _summary(row: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    number = row["last_session_number"]
    computed = {
        **{name: row[name] for name in _SUMMARY_SCORED if name != "client_id"},
        "ratings_count": int(row["ratings_count"]),
        "last_session_number": None if number is None else int(number),
        "last_held_on": row["last_held_on"],
        **{name: _number(row[name]) for name in _SUMMARY_NUMBERS},
        "recent_totals": [float(t) for t in (row["recent_totals"] or [])],
        "sessions_without_rating": int(row["sessions_without_rating"]),
        "rules_version": RULES_VERSION,
    }
    return (int(row["client_id"]),), computed


#: One summary row per client, keyed by the client itself.
_SUMMARIES = _Table(
    _SUMMARY, _SUMMARY_KEY, _SUMMARY_COMPUTED, _summary, kept=(), row_id=_SUMMARY_KEY[0]
)


def _sync_summaries(db: Session, ids: list[int], summary: list[Computed], now: datetime) -> None:
    _reconcile(db, _SUMMARIES, ids, summary, now)  # a summary is never removed here


def _resolve_repaired(db: Session, ids: list[int], now: datetime) -> None:
    """A repaired episode resolves the live numeric flags raised during it.

    Only the rupture's own flags (``EPISODE_RULES``): a request to talk, a standing
    condition or missing ratings wait for the therapist whatever the scores do. A request
    to talk that an earlier rule set closed this way is opened again: nobody has read it.
    """
    raised_during_repaired = (
        select(_EPISODE.c.id)
        .where(
            _EPISODE.c.client_id == _FLAG.c.client_id,
            _EPISODE.c.instrument == _FLAG.c.instrument,
            _EPISODE.c.status == EpisodeStatus.repaired,
            _EPISODE.c.opened_session <= _FLAG.c.session_number,
            _EPISODE.c.closed_session >= _FLAG.c.session_number,
        )
        .exists()
    )
    db.execute(
        update(_FLAG)
        .where(
            _FLAG.c.client_id.in_(ids),
            _FLAG.c.status.in_(_LIVE),
            _FLAG.c.rule.in_(EPISODE_RULES),
            raised_during_repaired,
        )
        .values(status=FlagStatus.resolved, resolution=Resolution.repaired, resolved_at=now)
    )
    closed_by_scores = (
        _FLAG.c.client_id.in_(ids),
        _FLAG.c.status == FlagStatus.resolved,
        _FLAG.c.resolution == Resolution.repaired,
        _FLAG.c.rule == CLIENT_REQUEST_RULE,
    )
    for acknowledged in (True, False):
        db.execute(
            update(_FLAG)
            .where(
                *closed_by_scores,
                _FLAG.c.action.is_not(None) if acknowledged else _FLAG.c.action.is_(None),
            )
            .values(
                status=FlagStatus.acknowledged if acknowledged else FlagStatus.open,
                resolution=None,
                resolved_at=None,
                resolved_by=None,
            )
        )


def rescore_everyone(*, database: Database, batch: int = 2000) -> int:
    """Estimate the clinic's calibration, then rescore all clients in batches, one short
    transaction each; returns how many."""
    with database.writing() as db:
        calibrate(db)
    with database.reading() as db:
        ids = list(db.scalars(select(Client.id).order_by(Client.id)))
    for start in range(0, len(ids), batch):
        with database.writing() as db:
            rescore_clients(db=db, client_ids=ids[start : start + batch])
    return len(ids)
