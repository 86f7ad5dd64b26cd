"""What a message says: no more than that someone needs attention, and where to look.

Whoever else reads the mailbox (an assistant, a shared inbox, a lock screen) learns
nothing about any client: no scores, no comment, no words about how the client is
doing. An alert names only the pseudonymous code, in its link; a digest only counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from backend.notifications.models import MessageKind

_FOOTER = (
    "\n\n--\nSent by Rapport. The details are only in Rapport, behind your sign-in; "
    "you can choose which summaries you get in the dashboard, under Notifications."
)


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def client_page_url(dashboard_url: str, code: str) -> str:
    """The dashboard opened at one client's page."""
    return f"{dashboard_url.rstrip('/')}/client?{urlencode({'client': code})}"


def urgent_alert(*, dashboard_url: str, client_code: str) -> Mail:
    return Mail(
        subject="Rapport: a client on your caseload needs attention",
        body=(
            "Hello,\n\nA client on your caseload needs attention. Open their page in "
            f"Rapport (sign-in required):\n\n{client_page_url(dashboard_url, client_code)}"
            + _FOOTER
        ),
    )


def supervisor_digest(*, dashboard_url: str, counts: dict[str, Any]) -> Mail:
    rate, held = counts.get("response_rate"), counts["sessions_held"]
    rated = "no sessions held" if rate is None else f"{round(100 * rate)}% of {held} sessions rated"
    week = date.fromisoformat(counts["week_start"]).strftime("%d %b %Y")
    return Mail(
        subject="Rapport: your teams' week",
        body=(
            "Hello,\n\nYour teams in Rapport:\n\n"
            f"  Requests to talk waiting: {counts['talk_requests_waiting']}\n"
            f"  Ruptures unrepaired: {counts['ruptures_unrepaired']}\n"
            f"  Response rate in the week from {week}: {rated}\n\n"
            f"The team overview: {dashboard_url.rstrip('/')}/team" + _FOOTER
        ),
    )


def therapist_digest(*, dashboard_url: str, counts: dict[str, Any]) -> Mail:
    clients = counts["clients_with_open_flags"]
    return Mail(
        subject="Rapport: your caseload today",
        body=(
            f"Hello,\n\n{clients} client{'s' if clients != 1 else ''} on your caseload "
            f"{'have' if clients != 1 else 'has'} something open in Rapport.\n\n"
            f"Your caseload: {dashboard_url.rstrip('/')}/caseload" + _FOOTER
        ),
    )


def render(
    kind: str, *, dashboard_url: str, client_code: str | None, payload: dict[str, Any] | None
) -> Mail:
    """The mail for an outbox row."""
    if kind == MessageKind.urgent_alert:
        assert client_code is not None
        return urgent_alert(dashboard_url=dashboard_url, client_code=client_code)
    if kind == MessageKind.supervisor_digest:
        return supervisor_digest(dashboard_url=dashboard_url, counts=payload or {})
    return therapist_digest(dashboard_url=dashboard_url, counts=payload or {})
