"""Run Alembic migrations from code (CLI, test setup) with the service's settings."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from backend.health import ROOT


def upgrade_to_head() -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
