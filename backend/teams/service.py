"""Teams and who supervises them."""

from __future__ import annotations

from sqlalchemy import Select
from sqlmodel import Session, col, delete, select

from backend.auth.caller import Caller
from backend.teams.models import Team, TeamSupervisor
from backend.users.models import User


def supervised_therapists(caller: Caller) -> Select:
    """The ids of everyone in the teams the caller supervises, as a subquery.

    The one answer to "whom does a supervisor oversee": their clients, their audit
    events and their team overview all start here.
    """
    supervised_teams = select(TeamSupervisor.team_id).where(TeamSupervisor.user_id == caller.id)
    return select(User.id).where(col(User.team_id).in_(supervised_teams))


def supervises(*, session: Session, caller: Caller, team_id: int) -> bool:
    """Whether the caller supervises this team."""
    return session.get(TeamSupervisor, (team_id, caller.id)) is not None


def team_named(*, session: Session, name: str) -> Team:
    """The team with this name, created if it does not exist yet."""
    team = session.exec(select(Team).where(Team.name == name)).first()
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def supervised_team_ids(*, session: Session, user_id: int) -> list[int]:
    rows = session.exec(select(TeamSupervisor.team_id).where(TeamSupervisor.user_id == user_id))
    return sorted(rows)


def add_supervisor(*, session: Session, team_id: int, user_id: int) -> None:
    if session.get(TeamSupervisor, (team_id, user_id)) is None:
        session.add(TeamSupervisor(team_id=team_id, user_id=user_id))
        session.flush()


def remove_supervisor(*, session: Session, team_id: int, user_id: int) -> None:
    session.exec(
        delete(TeamSupervisor).where(
            col(TeamSupervisor.team_id) == team_id, col(TeamSupervisor.user_id) == user_id
        )
    )


def set_supervised_teams(*, session: Session, user_id: int, names: list[str]) -> None:
    """The supervisor oversees exactly these teams (created if new) from now on."""
    wanted = {team_named(session=session, name=name).id for name in names}
    current = set(supervised_team_ids(session=session, user_id=user_id))
    for team_id in current - wanted:
        remove_supervisor(session=session, team_id=team_id, user_id=user_id)
    for team_id in wanted - current:
        add_supervisor(session=session, team_id=team_id, user_id=user_id)
