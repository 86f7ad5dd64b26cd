"""Exports, scoped and audited like every other read of clinical data."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.caller import EXPORT_TEAMS, READ_CLINICAL_DATA, Caller, require
from backend.clients.models import Client
from backend.clients.scope import client_for, visible_clients
from backend.errors import NotFound
from backend.exports.record import ClientRecord, client_record
from backend.exports.spreadsheet import Cell
from backend.flags.models import Episode, Flag
from backend.ratings.models import Rating
from backend.teams.models import Team
from backend.teams.service import supervises
from backend.therapy.models import TherapySession
from backend.users.models import User
from scoring.instruments import all_item_keys


def record_for_export(*, session: Session, caller: Caller, code: str, what: str) -> ClientRecord:
    """The client's whole record, audited as an export of ``what``.

    Scoped like the client record: the therapist, the supervisors of their team, and
    administrators, who export on the client's request (the client has no account).
    """
    client = client_for(
        session=session,
        caller=caller,
        code=code,
        action="export_client",
        purpose="record",
        object_id=what,
    )
    return client_record(session=session, client=client)


@dataclass(frozen=True)
class RatingsTable:
    header: list[str]
    rows: list[list[Cell]]
    clients: int


def _visible_rows(session: Session, caller: Caller, model: type, *, order_by: Any) -> Iterable[Any]:
    """Every row of ``model`` (a per-client table) of the clients the caller may see."""
    return session.exec(
        select(model)
        .join(Client, col(Client.id) == model.client_id)
        .where(visible_clients(caller))
        .order_by(order_by)
    )


def _flags_by_session(session: Session, caller: Caller) -> dict[tuple[int, int], list[str]]:
    found: dict[tuple[int, int], list[str]] = defaultdict(list)
    for flag in _visible_rows(session, caller, Flag, order_by=col(Flag.id)):
        what = f"{flag.severity}:{flag.rule}" + (f":{flag.item}" if flag.item else "")
        done = flag.status + (f", {flag.action}" if flag.action else "")
        found[(flag.client_id, flag.session_number)].append(f"{what} ({done})")
    return found


def _episodes_by_client(session: Session, caller: Caller) -> dict[int, list[Episode]]:
    found: dict[int, list[Episode]] = defaultdict(list)
    for episode in _visible_rows(session, caller, Episode, order_by=col(Episode.opened_session)):
        found[episode.client_id].append(episode)
    return found


def _episode_status(episodes: Sequence[Episode], instrument: str, session_number: int) -> str:
    """The status of the rupture episode this session falls in, if any."""
    for episode in episodes:
        closed = episode.closed_session
        if (
            episode.instrument == instrument
            and episode.opened_session <= session_number
            and (closed is None or session_number <= closed)
        ):
            return episode.status
    return ""


def ratings_table(
    *, session: Session, caller: Caller, team_id: int | None = None, with_staff: bool
) -> RatingsTable:
    """One row per rating of the caller's clients: scores, total, flags, episode status."""
    items = list(all_item_keys())
    query = (
        select(Rating, TherapySession, Client, User.display_name, Team.name)
        .join(TherapySession, col(TherapySession.id) == Rating.therapy_session_id)
        .join(Client, col(Client.id) == TherapySession.client_id)
        .join(User, col(User.id) == Client.therapist_id)
        .join(Team, col(Team.id) == User.team_id, isouter=True)
        .where(visible_clients(caller))
        .order_by(col(Client.code), col(TherapySession.session_number))
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    flags = _flags_by_session(session, caller)
    episodes = _episodes_by_client(session, caller)
    header = ["client_code", "client_status"]
    header += ["therapist", "team"] if with_staff else []
    header += ["session_number", "held_on", "instrument", "submitted_at", *items, "total"]
    header += ["wants_to_talk", "flags", "episode_status"]
    rows: list[list[Cell]] = []
    codes: set[str] = set()
    for rating, therapy_session, client, therapist, team in session.exec(query):
        codes.add(client.code)
        row: list[Cell] = [client.code, client.status]
        row += [therapist, team] if with_staff else []
        row += [
            therapy_session.session_number,
            therapy_session.held_on.isoformat(),
            rating.instrument,
            rating.submitted_at.isoformat(timespec="seconds"),
            *(rating.scores.get(key) for key in items),
            rating.total,
            rating.wants_to_talk,
            "; ".join(flags.get((client.id, therapy_session.session_number), [])),
            _episode_status(
                episodes.get(client.id, []), rating.instrument, therapy_session.session_number
            ),
        ]
        rows.append(row)
    return RatingsTable(header=header, rows=rows, clients=len(codes))


def caseload_table(*, session: Session, caller: Caller) -> RatingsTable:
    """The caller's caseload (a supervisor: their teams'), as /api/caseload scopes it."""
    require(caller, READ_CLINICAL_DATA)
    table = ratings_table(session=session, caller=caller, with_staff=False)
    record(
        session=session,
        action="export_caseload_csv",
        caller=caller,
        object_id=f"csv: {len(table.rows)} ratings of {table.clients} clients",
    )
    return table


def team_table(*, session: Session, caller: Caller, team_id: int | None) -> RatingsTable:
    """A supervisor's teams (or one of them), with each client's therapist and team."""
    attempting("export_team_csv", object_id=None if team_id is None else f"team:{team_id}")
    require(caller, EXPORT_TEAMS)
    if team_id is not None and not supervises(session=session, caller=caller, team_id=team_id):
        raise NotFound("No such team among the teams you supervise.")
    table = ratings_table(session=session, caller=caller, team_id=team_id, with_staff=True)
    scope = "all teams" if team_id is None else f"team {team_id}"
    record(
        session=session,
        action="export_team_csv",
        caller=caller,
        object_id=f"csv {scope}: {len(table.rows)} ratings of {table.clients} clients",
    )
    return table
