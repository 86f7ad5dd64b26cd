"""The rapport command: users from stdin, demo data, rescoring."""

from __future__ import annotations

import pytest
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


def test_production_refuses_to_start_while_demo_accounts_exist_and_says_how_to_remove_them(
    db,
) -> None:
    import os
    import subprocess
    import sys

    from tests.backend.factories import make_client, make_session_with_link, make_user

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the start-up check is the same query on both databases")
    demo_therapist = make_user(db, email="therapist@demo.rapport")
    make_session_with_link(db, make_client(db, demo_therapist))
    real = make_user(db, email="real@clinic.test")
    env = {
        **os.environ,
        "RAPPORT_MODE": "production",
        "RAPPORT_SECRET_KEY": "p" * 48,
        "RAPPORT_DATABASE_URL": str(db.engine.url),
    }

    def start() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "import backend.main"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    refused = start()
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Rapport cannot start. This database holds 1 demo accounts (@demo.rapport), which "
        "sign in with a published password; remove them with 'rapport demo --remove' or use "
        "another RAPPORT_DATABASE_URL."
    ]

    removed = runner.invoke(app, ["demo", "--remove"])
    assert removed.exit_code == 0, removed.output
    assert "Removed 1 demo accounts and the 1 clients" in removed.output
    with db.reading() as session:
        assert session.exec(select(User.email)).all() == [real.email]
    from backend.main import _refuse_demo_accounts_in_production

    _refuse_demo_accounts_in_production()  # starts now (checked in-process: a start costs 5 s)
