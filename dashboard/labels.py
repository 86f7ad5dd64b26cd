"""Plain words and a colour-blind-safe palette for what the API returns as codes.

Colours are Okabe & Ito (2008), distinguishable with the common colour-vision
deficiencies; every colour is paired with an icon or a word so nothing depends on
colour alone.
"""

from __future__ import annotations

from datetime import date

#: Every date the dashboard writes out: day, month name, year, read the same way in every
#: country ("03 Nov 2026"), where 03/11/2026 is March to some and November to others.
DAY_FORMAT = "%d %b %Y"
#: The same, for Streamlit's table columns (moment.js tokens); the column still sorts by date.
DAY_COLUMN_FORMAT = "DD MMM YYYY"


def day_label(day: date | str) -> str:
    """A date (or the API's ISO date string) as the dashboard writes dates."""
    return (date.fromisoformat(day[:10]) if isinstance(day, str) else day).strftime(DAY_FORMAT)


PALETTE = {
    "urgent": "#D55E00",  # vermillion
    "warning": "#E69F00",  # orange
    "talk": "#0072B2",  # blue
    "info": "#999999",  # grey
    "good": "#009E73",  # bluish green
    "neutral": "#56B4E9",  # sky blue
}

#: Plain symbols (present in common system fonts) that match the chart marker shapes.
SEVERITY_LABELS = {
    "urgent": "✖ Urgent",
    "warning": "⚠ Warning",
    "talk": "◆ Talk",
    "info": "○ Note",
}
NO_FLAG = "✓ Nothing open"
SEVERITY_ORDER = ("urgent", "warning", "talk", "info")
#: Plotly marker symbols, so severities differ by shape as well as colour.
SEVERITY_SYMBOLS = {
    "urgent": "x",
    "warning": "triangle-up",
    "talk": "diamond",
    "info": "circle-open",
}

#: What the therapist did, in the order offered; none is preselected (the form starts empty).
ACTION_LABELS = {
    "planned_next_session": "Will raise it next session (planned)",
    "raised_in_session": "Raised it in session",
    "adjusted_approach": "Adjusted my approach",
    "checked_in_outside_session": "Checked in outside the session",
    "consulted_supervisor": "Consulted my supervisor",
    "referred": "Referred the client",
    "no_action_needed": "No action needed",
    "other": "Other (say what in the note)",
}
#: Actions still to be done: the flag card offers to record them as done.
PLANNED_ACTIONS = ("planned_next_session",)
#: Actions whose note must say what was done.
ACTIONS_NEEDING_A_NOTE = ("other",)

REPAIR_LABELS = {
    "none": "No rupture",
    "open": "Rupture open",
    "repaired": "Repaired",
    "unrepaired": "Not repaired",
}

#: How a rupture episode is labelled on the trajectory ("Rupture: repaired").
EPISODE_LABELS = {"open": "open", "repaired": "repaired", "unrepaired": "not repaired"}

EPISODE_COLOURS = {
    "open": PALETTE["warning"],
    "repaired": PALETTE["good"],
    "unrepaired": PALETTE["urgent"],
}

FLAG_STATUS_LABELS = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "withdrawn": "Withdrawn (rules changed)",
}

LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}


def severity_label(severity: str | None) -> str:
    return SEVERITY_LABELS.get(severity or "", NO_FLAG)


def change_label(change: float | None) -> str:
    """An arrow and a signed number, so direction reads without colour."""
    if change is None:
        return "–"
    if abs(change) < 0.05:
        return "→ 0.0"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {change:+.1f}"


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"
