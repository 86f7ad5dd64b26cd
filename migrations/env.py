"""Alembic environment: the same metadata and engine settings as the service."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from backend.config import get_settings
from backend.db import Database, UTCDateTime
from backend.models import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(type_: str, obj: object, _autogen_context: object) -> str | bool:
    # UTCDateTime is a plain DateTime in the database; keep migrations free of app imports.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    database = Database(get_settings())
    try:
        with database.engine.connect() as connection:
            _run(connection)
    finally:
        database.engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
