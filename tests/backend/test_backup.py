"""rapport backup / restore: an online, consistent copy of SQLite, restored table for table."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from backend.backup import BackupRefused, backup, restore
from backend.cli import app as cli
from backend.config import Settings, get_settings
from backend.db import Database
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in
from tests.conftest import migrate


def _tables(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as connection:
        names = [
            n
            for (n,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        tables = {n: sorted(connection.execute(f'SELECT * FROM "{n}"'), key=repr) for n in names}
    connection.close()
    return tables


@pytest.fixture
def populated(tmp_path, api):
    """A file database with users, clients, sessions, a rating, flags and audit rows."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    database = Database(Settings(database_url=url, mode="dev"))
    migrate(database)
    from backend.db import reset_database

    reset_database(database)
    me = signed_in(database)
    client = make_client(database, me)
    _, token = make_session_with_link(database, client)
    answer = {"scores": alliance4(relationship=3), "wants_to_talk": True}
    assert api.post(f"/api/public/ratings/{token}", json=answer).status_code == 201
    assert api.get(f"/api/clients/{client.code}/ratings", headers=me.headers).status_code == 200
    yield url, tmp_path / "live.db"
    database.engine.dispose()


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_a_backup_restores_every_table_exactly(populated, tmp_path) -> None:
    url, live = populated
    before = _tables(live)
    assert before["rating"] and before["flag"] and before["audit_event"]
    backup(database_url=url, target=tmp_path / "copy.db")
    fresh = f"sqlite:///{tmp_path / 'restored.db'}"
    restore(database_url=fresh, source=tmp_path / "copy.db")
    assert _tables(tmp_path / "restored.db") == before


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_restore_refuses_to_overwrite_data_without_force(populated, tmp_path) -> None:
    url, _ = populated
    backup(database_url=url, target=tmp_path / "copy.db")
    with pytest.raises(BackupRefused, match="--force"):
        restore(database_url=url, source=tmp_path / "copy.db")
    restore(database_url=url, source=tmp_path / "copy.db", force=True)


@pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)
def test_the_cli_backs_up_and_restores(populated, tmp_path, monkeypatch) -> None:
    url, _ = populated
    runner = CliRunner()
    monkeypatch.setenv("RAPPORT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        made = runner.invoke(cli, ["backup", str(tmp_path / "cli.db")])
        assert made.exit_code == 0, made.output
        refused = runner.invoke(cli, ["restore", str(tmp_path / "cli.db")])
        assert refused.exit_code == 1
        forced = runner.invoke(cli, ["restore", "--force", str(tmp_path / "cli.db")])
        assert forced.exit_code == 0, forced.output
        again = runner.invoke(cli, ["backup", str(tmp_path / "cli.db")])
        assert again.exit_code == 1  # never overwrites an earlier backup
    finally:
        monkeypatch.delenv("RAPPORT_DATABASE_URL")
        get_settings.cache_clear()


def test_postgresql_is_pointed_to_pg_dump(tmp_path) -> None:
    with pytest.raises(BackupRefused, match="pg_dump"):
        backup(database_url="postgresql+psycopg://x@localhost/db", target=tmp_path / "b")
