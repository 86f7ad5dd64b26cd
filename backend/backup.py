"""Online backup and restore of a SQLite database with SQLite's backup API.

The backup API copies a consistent snapshot page by page while the service keeps
running; copying the file of a live WAL database could capture a torn state.
PostgreSQL has its own tools (pg_dump / pg_restore), which this module points to.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from backend.config import sqlite_file
from backend.errors import RapportError

PG_MESSAGE = (
    "This database is PostgreSQL: back it up with pg_dump (for example "
    "'pg_dump --format=custom --file=rapport.dump \"$DATABASE_URL\"') and restore with "
    "pg_restore. 'rapport backup' and 'rapport restore' handle SQLite only."
)


class BackupRefused(RapportError):
    status_code = 409


def sqlite_path(database_url: str) -> Path:
    if not database_url.startswith("sqlite"):
        raise BackupRefused(PG_MESSAGE)
    return Path(sqlite_file(database_url))


def _copy(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.execute("PRAGMA busy_timeout = 5000")
        dst.execute("PRAGMA busy_timeout = 5000")
        src.backup(dst)
    src.close()
    dst.close()


def backup(*, database_url: str, target: Path) -> None:
    """A consistent copy of the live database at ``target`` (which must not exist)."""
    source = sqlite_path(database_url)
    if not source.exists():
        raise BackupRefused(f"There is no database at {source}.")
    if target.exists():
        raise BackupRefused(f"{target} already exists; choose a new file name.")
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
    with sqlite3.connect(target) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused(f"The copy at {target} failed its integrity check.")
    check.close()


def has_data(path: Path) -> bool:
    """True if any application table holds a row."""
    if not path.exists():
        return False
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        found = any(
            connection.execute(f'SELECT 1 FROM "{name}" LIMIT 1').fetchone() for name in tables
        )
    connection.close()
    return found


def restore(*, database_url: str, source: Path, force: bool = False) -> None:
    """Replace the database's contents with the backup at ``source``."""
    target = sqlite_path(database_url)
    if not source.exists():
        raise BackupRefused(f"There is no backup at {source}.")
    with sqlite3.connect(source) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupRefused(f"The backup at {source} failed its integrity check.")
    check.close()
    if has_data(target) and not force:
        raise BackupRefused(
            f"{target} already holds data; pass --force to replace it with the backup."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(source, target)
