"""Plain words and a colour-blind-safe palette for what the API returns as codes.

Colours are Okabe & Ito (2008), distinguishable with the common colour-vision
deficiencies; every colour is paired with an icon or a word so nothing depends on
colour alone.
"""

from __future__ import annotations

from datetime import date

from scoring import vocabulary
from scoring.vocabulary import Action, EpisodeStatus, FlagStatus, Severity

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

# Labels are keyed by the one clinical vocabulary (scoring.vocabulary); a test checks
# that every member has one.

#: Plain symbols (present in common system fonts) that match the chart marker shapes.
SEVERITY_LABELS = {
    Severity.urgent: "✖ Urgent",
    Severity.warning: "⚠ Warning",
    Severity.talk: "◆ Talk",
    Severity.info: "○ Note",
}
NO_FLAG = "✓ Nothing open"
#: Most pressing first, as every list of flags is ordered.
SEVERITY_ORDER = tuple(s.value for s in sorted(Severity, key=lambda s: s.rank))
#: Chart marker shapes (Vega), so severities differ by shape as well as colour. Vega has
#: no "x", so urgent's is a path: a cross turned 45 degrees, as its label's ✖.
SEVERITY_SHAPES = {
    Severity.urgent: (
        "M-0.7,-1L0,-0.3L0.7,-1L1,-0.7L0.3,0L1,0.7L0.7,1L0,0.3L-0.7,1L-1,0.7L-0.3,0L-1,-0.7Z"
    ),
    Severity.warning: "triangle-up",
    Severity.talk: "diamond",
    Severity.info: "circle",
}
#: Severities whose marker is drawn as an outline (a note is context, not an alarm).
OUTLINED_SEVERITIES = (Severity.info.value,)

#: What the therapist did, in the order offered; none is preselected (the form starts empty).
ACTION_LABELS = {
    Action.planned_next_session: "Will raise it next session (planned)",
    Action.raised_in_session: "Raised it in session",
    Action.adjusted_approach: "Adjusted my approach",
    Action.checked_in_outside_session: "Checked in outside the session",
    Action.consulted_supervisor: "Consulted my supervisor",
    Action.referred: "Referred the client",
    Action.no_action_needed: "No action needed",
    Action.other: "Other (say what in the note)",
}
#: Actions still to be done: the flag card offers to record them as done.
PLANNED_ACTIONS = tuple(a.value for a in vocabulary.PLANNED_ACTIONS)
#: Actions whose note must say what was done.
ACTIONS_NEEDING_A_NOTE = tuple(a.value for a in vocabulary.ACTIONS_NEEDING_A_NOTE)

REPAIR_LABELS = {
    "none": "No rupture",
    EpisodeStatus.open: "Rupture open",
    EpisodeStatus.repaired: "Repaired",
    EpisodeStatus.unrepaired: "Not repaired",
}

#: How a rupture episode is labelled on the trajectory ("Rupture: repaired").
EPISODE_LABELS = {
    EpisodeStatus.open: "open",
    EpisodeStatus.repaired: "repaired",
    EpisodeStatus.unrepaired: "not repaired",
}

EPISODE_COLOURS = {
    EpisodeStatus.open: PALETTE["warning"],
    EpisodeStatus.repaired: PALETTE["good"],
    EpisodeStatus.unrepaired: PALETTE["urgent"],
}

FLAG_STATUS_LABELS = {
    FlagStatus.open: "Open",
    FlagStatus.acknowledged: "Acknowledged",
    FlagStatus.resolved: "Resolved",
    FlagStatus.withdrawn: "Withdrawn by scoring",
}

LANGUAGE_LABELS = {"en": "English", "es": "Spanish"}
#: What an empty cell reads: nothing to show, never "None" or "nan".
NO_VALUE = "–"


def severity_label(severity: str | None) -> str:
    return SEVERITY_LABELS.get(severity or "", NO_FLAG)


def change_label(change: float | None) -> str:
    """An arrow and a signed number, so direction reads without colour."""
    if change is None:
        return NO_VALUE
    if abs(change) < 0.05:
        return "→ 0.0"
    arrow = "▲" if change > 0 else "▼"
    return f"{arrow} {change:+.1f}"


def percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{share:.0%}"


def days_waited(days: int) -> str:
    """Whole days in words: "today", "1 day", "12 days"."""
    return "today" if days == 0 else f"{days} day" if days == 1 else f"{days} days"
