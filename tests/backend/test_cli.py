"""The rapport command: users from stdin, demo data, rescoring."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from typer.testing import CliRunner

from backend.cli import app
from backend.flags.models import Flag
from backend.teams.models import TeamSupervisor
from backend.users.models import User

runner = CliRunner()
PASSWORD = "a long enough passphrase\n"


def test_user_create_reads_the_password_from_stdin(db) -> None:
    args = ["user", "create", "lead@clinic.test", "--role", "supervisor"]
    result = runner.invoke(app, [*args, "--name", "Lead", "--team", "East"], input=PASSWORD)
    assert result.exit_code == 0, result.output
    with db.reading() as session:
        user = session.exec(select(User).where(User.email == "lead@clinic.test")).one()
        assert session.get(TeamSupervisor, (user.team_id, user.id)) is not None
    assert "passphrase" not in result.output


def test_user_create_refuses_a_short_password(db) -> None:
    args = ["user", "create", "x@clinic.test", "--role", "therapist", "--name", "X", "--team", "E"]
    result = runner.invoke(app, args, input="short\n")
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_demo_loads_once_and_prints_sign_ins_and_a_link(db) -> None:
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "Loaded demo data" in first.output
    assert "therapist@demo.rapport" in first.output
    assert "/r/" in first.output
    with db.reading() as session:
        flags = session.exec(select(func.count()).select_from(Flag)).one()
    assert flags > 0
    again = runner.invoke(app, ["demo"])
    assert "already has data" in again.output


def test_rescore_is_idempotent(db) -> None:
    runner.invoke(app, ["demo"])
    with db.reading() as session:
        before = session.exec(
            select(Flag.id, Flag.status, Flag.explanation).order_by(Flag.id)
        ).all()
    result = runner.invoke(app, ["rescore"])
    assert result.exit_code == 0, result.output
    with db.reading() as session:
        after = session.exec(select(Flag.id, Flag.status, Flag.explanation).order_by(Flag.id)).all()
    assert before == after
