"""Alembic from code (CLI, readiness check, tests), with the service's settings."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logger"] = False
    return config


def migration_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade_to_head() -> None:
    command.upgrade(alembic_config(), "head")
