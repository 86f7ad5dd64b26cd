"""The caseload table and the team overview, aggregated in SQL and scoped to the caller.

Every query joins ``Client`` and filters on ``visible_clients(caller)``; per-client and
per-week numbers come from GROUP BY, so the cost grows with the number of rows returned,
not with the number of ratings behind them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Date, RowMapping, case, cast, distinct, func, literal_column, nulls_last
from sqlmodel import Session, col, select

from backend.audit.writer import record
from backend.auth.caller import OVERSEE_TEAMS, READ_CLINICAL_DATA, Caller, require
from backend.clients.models import Client
from backend.clients.scope import visible_clients
from backend.clock import today, utcnow
from backend.errors import InvalidInput
from backend.flags.models import SEVERITIES, ClientSummary, Episode, Flag
from backend.overview.schemas import (
    CaseloadRow,
    QueueItem,
    TeamOverview,
    TeamWeek,
    TherapistOverview,
    TherapistWeek,
)
from backend.overview.waiting import ruptures_waiting, talk_requests_waiting
from backend.ratings.models import Rating
from backend.teams.models import Team
from backend.teams.service import supervised_therapists
from backend.therapy.models import TherapySession
from backend.users.models import Role, User
from scoring.instruments import UnknownInstrument, get_instrument
from scoring.vocabulary import Severity

#: Sparkline length on the caseload table.
SPARKLINE_POINTS = 10
#: An open flag about a session held longer ago than this shows on the supervisor's table.
UNACKNOWLEDGED_AFTER = timedelta(days=7)
#: Two-sided 95% normal quantile for the weekly team mean's interval.
Z_95 = 1.96
QUEUE_LIMIT = 200
#: Severities that ask for the therapist's attention, most pressing first.
_ATTENTION = tuple(s.value for s in sorted(Severity, key=lambda s: s.rank) if s != Severity.info)


def _count_if(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _days_between(earlier: date | None, later: date) -> int | None:
    return None if earlier is None else (later - earlier).days


def _as_date(value: object) -> date:
    """Week starts come back as str (SQLite), datetime or date (PostgreSQL)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _week_start(column: Any, dialect: str) -> Any:
    """The Monday of the ISO week a date falls in, computed by the database."""
    if dialect == "postgresql":
        return cast(func.date_trunc(literal_column("'week'"), column), Date)
    # SQLite: step back six days, then forward to the next Monday (or stay on it).
    return func.date(column, literal_column("'-6 days'"), literal_column("'weekday 1'"))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def caseload(
    *, session: Session, caller: Caller, status: str = "active", limit: int = 1000
) -> list[CaseloadRow]:
    """One row per visible client, the ones that need attention first.

    Plain columns, not ``ClientSummary`` objects, and the rows validated in one call: a
    supervisor's thousand clients made this the slowest call of the dashboard (numbers in
    docs/decisions.md, "The caseload in one query of plain columns").
    """
    require(caller, READ_CLINICAL_DATA)
    record(session=session, action="read_caseload", caller=caller, object_id=status)
    in_scope = (visible_clients(caller), Client.status == status)
    # Per client, from its rows of the index on (client_id, held_on): a GROUP BY over the
    # sessions of every visible client sorted about 50,000 of them for a supervisor.
    held = (
        select(func.count())
        .select_from(TherapySession)
        .where(col(TherapySession.client_id) == Client.id)
        .scalar_subquery()
    )
    flags = (
        select(
            Flag.client_id.label("client_id"),
            *(_count_if(Flag.severity == s).label(s) for s in SEVERITIES),
            func.min(Flag.created_at).label("oldest_open_at"),
        )
        .join(Client, col(Client.id) == Flag.client_id)
        .where(*in_scope, Flag.status == "open")
        .group_by(col(Flag.client_id))
        .subquery()
    )
    counts = {s: func.coalesce(flags.c[s], 0) for s in SEVERITIES}
    attention = case(
        *((counts[s] > 0, rank) for rank, s in enumerate(_ATTENTION)), else_=len(_ATTENTION)
    )
    rows = session.exec(
        select(
            Client.code,
            Client.status,
            Client.label,
            Client.therapist_id,
            col(User.display_name).label("therapist_name"),
            col(ClientSummary.client_id).label("summary_of"),
            ClientSummary.instrument,
            ClientSummary.ratings_count,
            ClientSummary.last_held_on,
            ClientSummary.latest_total,
            ClientSummary.change_from_previous,
            ClientSummary.recent_totals,
            ClientSummary.repair_status,
            ClientSummary.sessions_without_rating,
            held.label("held"),
            *(count.label(s) for s, count in counts.items()),
            flags.c.oldest_open_at,
        )
        .join(User, col(User.id) == Client.therapist_id)
        .join(ClientSummary, col(ClientSummary.client_id) == Client.id, isouter=True)
        .join(flags, flags.c.client_id == Client.id, isouter=True)
        .where(*in_scope)
        # severity, then how far below the client's own range, then how long it has waited
        .order_by(
            attention,
            nulls_last(col(ClientSummary.below_usual).desc()),
            nulls_last(flags.c.oldest_open_at.asc()),
            Client.code,
        )
        .limit(limit)
    ).mappings()
    on, now = today(), utcnow()
    return _CASELOAD_ROWS.validate_python([_caseload_row(row, on=on, now=now) for row in rows])


#: Validates a whole caseload in one call: a model built per row cost twice as much.
_CASELOAD_ROWS = TypeAdapter(list[CaseloadRow])


def _caseload_row(row: RowMapping, *, on: date, now: datetime) -> dict[str, Any]:
    """A caseload row's fields; a client scoring has not seen yet has no summary."""
    open_flags = {s: int(row[s]) for s in SEVERITIES}
    scored = row["summary_of"] is not None
    last_rated = row["last_held_on"]
    oldest = row["oldest_open_at"]
    return {
        "code": row["code"],
        "status": row["status"],
        "therapist_id": row["therapist_id"],
        "therapist_name": row["therapist_name"],
        "instrument": row["instrument"],
        "sessions_count": int(row["held"]),
        "ratings_count": row["ratings_count"] if scored else 0,
        "last_rated_on": last_rated,
        "days_since_last_rating": _days_between(last_rated, on),
        "latest_total": row["latest_total"],
        "change_from_previous": row["change_from_previous"],
        "recent_totals": list(row["recent_totals"] or [])[-SPARKLINE_POINTS:],
        "open_flags": open_flags,
        "top_severity": next((s for s in reversed(SEVERITIES) if open_flags[s]), None),
        "oldest_unacknowledged_at": oldest,
        "oldest_unacknowledged_days": None if oldest is None else (now - oldest).days,
        "repair_status": row["repair_status"] if scored else "none",
        "sessions_without_rating": row["sessions_without_rating"] if scored else 0,
        "label": row["label"],
    }


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 3)


def _team_week(week: date, n: int, mean: float, mean_of_squares: float) -> TeamWeek:
    sd = None
    if n >= 2:
        # Sample SD from the two running sums; clamp the rounding noise below zero.
        sd = math.sqrt(max(mean_of_squares - mean * mean, 0.0) * n / (n - 1))
    half = None if sd is None else Z_95 * sd / math.sqrt(n)
    return TeamWeek(
        week_start=week,
        ratings=n,
        mean_total=round(mean, 2),
        sd_total=None if sd is None else round(sd, 2),
        ci_low=None if half is None else round(mean - half, 2),
        ci_high=None if half is None else round(mean + half, 2),
    )


def team_overview(*, session: Session, caller: Caller, weeks: int, instrument: str) -> TeamOverview:
    """How the supervisor's teams are trending, per therapist, and what is waiting on whom.

    Only supervisors have a team overview: a therapist's own numbers are on their
    caseload, and an administrator reads no clinical data. Each step below is one
    aggregate query over the caller's visible clients.
    """
    _check_team_overview_request(caller=caller, instrument=instrument)
    record(session=session, action="read_team_overview", caller=caller, object_id=instrument)
    start = _monday(today()) - timedelta(weeks=weeks - 1)
    visible = visible_clients(caller)
    active = (visible, Client.status == "active")
    weekly = _weekly_sums(session, visible=visible, start=start, instrument=instrument)
    therapist_weekly = [_therapist_week(row) for row in weekly]
    counts = _TherapistCounts(
        active_clients=_active_clients(session, active=active),
        open_flags=_open_flag_counts(session, active=active, on=today()),
        episodes=_episode_counts(session, visible=visible, start=start),
        held=_held_and_rated(therapist_weekly),
    )
    return TeamOverview(
        instrument=instrument,
        weeks=weeks,
        period_start=start,
        team_weekly=_team_weeks(weekly),
        therapist_weekly=therapist_weekly,
        therapists=[
            _therapist_overview(therapist, counts)
            for therapist in _team_therapists(session, caller=caller)
        ],
        queue=_queue(session, active),
        talk_requests=talk_requests_waiting(session, active),
        ruptures=ruptures_waiting(session, active),
    )


def _check_team_overview_request(*, caller: Caller, instrument: str) -> None:
    require(caller, OVERSEE_TEAMS)
    try:
        get_instrument(instrument)
    except UnknownInstrument:
        raise InvalidInput(f"Unknown instrument {instrument!r}.", field="instrument") from None


def _team_therapists(session: Session, *, caller: Caller) -> list[RowMapping]:
    """The active therapists of the teams the caller supervises, by name:
    ``therapist_id``, ``therapist_name``, ``team_name``."""
    return list(
        session.exec(
            select(
                col(User.id).label("therapist_id"),
                col(User.display_name).label("therapist_name"),
                col(Team.name).label("team_name"),
            )
            .join(Team, col(Team.id) == User.team_id, isouter=True)
            .where(
                User.role == Role.therapist.value, col(User.id).in_(supervised_therapists(caller))
            )
            .where(col(User.active))
            .order_by(User.display_name, User.id)
        ).mappings()
    )


def _weekly_sums(
    session: Session, *, visible: Any, start: date, instrument: str
) -> list[RowMapping]:
    """Per therapist and week of the period: ``sessions`` held, ``rated_sessions``, and of
    the ratings on ``instrument`` their count (``ratings``), ``total_sum`` and
    ``total_squares``. One pass over the period's sessions gives both the therapists'
    weeks and the team's: the team's mean and SD follow from the three sums."""
    dialect = session.get_bind().dialect.name
    week = _week_start(TherapySession.held_on, dialect).label("week")
    on_instrument = Rating.instrument == instrument
    return list(
        session.exec(
            select(
                col(Client.therapist_id).label("therapist_id"),
                week,
                func.count(col(TherapySession.id)).label("sessions"),
                func.count(col(Rating.id)).label("rated_sessions"),
                _count_if(on_instrument).label("ratings"),
                func.sum(case((on_instrument, Rating.total))).label("total_sum"),
                func.sum(case((on_instrument, Rating.total * Rating.total))).label("total_squares"),
            )
            .select_from(TherapySession)
            .join(Client, col(Client.id) == TherapySession.client_id)
            .join(Rating, col(Rating.therapy_session_id) == TherapySession.id, isouter=True)
            .where(
                visible,
                col(TherapySession.held_on) >= start,
                col(TherapySession.held_on) <= today(),
            )
            .group_by(col(Client.therapist_id), week)
            .order_by(col(Client.therapist_id), week)
        ).mappings()
    )


def _therapist_week(row: RowMapping) -> TherapistWeek:
    ratings, held, rated = (
        int(row["ratings"] or 0),
        int(row["sessions"]),
        int(row["rated_sessions"]),
    )
    return TherapistWeek(
        therapist_id=row["therapist_id"],
        week_start=_as_date(row["week"]),
        sessions=held,
        rated_sessions=rated,
        mean_total=round(float(row["total_sum"]) / ratings, 2) if ratings else None,
        response_rate=_rate(rated, held),
    )


def _team_weeks(weekly: list[RowMapping]) -> list[TeamWeek]:
    """The team's weekly mean and interval, pooled from the therapists' weekly sums."""
    pooled: dict[date, tuple[int, float, float]] = {}
    for row in weekly:
        ratings = int(row["ratings"] or 0)
        if not ratings:
            continue
        week = _as_date(row["week"])
        n, total, squares = pooled.get(week, (0, 0.0, 0.0))
        pooled[week] = (
            n + ratings,
            total + float(row["total_sum"]),
            squares + float(row["total_squares"]),
        )
    return [
        _team_week(week, n, total / n, squares / n)
        for week, (n, total, squares) in sorted(pooled.items())
    ]


def _active_clients(session: Session, *, active: tuple[Any, ...]) -> dict[int, int]:
    """Active clients per therapist."""
    rows = session.exec(
        select(
            col(Client.therapist_id).label("therapist_id"),
            func.count(col(Client.id)).label("clients"),
        )
        .where(*active)
        .group_by(col(Client.therapist_id))
    ).mappings()
    return {row["therapist_id"]: int(row["clients"]) for row in rows}


def _open_flag_counts(
    session: Session, *, active: tuple[Any, ...], on: date
) -> dict[int, RowMapping]:
    """Per therapist, one pass over the open flags: ``clients_with_warning`` (a warning or
    urgent flag open) and ``unacknowledged`` (still open, about a session held more than
    ``UNACKNOWLEDGED_AFTER`` before ``on``). Counted from the session, not from when
    scoring raised the flag: a rescore raises flags about old sessions afresh."""
    warned = case((col(Flag.severity).in_(("warning", "urgent")), Flag.client_id))
    rows = session.exec(
        select(
            col(Client.therapist_id).label("therapist_id"),
            func.count(distinct(warned)).label("clients_with_warning"),
            _count_if(Flag.held_on < on - UNACKNOWLEDGED_AFTER).label("unacknowledged"),
        )
        .join(Client, col(Client.id) == Flag.client_id)
        .where(*active, Flag.status == "open")
        .group_by(col(Client.therapist_id))
    ).mappings()
    return {row["therapist_id"]: row for row in rows}


def _episode_counts(session: Session, *, visible: Any, start: date) -> dict[int, RowMapping]:
    """Per therapist, the rupture episodes opened in the period: ``episodes``,
    ``repaired`` and ``unrepaired``."""
    rows = session.exec(
        select(
            col(Client.therapist_id).label("therapist_id"),
            func.count(col(Episode.id)).label("episodes"),
            _count_if(Episode.status == "repaired").label("repaired"),
            _count_if(Episode.status == "unrepaired").label("unrepaired"),
        )
        .join(Client, col(Client.id) == Episode.client_id)
        .where(visible, col(Episode.opened_on) >= start)
        .group_by(col(Client.therapist_id))
    ).mappings()
    return {row["therapist_id"]: row for row in rows}


def _held_and_rated(therapist_weekly: list[TherapistWeek]) -> dict[int, tuple[int, int]]:
    """Sessions held and rated per therapist over the period, from their weeks."""
    totals: dict[int, tuple[int, int]] = {}
    for week in therapist_weekly:
        held, rated = totals.get(week.therapist_id, (0, 0))
        totals[week.therapist_id] = (held + week.sessions, rated + week.rated_sessions)
    return totals


@dataclass(frozen=True)
class _TherapistCounts:
    """The per-therapist numbers of the overview, keyed by therapist id."""

    active_clients: dict[int, int]
    open_flags: dict[int, RowMapping]
    episodes: dict[int, RowMapping]
    held: dict[int, tuple[int, int]]


def _therapist_overview(therapist: RowMapping, counts: _TherapistCounts) -> TherapistOverview:
    tid = therapist["therapist_id"]
    active_clients = counts.active_clients.get(tid, 0)
    flags = counts.open_flags.get(tid, {})
    episodes = counts.episodes.get(tid, {})
    with_warning = int(flags.get("clients_with_warning") or 0)
    repaired = int(episodes.get("repaired") or 0)
    unrepaired = int(episodes.get("unrepaired") or 0)
    held, rated = counts.held.get(tid, (0, 0))
    return TherapistOverview(
        therapist_id=tid,
        therapist_name=therapist["therapist_name"],
        team_name=therapist["team_name"],
        active_clients=active_clients,
        sessions=held,
        rated_sessions=rated,
        response_rate=_rate(rated, held),
        clients_with_warning=with_warning,
        warning_share=_rate(with_warning, active_clients),
        unacknowledged_over_7_days=int(flags.get("unacknowledged") or 0),
        episodes=int(episodes.get("episodes") or 0),
        repaired_episodes=repaired,
        unrepaired_episodes=unrepaired,
        repair_rate=_rate(repaired, repaired + unrepaired),
    )


def _queue(session: Session, active: tuple[Any, ...]) -> list[QueueItem]:
    """Urgent open flags, then unrepaired and still-open ruptures, oldest first."""
    # Only the columns the queue shows: whole rows would parse each flag's evidence JSON.
    whose = (
        Client.code.label("client_code"),
        col(Client.therapist_id).label("therapist_id"),
        col(User.display_name).label("therapist_name"),
    )
    urgent = session.exec(
        select(
            col(Flag.held_on).label("since"), Flag.severity, Flag.status, Flag.explanation, *whose
        )
        .join(Client, col(Client.id) == Flag.client_id)
        .join(User, col(User.id) == Client.therapist_id)
        .where(*active, Flag.status == "open", Flag.severity == "urgent")
        .order_by(col(Flag.held_on), col(Flag.id))
        .limit(QUEUE_LIMIT)
    ).mappings()
    unrepaired_first = case((Episode.status == "unrepaired", 0), else_=1)
    ruptures = session.exec(
        select(
            col(Episode.opened_on).label("since"),
            Episode.severity,
            Episode.status,
            Episode.explanation,
            *whose,
        )
        .join(Client, col(Client.id) == Episode.client_id)
        .join(User, col(User.id) == Client.therapist_id)
        .where(*active, col(Episode.status).in_(("open", "unrepaired")))
        .order_by(unrepaired_first, col(Episode.opened_on), col(Episode.id))
        .limit(QUEUE_LIMIT)
    ).mappings()
    items = [
        QueueItem(kind=kind, **row)
        for kind, rows in (("flag", urgent.all()), ("episode", ruptures.all()))
        for row in rows
    ]
    return items[:QUEUE_LIMIT]


__all__ = ["caseload", "team_overview"]
