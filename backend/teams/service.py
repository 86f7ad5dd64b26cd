"""Teams and who supervises them."""

from __future__ import annotations

from sqlmodel import Session, select

from backend.teams.models import Team, TeamSupervisor


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
