"""``RAPPORT_LOG_FORMAT=json``: one JSON object a line, each with its request's id.

For log shippers that index fields. The message is the same text the plain format
shows, after token redaction (``log_redaction``); an exception is named by its type
only, since a traceback can quote the data being handled.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from backend.audit.context import current_request

#: Loggers whose handlers get the format: uvicorn's (with its access log) and ours.
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "rapport")


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = current_request()
        if context is not None:
            entry["request_id"] = context.request_id
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


def install_log_format(log_format: str) -> None:
    """Give every handler of ``LOGGERS`` the JSON format (``rapport`` gets one if it has none)."""
    if log_format != "json":
        return
    formatter = JsonLines()
    ours = logging.getLogger("rapport")
    if not ours.handlers:
        ours.addHandler(logging.StreamHandler())
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)
