"""What the dashboard says when the API refuses a request's shape (422).

The API's validation text is written for programmers ("String should match pattern
'^[^@\\s...]+$'"); a person needs to know what to type instead. A refusal the service
words itself (a session date out of range, a wrong confirmation code) is already a
sentence for people and passes through unchanged.
"""

from __future__ import annotations

from typing import Any

CLIENT_CODE_SHAPE = "Client codes look like ABCD-EF12."

#: What to type instead, by the field the API names (its last part: "query.client_code").
FIELD_MESSAGES: dict[str, str] = {
    "email": "Enter a valid email address, such as name@clinic.example.",
    "display_name": "Enter the person's name.",
    "role": "Choose a role.",
    "team": "Choose a team.",
    "teams": "Team names need at least one character each.",
    "password": "Enter a first password.",
    "client_code": CLIENT_CODE_SHAPE,
    "code": CLIENT_CODE_SHAPE,
    "action": "Actions are single words such as read_client_page.",
    "reason": "Give a reason of at least 3 characters.",
    "label": "A label is one line of at most 24 characters.",
}


def _field_label(field: str) -> str:
    return field.replace("_", " ").capitalize() or "The request"


def _readable(field: str, message: str) -> str:
    name = field.rsplit(".", 1)[-1]
    if name in FIELD_MESSAGES:
        return FIELD_MESSAGES[name]
    if "pattern" in message:  # never show a regular expression to a person
        return f"{_field_label(name)} is not in the expected form."
    return f"{_field_label(name)}: {message[:1].lower()}{message[1:]}."


def readable_refusal(body: dict[str, Any]) -> str | None:
    """A 422's ``errors`` as sentences a person can act on; None when the API's ``detail``
    is already one (the service's own refusals repeat it as their only error)."""
    errors = body.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    problems = [e for e in errors if isinstance(e, dict)]
    if len(problems) == 1 and problems[0].get("message") == body.get("detail"):
        return None
    sentences = [
        _readable(str(e.get("field") or ""), str(e.get("message") or "is not valid."))
        for e in problems
    ]
    return " ".join(dict.fromkeys(sentences)) or None
