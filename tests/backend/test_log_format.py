"""RAPPORT_LOG_FORMAT=json: a JSON object a line, with the request id and no token."""

from __future__ import annotations

import json
import logging
import sys

from backend.audit.context import RequestContext, _current
from backend.log_format import JsonLines
from backend.log_redaction import install_token_redaction


def record(message: str, *args: object, exc_info=None) -> logging.LogRecord:
    install_token_redaction()  # as the app does: redaction happens as a record is made
    return logging.getLogger("rapport").makeRecord(
        "rapport", logging.WARNING, __file__, 1, message, args, exc_info
    )


def test_a_line_is_one_json_object_with_the_request_id() -> None:
    reset = _current.set(RequestContext(request_id="req-42", address=None))
    try:
        line = JsonLines().format(record("scoring failed for %d client(s)", 3))
    finally:
        _current.reset(reset)
    entry = json.loads(line)
    assert entry["request_id"] == "req-42"
    assert entry["message"] == "scoring failed for 3 client(s)"
    assert (entry["level"], entry["logger"]) == ("WARNING", "rapport")


def test_a_link_token_is_redacted_and_an_exception_named_by_its_type_only() -> None:
    try:
        raise ValueError("a comment the client wrote")
    except ValueError:
        made = record('"GET %s HTTP/1.1" 200', "/r/SECRETtoken123", exc_info=sys.exc_info())
    line = JsonLines().format(made)
    assert "SECRETtoken123" not in line and "a comment the client wrote" not in line
    assert json.loads(line)["exception"] == "ValueError"
    assert "/r/[redacted]" in json.loads(line)["message"]
