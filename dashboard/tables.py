"""API rows turned into the frames the pages show and the charts draw. Pure functions."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pandas as pd

from backend.clients.codes import code_as_typed
from dashboard.instruments import InstrumentView as Instrument
from dashboard.labels import (
    ACTION_LABELS,
    FLAG_STATUS_LABELS,
    NO_VALUE,
    PLANNED_ACTIONS,
    REPAIR_LABELS,
    SEVERITY_ORDER,
    change_label,
    days_waited,
    percent,
    severity_label,
)
from scoring.vocabulary import LIVE_FLAG_STATUSES

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

#: Days since the oldest open flag nobody has acknowledged was raised (the API's
#: ``oldest_unacknowledged_days``); empty when nothing is open.
OLDEST_FLAG_COLUMN = "Open flag waiting (days)"
#: Totals to one decimal, days whole; the rest as they are.
CASELOAD_FORMATS = {
    "Latest total": "{:.1f}",
    "Days since rating": "{:.0f}",
    OLDEST_FLAG_COLUMN: "{:.0f}",
}
#: The supervisor's count of open flags about sessions held more than a week ago.
STALE_FLAGS_COLUMN = "Open flags on sessions > 7 days ago"

CASELOAD_COLUMNS = [
    "Client",
    "Label",
    "Therapist",
    "Attention",
    "Open flags",
    "Latest total",
    "Change",
    "Trend",
    "Days since rating",
    "Unrated sessions",
    OLDEST_FLAG_COLUMN,
    "Repair",
    "Status",
    "severity",
    "change_value",
]


def _open_flag_text(counts: dict[str, int]) -> str:
    parts = [f"{counts.get(s, 0)} {s}" for s in SEVERITY_ORDER if counts.get(s, 0)]
    return " · ".join(parts) or "none"


def caseload_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One display row per client, in the API's attention order."""
    records = [
        {
            "Client": row["code"],
            "Label": row.get("label") or "",
            "Therapist": row["therapist_name"],
            "Attention": severity_label(row["top_severity"]),
            "Open flags": _open_flag_text(row["open_flags"]),
            "Latest total": row["latest_total"],
            "Change": change_label(row["change_from_previous"]),
            "Trend": row["recent_totals"],
            "Days since rating": row["days_since_last_rating"],
            "Unrated sessions": row["sessions_without_rating"],
            OLDEST_FLAG_COLUMN: row["oldest_unacknowledged_days"],
            "Repair": REPAIR_LABELS.get(row["repair_status"], row["repair_status"]),
            "Status": row["status"].capitalize(),
            "severity": row["top_severity"] or "none",
            "change_value": row["change_from_previous"],
        }
        for row in rows
    ]
    return pd.DataFrame.from_records(records, columns=CASELOAD_COLUMNS)


def formatted_caseload(frame: pd.DataFrame) -> Styler:
    """The caseload as it reads: whole days, one-decimal totals, and an empty cell as a
    dash. A column with an empty cell is float to pandas, which otherwise wrote a
    client's "3" days as 3.000000 and a client with nothing open as None."""
    return frame.style.format(CASELOAD_FORMATS, na_rep=NO_VALUE)


def filter_caseload(
    frame: pd.DataFrame,
    *,
    severities: list[str] | None = None,
    unrated_days: int | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Keep the rows with one of these severities (``"none"`` for nothing open), and/or no
    rating for at least ``unrated_days`` days (clients never rated count as unrated),
    and/or whose code (with or without its hyphen) or private label contains ``search``
    (any case)."""
    keep = pd.Series(True, index=frame.index)
    if search.strip():
        needle = search.strip().casefold()
        # A code is found typed without its hyphen too ("gaz674vs" finds GAZ6-74VS).
        codes = frame["Client"].str.replace("-", "", regex=False).str.upper()
        keep &= codes.str.contains(code_as_typed(search), regex=False) | frame[
            "Label"
        ].str.casefold().str.contains(needle, regex=False)
    if severities:
        keep &= frame["severity"].isin(severities)
    if unrated_days:
        days = frame["Days since rating"]
        keep &= days.isna() | (days >= unrated_days)
    return frame[keep]


#: What scoring judged each rating by (``GET /api/clients/{code}/page``'s ``ranges``).
RANGE_FIELDS = ("usual", "usual_sd", "usual_low", "change_from_previous", "in_episode")


def ratings_frame(
    ratings: list[dict[str, Any]],
    instrument: Instrument,
    ranges: list[dict[str, Any]] = (),
) -> pd.DataFrame:
    """Ratings on one instrument: session_number, held_on, total, one column per item, and
    the range scoring judged each by (``RANGE_FIELDS``; NaN until the range is known)."""
    columns = ["session_number", "held_on", "total", *instrument.item_keys, *RANGE_FIELDS]
    judged = {r["session_number"]: r for r in ranges if r["instrument"] == instrument.id}
    chosen = [r for r in ratings if r["instrument"] == instrument.id]
    records = [
        {
            "session_number": r["session_number"],
            "held_on": pd.Timestamp(r["held_on"]),
            "total": r["total"],
            **{key: r["scores"].get(key) for key in instrument.item_keys},
            **{name: judged.get(r["session_number"], {}).get(name) for name in RANGE_FIELDS},
        }
        for r in chosen
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    numbers = [name for name in RANGE_FIELDS if name != "in_episode"]
    frame[numbers] = frame[numbers].astype(float)
    return frame


def wording_note(ratings: list[dict[str, Any]], instrument: Instrument) -> str | None:
    """Which item wording each rated session answered, and which items not to compare across."""
    sessions: dict[int, list[int]] = {}
    for r in ratings:
        if r["instrument"] == instrument.id:
            sessions.setdefault(r["wording_version"], []).append(r["session_number"])
    if not sessions:
        return None
    parts = [
        f"version {version} (sessions {min(numbers)}–{max(numbers)})"
        if len(numbers) > 1
        else f"version {version} (session {numbers[0]})"
        for version, numbers in sorted(sessions.items())
    ]
    note = "Item wording " + ", ".join(parts) + "."
    versions = sorted(sessions)
    kept = set(instrument.comparable_items(versions[0], versions[-1]))
    changed = [key for key in instrument.item_keys if key not in kept]
    if changed:
        note += (
            f" {', '.join(changed)} asked something else before: compare across versions with care."
        )
    return note


def flags_frame(flags: list[dict[str, Any]], instrument_id: str) -> pd.DataFrame:
    columns = ["session_number", "severity", "explanation", "status"]
    chosen = [f for f in flags if f["instrument"] == instrument_id and f["status"] != "withdrawn"]
    return pd.DataFrame.from_records(chosen, columns=columns)


def episodes_frame(episodes: list[dict[str, Any]], instrument_id: str) -> pd.DataFrame:
    columns = ["opened_session", "closed_session", "status"]
    chosen = [e for e in episodes if e["instrument"] == instrument_id]
    return pd.DataFrame.from_records(chosen, columns=columns)


#: Flags shown in full on the client page, each with its own actions; the rest are listed
#: in a table below them. A client who rates under the cutoff week after week gathers a
#: "talk" flag per session and per low item: 75 live flags for one demo client, each a
#: card with its own form, buried the urgent one and took seconds to draw.
FLAGS_IN_FULL = 8


def live_flags(flags: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The open and acknowledged flags, in the API's order: the most severe first, then
    the newest session, then the newest flag (``backend.flags.service.flags_of_client``)."""
    return [f for f in flags if f["status"] in LIVE_FLAG_STATUSES]


#: The rule of a client's request to talk (scoring's ``client_wants_to_talk``).
TALK_REQUEST_RULE = "client_wants_to_talk"


def waits_for_what_was_done(flag: dict[str, Any]) -> bool:
    """A client's request to talk with no action taken recorded (nothing, or only a plan).

    The API refuses to resolve it (it stays live until the therapist records what they
    did), so the page offers to record what was done instead of a resolve button.
    """
    done = flag["action"] is not None and flag["action"] not in PLANNED_ACTIONS
    return flag["rule"] == TALK_REQUEST_RULE and not done


def _plan(flag: dict[str, Any]) -> str:
    """What the therapist planned before recording what was done, with its note."""
    planned = ACTION_LABELS.get(flag.get("planned_action") or "", "")
    return f"{planned}: {flag['plan_note']}" if planned and flag.get("plan_note") else planned


def flags_table(flags: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [
            {
                "Session": f["session_number"],
                "Severity": severity_label(f["severity"]),
                "What happened": f["explanation"],
                "Status": FLAG_STATUS_LABELS.get(f["status"], f["status"]),
                "What you did": ACTION_LABELS.get(f["action"] or "", ""),
                "Note": f["note"] or "",
                "Planned before": _plan(f),
                "Why withdrawn": f.get("withdrawn_reason") or "",
            }
            for f in flags
        ],
        columns=[
            "Session",
            "Severity",
            "What happened",
            "Status",
            "What you did",
            "Note",
            "Planned before",
            "Why withdrawn",
        ],
    )


def therapist_labels(therapists: list[dict[str, Any]]) -> dict[int, str]:
    """Each therapist's name by id, numbered when several on the teams share one.

    The team page's table, heatmap rows, queue and "compare" choice all name therapists
    by these labels; by name alone, two colleagues called the same would be drawn as one.
    """
    sharing = Counter(t["therapist_name"] for t in therapists)
    numbered: Counter[str] = Counter()
    labels = {}
    for t in sorted(therapists, key=lambda t: t["therapist_id"]):
        name = t["therapist_name"]
        if sharing[name] > 1:
            numbered[name] += 1
            name = f"{name} ({numbered[name]})"
        labels[t["therapist_id"]] = name
    return labels


def therapist_table(therapists: list[dict[str, Any]]) -> pd.DataFrame:
    labels = therapist_labels(therapists)
    return pd.DataFrame.from_records(
        [
            {
                "Therapist": labels[t["therapist_id"]],
                "Team": t["team_name"] or "",
                "Active clients": t["active_clients"],
                "Response rate": percent(t["response_rate"]),
                "Clients with a warning or worse": percent(t["warning_share"]),
                STALE_FLAGS_COLUMN: t["unacknowledged_over_7_days"],
                "Ruptures": t["episodes"],
                "Repair rate": percent(t["repair_rate"]),
            }
            for t in therapists
        ],
        columns=[
            "Therapist",
            "Team",
            "Active clients",
            "Response rate",
            "Clients with a warning or worse",
            STALE_FLAGS_COLUMN,
            "Ruptures",
            "Repair rate",
        ],
    )


def therapist_weekly_frame(overview: dict[str, Any]) -> pd.DataFrame:
    names = therapist_labels(overview["therapists"])
    frame = pd.DataFrame.from_records(
        overview["therapist_weekly"],
        columns=[
            "therapist_id",
            "week_start",
            "sessions",
            "rated_sessions",
            "mean_total",
            "response_rate",
        ],
    )
    frame["therapist_name"] = frame["therapist_id"].map(names).fillna("Former colleague")
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    return frame


def team_weekly_frame(overview: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(
        overview["team_weekly"],
        columns=["week_start", "ratings", "mean_total", "sd_total", "ci_low", "ci_high"],
    )
    frame["week_start"] = pd.to_datetime(frame["week_start"])
    return frame


def talk_requests_frame(rows: list[dict[str, Any]], therapists: dict[int, str]) -> pd.DataFrame:
    """Requests to talk nobody has acted on, the longest waiting first."""
    return pd.DataFrame.from_records(
        [
            {
                "Client": r["client_code"],
                "Therapist": therapists.get(r["therapist_id"], r["therapist_name"]),
                "Session": r["session_number"],
                "Held on": pd.Timestamp(r["held_on"]),
                "Waiting since the client asked": days_waited(r["waiting_days"]),
            }
            for r in rows
        ],
        columns=["Client", "Therapist", "Session", "Held on", "Waiting since the client asked"],
    )


def ruptures_frame(rows: list[dict[str, Any]], therapists: dict[int, str]) -> pd.DataFrame:
    """Ruptures not repaired: since when, and the last thing the therapist recorded."""
    return pd.DataFrame.from_records(
        [
            {
                "Client": r["client_code"],
                "Therapist": therapists.get(r["therapist_id"], r["therapist_name"]),
                "Rupture": REPAIR_LABELS.get(r["status"], r["status"]),
                "Since": pd.Timestamp(r["since"]),
                "Last action": ACTION_LABELS.get(r["last_action"] or "", "Nothing recorded"),
                "Explanation": r["explanation"],
            }
            for r in rows
        ],
        columns=["Client", "Therapist", "Rupture", "Since", "Last action", "Explanation"],
    )


def sparkline_range(frame: pd.DataFrame) -> tuple[float, float] | None:
    """One y-range for every row's sparkline, so a shape means the same in each row (a
    30-33 wobble drawn on its own scale looked like a collapse)."""
    values = [v for trend in frame["Trend"] for v in trend or []]
    return (min(values), max(values)) if values else None
