"""Keep stored flags, episodes and summaries in step with what scoring says.

Scoring is pure and recomputes from the whole history; the database adds what only
people know (who acknowledged what, and what they did). Syncing therefore matches
each computed flag to its stored row by (client, session, rule, item), refreshes
the numbers and wording, keeps the lifecycle, and withdraws flags that a rules
change no longer produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd
from sqlalchemy import delete, insert
from sqlmodel import Session, SQLModel, col, select

from backend.clients.models import Client
from backend.clock import today, utcnow
from backend.db import Database
from backend.flags.models import ClientSummary, Episode, Flag
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession
from scoring import RULES_VERSION, evaluate
from scoring.instruments import all_item_keys

_LIVE = ("open", "acknowledged")


def history_frames(
    session: Session, client_ids: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scoring input for these clients: their ratings and every session held."""
    held = session.exec(
        select(
            TherapySession.client_id, TherapySession.session_number, TherapySession.held_on
        ).where(col(TherapySession.client_id).in_(client_ids))
    ).all()
    sessions = pd.DataFrame(held, columns=["client_id", "session_number", "held_on"])
    rated = session.exec(
        select(
            TherapySession.client_id,
            TherapySession.session_number,
            TherapySession.held_on,
            Rating.instrument,
            Rating.scores,
            Rating.total,
            Rating.wants_to_talk,
        )
        .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
        .where(col(TherapySession.client_id).in_(client_ids))
    ).all()
    ratings = pd.DataFrame(
        [(c, n, h, i, t, w) for c, n, h, i, _s, t, w in rated],
        columns=["client_id", "session_number", "held_on", "instrument", "total", "wants_to_talk"],
    )
    items = pd.DataFrame([s for *_, s, _t, _w in rated], columns=list(all_item_keys()), dtype=float)
    ratings = pd.concat([ratings, items], axis=1)
    for frame in (ratings, sessions):
        frame["client_id"] = frame["client_id"].astype(str)
        frame["held_on"] = pd.to_datetime(frame["held_on"])
    ratings["wants_to_talk"] = ratings["wants_to_talk"].astype(bool)
    return ratings, sessions


def _none(value: object) -> object:
    return (
        None if value is None or (not isinstance(value, list | dict) and pd.isna(value)) else value
    )


def _number(value: object) -> float | None:
    value = _none(value)
    return None if value is None else round(float(value), 3)


def _day(value: object) -> date | None:
    value = _none(value)
    return None if value is None else pd.Timestamp(value).date()


def _assign(row: SQLModel, **values: object) -> None:
    """Set only what changed: most stored rows come back from a rescore as they were, and
    SQLModel's ``__setattr__`` is the costly part of syncing them."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def rescore_clients(*, session: Session, client_ids: Iterable[int], on: date | None = None) -> None:
    """Recompute and store flags, episodes and summaries for these clients (idempotent)."""
    ids = sorted(set(client_ids))
    if not ids:
        return
    ratings, sessions = history_frames(session, ids)
    result = evaluate(ratings, sessions, today=on or today())
    _sync_flags(session, ids, result.flags)
    _sync_episodes(session, ids, result.episodes)
    _sync_summaries(session, ids, result.summary)
    _resolve_repaired(session, ids)
    session.flush()


def _sync_flags(session: Session, ids: list[int], flags: pd.DataFrame) -> None:
    stored = {
        (f.client_id, f.session_number, f.rule, f.item): f
        for f in session.exec(select(Flag).where(col(Flag.client_id).in_(ids)))
    }
    seen = set()
    # New flags go in as one multi-row insert: a full rescore creates hundreds of
    # thousands, and building an ORM object for each was most of its time.
    new_flags = []
    for row in flags.itertuples(index=False):
        key = (int(row.client_id), int(row.session_number), row.rule, _none(row.item) or "")
        seen.add(key)
        computed = {
            "held_on": _day(row.held_on),
            "instrument": row.instrument,
            "severity": row.severity,
            "level": _none(row.level),
            "explanation": row.explanation,
            "guidance": row.guidance,
            "evidence": row.evidence,
            "rules_version": row.rules_version,
        }
        flag = stored.get(key)
        if flag is None:
            new_flags.append(
                {
                    "client_id": key[0],
                    "session_number": key[1],
                    "rule": key[2],
                    "item": key[3],
                    "status": "open",
                    "created_at": utcnow(),
                    **computed,
                }
            )
            continue
        _assign(flag, **computed)
        if flag.status == "withdrawn":
            flag.status = "open"
        session.add(flag)
    for key, flag in stored.items():
        if key not in seen and flag.status in _LIVE:
            flag.status = "withdrawn"
            session.add(flag)
    if new_flags:
        session.execute(insert(Flag), new_flags)


def _sync_episodes(session: Session, ids: list[int], episodes: pd.DataFrame) -> None:
    stored = {
        (e.client_id, e.instrument, e.opened_session): e
        for e in session.exec(select(Episode).where(col(Episode.client_id).in_(ids)))
    }
    seen = set()
    for row in episodes.itertuples(index=False):
        key = (int(row.client_id), row.instrument, int(row.opened_session))
        seen.add(key)
        episode = stored.get(key) or Episode(
            client_id=key[0], instrument=key[1], opened_session=key[2]
        )
        closed = _none(row.closed_session)
        _assign(
            episode,
            opened_on=_day(row.opened_on),
            trigger_rule=row.trigger_rule,
            pre_rupture_mean=_number(row.pre_rupture_mean),
            pre_rupture_sd=_number(row.pre_rupture_sd),
            recovery_threshold=_number(row.recovery_threshold),
            lowest_total=float(row.lowest_total),
            status=row.status,
            closed_session=None if closed is None else int(closed),
            closed_on=_day(row.closed_on),
            severity=row.severity,
            explanation=row.explanation,
            rules_version=row.rules_version,
        )
        episode.updated_at = utcnow()
        session.add(episode)
    gone = [e.id for key, e in stored.items() if key not in seen]
    if gone:
        session.execute(delete(Episode).where(col(Episode.id).in_(gone)))


def _sync_summaries(session: Session, ids: list[int], summary: pd.DataFrame) -> None:
    stored = {
        s.client_id: s
        for s in session.exec(select(ClientSummary).where(col(ClientSummary.client_id).in_(ids)))
    }
    for row in summary.itertuples(index=False):
        client_id = int(row.client_id)
        digest = stored.get(client_id) or ClientSummary(
            client_id=client_id, rules_version=RULES_VERSION
        )
        digest.instrument = _none(row.instrument)
        digest.ratings_count = int(row.ratings_count)
        number = _none(row.last_session_number)
        digest.last_session_number = None if number is None else int(number)
        digest.last_held_on = _day(row.last_held_on)
        for name in (
            "latest_total",
            "change_from_previous",
            "personal_mean",
            "personal_sd",
            "recent_slope",
        ):
            setattr(digest, name, _number(getattr(row, name)))
        digest.recent_totals = [float(t) for t in (row.recent_totals or [])]
        digest.repair_status = row.repair_status
        digest.sessions_without_rating = int(row.sessions_without_rating)
        digest.rules_version = RULES_VERSION
        digest.updated_at = utcnow()
        session.add(digest)


def _resolve_repaired(session: Session, ids: list[int]) -> None:
    """A repaired episode resolves the live flags raised during it."""
    session.flush()
    repaired: dict[tuple[int, str], list[Episode]] = {}
    for episode in session.exec(
        select(Episode).where(col(Episode.client_id).in_(ids), Episode.status == "repaired")
    ):
        repaired.setdefault((episode.client_id, episode.instrument), []).append(episode)
    if not repaired:
        return
    now = utcnow()
    with_repairs = sorted({client_id for client_id, _ in repaired})
    live = session.exec(
        select(Flag).where(col(Flag.client_id).in_(with_repairs), col(Flag.status).in_(_LIVE))
    )
    for flag in live:
        if any(
            e.opened_session <= flag.session_number <= e.closed_session
            for e in repaired.get((flag.client_id, flag.instrument), ())
        ):
            flag.status, flag.resolution, flag.resolved_at = "resolved", "repaired", now
            session.add(flag)


def rescore_everyone(*, database: Database, batch: int = 2000) -> int:
    """Rescore all clients in batches, one short transaction each; returns how many."""
    with database.reading() as session:
        ids = list(session.exec(select(Client.id).order_by(Client.id)))
    for start in range(0, len(ids), batch):
        with database.writing() as session:
            rescore_clients(session=session, client_ids=ids[start : start + batch])
    return len(ids)
