"""The one place the service reads the clock, so tests can move time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return utcnow().date()


def today_in(time_zone: str) -> date:
    """Today where the clinic is: just after midnight UTC it is still yesterday in Denver,
    and already afternoon in Sydney."""
    return utcnow().astimezone(ZoneInfo(time_zone)).date()
