"""Text a person typed: refused when it holds characters no database should store.

PostgreSQL cannot store NUL in text at all (the insert fails, and used to fail every
rating written in the same group commit); SQLite stores it and other C0 control
characters silently, and they break CSV exports and terminals later. Tab, newline and
carriage return are ordinary typing and stay allowed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

#: C0 control characters other than tab (09), newline (0A) and carriage return (0D).
CONTROL_CHARACTERS = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f"
_FORBIDDEN = re.compile(f"[{CONTROL_CHARACTERS}]")
#: Published in the OpenAPI schema so a generated client knows the rule.
NO_CONTROL_CHARACTERS = f"^[^{CONTROL_CHARACTERS}]*$"
#: The same, and not blank: at least one character that is neither a control nor a space.
NOT_BLANK_NO_CONTROL_CHARACTERS = (
    f"^[^{CONTROL_CHARACTERS}]*[^{CONTROL_CHARACTERS}\\s][^{CONTROL_CHARACTERS}]*$"
)
MESSAGE = "must not contain control characters such as NUL (tab and new lines are fine)"


def has_control_characters(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


class _NoControlCharacters:
    """Pydantic metadata: validate after the string checks, publish the pattern."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_refuse, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", NO_CONTROL_CHARACTERS)
        return json_schema


def _refuse(text: str) -> str:
    if has_control_characters(text):
        raise PydanticCustomError("control_characters", MESSAGE)
    return text


#: A string field that refuses C0 control characters (other than tab, CR, LF).
Text = Annotated[str, _NoControlCharacters()]
