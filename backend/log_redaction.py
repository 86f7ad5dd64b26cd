"""Keep rating-link tokens out of every log line.

A token in a log is a working key to a client's rating page for as long as the
link lives, so paths like ``/r/<token>`` are rewritten to ``/r/[redacted]``
before any handler sees them: uvicorn's access log, our own loggers, and any
library that logs a URL.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

TOKEN_PATH = re.compile(r"(/r/|/api/public/ratings/)[^/?#%\[\s\"'<>]+")
REDACTED = r"\1[redacted]"
#: Anything shaped like a token, wherever it stands: a malformed path (``/r//TOKEN``,
#: ``/R/TOKEN``, a zero-width space before it) still carries a working token. Tokens are
#: 43 URL-safe characters; percent-escapes count as part of the run.
TOKEN_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])(?:[A-Za-z0-9_-]|%[0-9A-Fa-f]{2}){32,}")


def _shaped(match: re.Match[str]) -> str:
    run = match.group(0)
    looks_random = any(c.isdigit() for c in run) and any(c.isalpha() for c in run)
    return "[redacted]" if looks_random else run


def redact_tokens(text: str) -> str:
    return TOKEN_SHAPED.sub(_shaped, TOKEN_PATH.sub(REDACTED, text))


def _needs_redaction(text: str) -> bool:
    return redact_tokens(text) != text


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_tokens(value)
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)  # e.g. an httpx.URL
    return redact_tokens(text) if _needs_redaction(text) else value


class TokenRedactingFilter(logging.Filter):
    """Rewrites a record's message and arguments in place; never drops a record.

    Arguments keep their positions where possible because formatters such as
    uvicorn's access formatter unpack them. Tokens never contain ``%``, so a
    template like ``/r/%s`` keeps its placeholder; if the formatted message still
    shows a token, the record is flattened to its redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        if _needs_redaction(message):  # the path and the token came in separate pieces
            record.msg, record.args = redact_tokens(message), ()
        return True


_FILTER = TokenRedactingFilter()
_installed = False


def install_token_redaction() -> None:
    """Redact on uvicorn's loggers and, through the record factory, on every other logger.

    Idempotent. A filter on a logger does not see records propagated from its
    children, hence the record factory for everything that is not uvicorn's.
    """
    global _installed
    if _installed:
        return
    for name in ("uvicorn.access", "uvicorn.error", "rapport"):
        logging.getLogger(name).addFilter(_FILTER)
    make_record = logging.getLogRecordFactory()

    def redacting_record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        _FILTER.filter(record)
        return record

    logging.setLogRecordFactory(redacting_record_factory)
    _installed = True
