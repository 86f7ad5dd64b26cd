"""Charts for the dashboard: pure functions, a DataFrame in and a Vega-Lite spec out.

Every chart is a Vega-Lite specification (a plain dict, drawn by ``st.vega_lite_chart``),
not a plotly Figure: plotly.js cost about 1.4 s of the browser's main thread on every
sign-in. Specs are dicts rather than Altair objects (Altair's validation cost ~100 ms a
page); the tests validate them against Altair's schema. See docs/decisions.md, "Vega-Lite,
not plotly, for the team page", and the README for the numbers.

Instrument facts (cutoffs, items, subscales) come from the ``Instrument`` the API
described (``dashboard.instruments``); nothing here knows an instrument by name. Ranges
come from scoring through the API: nothing here computes a clinical number.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from dashboard.instruments import InstrumentView as Instrument
from dashboard.labels import (
    DAY_FORMAT,
    EPISODE_COLOURS,
    EPISODE_LABELS,
    OUTLINED_SEVERITIES,
    PALETTE,
    SEVERITY_ORDER,
    SEVERITY_SHAPES,
    severity_label,
)

#: A Vega-Lite specification: plain JSON-able data, drawn by ``st.vega_lite_chart``.
VegaLiteSpec = dict[str, Any]

#: The trajectory's legend names and colours (Okabe & Ito); flags add their severities.
TOTAL = "Total"
USUAL_RANGE = "Usual range (as scoring judged each rating)"
TRAJECTORY_COLOURS = {USUAL_RANGE: PALETTE["neutral"], TOTAL: PALETTE["talk"]}
#: The field naming a flag marker's most severe flag (in the legend and on hover).
FLAG_LEGEND = "Flag"
#: Half the width of a session's slot on the x axis: episodes cover whole slots.
_HALF_SLOT = 0.4


def trajectory_chart(
    ratings: pd.DataFrame,
    flags: pd.DataFrame,
    episodes: pd.DataFrame,
    instrument: Instrument,
) -> VegaLiteSpec:
    """Total per session with the cutoff, the usual range, flags and rupture episodes.

    ``ratings``: session_number, held_on, total, and optionally usual, usual_sd and
    change_from_previous (the range scoring judged each rating by, from the API: the
    dashboard computes no range of its own). ``flags``: session_number, severity,
    explanation. ``episodes``: opened_session, closed_session, status.

    Layers, bottom to top: the light shade below the cutoff, the episodes, the usual
    range, the cutoff line, the total, then flag markers least severe first so an urgent
    one is never hidden under another.
    """
    if ratings.empty:
        return empty_chart("No ratings yet — issue a link after the next session.")
    ratings = ratings.sort_values("session_number").reset_index(drop=True)
    first, last = int(ratings["session_number"].min()), int(ratings["session_number"].max())
    cutoff = instrument.psychometrics.total_cutoff
    flagged = flagged_sessions(ratings, flags) if not flags.empty else pd.DataFrame()
    severities = [
        s for s in SEVERITY_ORDER if not flagged.empty and (flagged["severity"] == s).any()
    ]
    # One colour scale and so one legend: the total, its usual range, then each severity
    # shown (every severity's label carries its symbol, so the legend needs no shapes).
    colours = {
        **TRAJECTORY_COLOURS,
        **{severity_label(s): PALETTE.get(s, PALETTE["info"]) for s in severities},
    }
    session = _session_axis(first, last)
    total = {
        "field": "total",
        "type": "quantitative",
        "title": "Total",
        "scale": {"domain": [instrument.total_min, instrument.total_max], "nice": False},
    }
    layers: list[dict[str, Any]] = [
        {
            "name": "below_cutoff",
            "data": {"values": [{"floor": instrument.total_min, "cutoff": cutoff}]},
            "mark": {"type": "rect", "color": PALETTE["warning"], "opacity": 0.06, "aria": False},
            "encoding": {"y": {**total, "field": "floor"}, "y2": {"field": "cutoff"}},
        },
        *_episode_layers(episodes, last_session=last, session=session, top=instrument.total_max),
        *_usual_range_layers(ratings, session=session, total=total, colours=colours),
        {
            "name": "cutoff",
            "data": {
                "values": [
                    {"cutoff": cutoff, "at": last + 0.45, "label": f"Clinical cutoff ({cutoff:g})"}
                ]
            },
            "layer": [
                {
                    "mark": {
                        "type": "rule",
                        "strokeDash": [6, 4],
                        "strokeWidth": 1.5,
                        "color": PALETTE["urgent"],
                    },
                    "encoding": {"y": {**total, "field": "cutoff"}},
                },
                {
                    "mark": {
                        "type": "text",
                        "align": "right",
                        "baseline": "bottom",
                        "dy": -3,
                        "color": "#31333F",
                        "aria": False,
                    },
                    "encoding": {
                        "x": {**session, "field": "at"},
                        "y": {**total, "field": "cutoff"},
                        "text": {"field": "label", "type": "nominal"},
                    },
                },
            ],
        },
        _total_layer(ratings, session=session, total=total, colours=colours),
        *_flag_layers(flagged, severities, session=session, total=total, colours=colours),
    ]
    return {
        "title": "Alliance total per session",
        "description": (
            f"{instrument.name} total per session, sessions {first} to {last}, with the "
            f"clinical cutoff at {cutoff:g}."
        ),
        "height": 380,
        "layer": layers,
        # Episodes colour their spans by status, apart from the legend's scale.
        "resolve": {"scale": {"color": "independent"}},
        "config": _DRAWN_AS_GIVEN,
    }


def _episode_layers(
    episodes: pd.DataFrame, *, last_session: int, session: dict[str, Any], top: float
) -> list[dict[str, Any]]:
    """Each rupture episode as a shaded span of sessions, labelled at the top."""
    if episodes.empty:
        return []
    spans = []
    for episode in episodes.itertuples(index=False):
        end = last_session if pd.isna(episode.closed_session) else int(episode.closed_session)
        label = EPISODE_LABELS.get(episode.status, episode.status)
        spans.append(
            {
                "from": int(episode.opened_session) - _HALF_SLOT,
                "to": end + _HALF_SLOT,
                "top": top,
                "status": episode.status,
                "colour": EPISODE_COLOURS.get(episode.status, PALETTE["info"]),
                "label": f"Rupture: {label}",
                "sessions": f"{int(episode.opened_session)}–{end}",
            }
        )
    return [
        {
            "name": "episodes",
            "data": {"values": spans},
            "layer": [
                {
                    "mark": {"type": "rect", "opacity": 0.12},
                    "encoding": {
                        "x": {**session, "field": "from"},
                        "x2": {"field": "to"},
                        "color": {"field": "colour", "type": "nominal", "scale": None},
                        "tooltip": [
                            {"field": "label", "type": "nominal", "title": "Rupture"},
                            {"field": "sessions", "type": "nominal", "title": "Sessions"},
                        ],
                    },
                },
                {
                    "mark": {
                        "type": "text",
                        "align": "left",
                        "baseline": "top",
                        "dx": 2,
                        "dy": 2,
                        "color": "#31333F",
                        "aria": False,
                    },
                    "encoding": {
                        "x": {**session, "field": "from"},
                        "y": {"field": "top", "type": "quantitative"},
                        "text": {"field": "label", "type": "nominal"},
                    },
                },
            ],
        }
    ]


def _usual_range_layers(
    ratings: pd.DataFrame,
    *,
    session: dict[str, Any],
    total: dict[str, Any],
    colours: dict[str, str],
) -> list[dict[str, Any]]:
    """The usual level ± its spread that scoring judged each rating by; nothing where
    scoring had no range yet (fewer than two earlier ratings)."""
    if "usual" not in ratings or ratings["usual"].isna().all():
        return []
    known = ratings.dropna(subset=["usual", "usual_sd"])
    band = pd.DataFrame(
        {
            "session_number": known["session_number"],
            "low": known["usual"] - known["usual_sd"],
            "high": known["usual"] + known["usual_sd"],
            "usual": known["usual"],
        }
    )
    return [
        {
            "name": "usual_range",
            "data": {"values": _records(band, series=USUAL_RANGE)},
            "mark": {"type": "area", "opacity": 0.25},
            "encoding": {
                "x": session,
                "y": {**total, "field": "low"},
                "y2": {"field": "high"},
                # Named in the line's legend: an area's own legend would repeat the entry.
                "color": {**_series_colour(colours), "legend": None},
                "tooltip": [
                    {"field": "session_number", "type": "quantitative", "title": "Session"},
                    {**_MEAN_TIP, "field": "usual", "title": "Usual level"},
                    {**_MEAN_TIP, "field": "low", "title": "Usual range from"},
                    {**_MEAN_TIP, "field": "high", "title": "to"},
                ],
            },
        }
    ]


def _total_layer(
    ratings: pd.DataFrame,
    *,
    session: dict[str, Any],
    total: dict[str, Any],
    colours: dict[str, str],
) -> dict[str, Any]:
    change = (
        ratings["change_from_previous"]
        if "change_from_previous" in ratings
        else ratings["total"].diff()
    )
    points = pd.DataFrame(
        {
            "session_number": ratings["session_number"],
            "total": ratings["total"],
            "held": pd.to_datetime(ratings["held_on"]).dt.strftime(DAY_FORMAT),
            "change": ["–" if c != c else f"{c:+.1f} from the previous rating" for c in change],
        }
    )
    return {
        "name": "total",
        "data": {"values": _records(points, series=TOTAL)},
        "mark": {"type": "line", "strokeWidth": 2, "point": {"size": 45, "filled": True}},
        "encoding": {
            "x": session,
            "y": total,
            "color": _series_colour(colours),
            "tooltip": [
                {"field": "session_number", "type": "quantitative", "title": "Session"},
                {"field": "held", "type": "nominal", "title": "Held on"},
                {**_MEAN_TIP, "field": "total", "title": "Total"},
                {"field": "change", "type": "nominal", "title": "Change"},
            ],
        },
    }


def flagged_sessions(ratings: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """One row per flagged session: where its marker goes, its most severe flag, and every
    flag of that session in plain words, most severe first (what hovering the marker shows).

    Columns: session_number, total, severity, then one column per flag titled with its
    severity ("✖ Urgent", a second one "✖ Urgent (2)"), empty where a session has fewer.
    """
    totals = ratings.set_index("session_number")["total"]
    rank = {severity: n for n, severity in enumerate(SEVERITY_ORDER)}
    rows = []
    for number, group in flags.groupby("session_number", sort=True):
        if number not in totals.index:
            continue
        ordered = group.sort_values("severity", key=lambda s: s.map(rank).fillna(len(rank)))
        said: dict[str, str] = {}
        for flag in ordered.itertuples(index=False):
            title = severity_label(flag.severity)
            n = sum(key.startswith(title) for key in said)
            said[title if n == 0 else f"{title} ({n + 1})"] = flag.explanation
        rows.append(
            {
                "session_number": int(number),
                "total": float(totals[number]),
                "severity": ordered["severity"].iloc[0],
                **said,
            }
        )
    frame = pd.DataFrame.from_records(rows)
    # Hover lists the flags most severe first in every session, whatever came first here.
    said_columns = sorted(frame.columns[3:], key=lambda title: _severity_rank(title, rank))
    return frame[[*frame.columns[:3], *said_columns]]


def _severity_rank(title: str, rank: dict[str, int]) -> tuple[int, str]:
    """Where a hover line titled like "⚠ Warning (2)" goes: by severity, then number."""
    severity = next((s for s in rank if title.startswith(severity_label(s))), None)
    return (rank.get(severity, len(rank)), title)


def _flag_layers(
    flagged: pd.DataFrame,
    severities: list[str],
    *,
    session: dict[str, Any],
    total: dict[str, Any],
    colours: dict[str, str],
) -> list[dict[str, Any]]:
    """One marker per flagged session (``flagged_sessions``), shaped and coloured by its
    most severe flag; one layer per severity, least severe first, so urgent markers are
    drawn on top. Hovering shows the session, its total and every flag of that session
    in plain words."""
    shape = {
        "field": FLAG_LEGEND,
        "type": "nominal",
        "legend": None,  # the colour legend's labels carry each severity's symbol
        "scale": {
            "domain": [severity_label(s) for s in severities],
            "range": [SEVERITY_SHAPES.get(s, "circle") for s in severities],
        },
    }
    layers = []
    for severity in reversed(severities):  # least severe first, so urgent is on top
        group = flagged[flagged["severity"] == severity].dropna(axis="columns", how="all")
        shown = group.rename(columns={"session_number": "Session", "total": "Total"})
        shown = shown.drop(columns="severity")
        shown.insert(2, FLAG_LEGEND, severity_label(severity))
        layers.append(
            {
                "name": f"flag_{severity}",
                # A session with fewer flags than another has no key for the missing ones.
                "data": {"values": [_without_gaps(row) for row in _records(shown)]},
                "mark": {
                    "type": "point",
                    "size": 170,
                    "filled": severity not in OUTLINED_SEVERITIES,
                    "strokeWidth": 2,
                    "opacity": 1,
                    # Every field of the row: the session, its total and each flag's words.
                    "tooltip": {"content": "data"},
                },
                "encoding": {
                    "x": {**session, "field": "Session"},
                    "y": {**total, "field": "Total"},
                    # Named in the total's legend, which lists every severity shown.
                    "color": {**_series_colour(colours), "field": FLAG_LEGEND, "legend": None},
                    "shape": shape,
                },
            }
        )
    return layers


def _without_gaps(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if value is not None}


def item_panels(instrument: Instrument) -> dict[str, tuple[str, ...]]:
    """One panel per subscale when subscales group several items, else one per item."""
    subscales = instrument.subscales
    if subscales and any(len(keys) > 1 for keys in subscales.values()):
        return subscales
    return {item.key: (item.key,) for item in instrument.items}


#: Each item panel's width in pixels: four side by side fit the wide layout beside the
#: sidebar on a 1440 px screen.
ITEM_PANEL_WIDTH = 170


def items_chart(ratings: pd.DataFrame, instrument: Instrument) -> VegaLiteSpec:
    """Small multiples: each item (or subscale mean) per session, with the item cutoff."""
    panels = item_panels(instrument)
    present = [k for keys in panels.values() for k in keys if k in ratings.columns]
    if ratings.empty or not present:
        return empty_chart("No item scores yet.")
    ratings = ratings.sort_values("session_number")
    first, last = int(ratings["session_number"].min()), int(ratings["session_number"].max())
    session = _session_axis(first, last)
    score = {
        "field": "score",
        "type": "quantitative",
        "title": None,  # each panel's title names it; a y title per panel crowded them
        "scale": {"domain": [instrument.item_min, instrument.item_max], "nice": False},
    }
    cutoff = instrument.psychometrics.item_cutoff
    charts = []
    for name, keys in panels.items():
        title = name.replace("_", " ").capitalize()
        values = pd.DataFrame(
            {
                "session_number": ratings["session_number"],
                "score": ratings[[k for k in keys if k in ratings.columns]].mean(axis=1),
            }
        ).dropna()
        charts.append(
            {
                "name": f"panel_{name}",
                "title": title,
                "width": ITEM_PANEL_WIDTH,
                "height": 180,
                "layer": [
                    {
                        "data": {"values": _records(values)},
                        "mark": {
                            "type": "line",
                            "color": PALETTE["talk"],
                            "point": {"size": 25, "filled": True, "color": PALETTE["talk"]},
                        },
                        "encoding": {
                            "x": session,
                            "y": score,
                            "tooltip": [
                                {
                                    "field": "session_number",
                                    "type": "quantitative",
                                    "title": "Session",
                                },
                                {**_MEAN_TIP, "field": "score", "title": title},
                            ],
                        },
                    },
                    {
                        "data": {"values": [{"cutoff": cutoff}]},
                        "mark": {"type": "rule", "strokeDash": [2, 3], "color": PALETTE["warning"]},
                        "encoding": {"y": {**score, "field": "cutoff"}},
                    },
                ],
            }
        )
    return {
        "title": "Each dimension per session",
        "description": (
            f"Each {instrument.name} item per session, with the item cutoff at {cutoff:g}."
        ),
        "hconcat": charts,
        "config": _DRAWN_AS_GIVEN,
    }


#: The team trend's colours (Okabe & Ito), and the legend names of its two team series.
TEAM_BAND = "95% interval of the team mean"
TEAM_MEAN = "Team mean"
TEAM_TREND_COLOURS = {TEAM_BAND: PALETTE["neutral"], TEAM_MEAN: PALETTE["talk"]}
#: Okabe & Ito's reddish purple: no severity uses it, so the line says nothing about one.
COMPARED_THERAPIST_COLOUR = "#CC79A7"
#: Beyond this many weeks a heatmap cell is too narrow for its number; hovering shows it.
LABELLED_WEEKS_MAX = 26
#: Beyond this many cells the numbers crowd the grid and each costs the browser a text
#: mark: a 25-therapist team over 12 weeks (300 cells) drew 0.25 s faster without them.
#: Hovering a cell, or a screen reader's label for it, still gives its value.
LABELLED_CELLS_MAX = 150
_WEEK_FORMAT = "%d %b"
#: The builders leave out rows without a value, so Vega-Lite's own filter for missing
#: values (an expression per row, interpreted in Streamlit's browser bundle) is skipped.
_DRAWN_AS_GIVEN = {"mark": {"invalid": None}}
_WEEK_AXIS = {"field": "week_start", "type": "temporal", "title": "Week"}
_WEEK_AXIS_FORMAT = {"format": _WEEK_FORMAT}
_MEAN_TIP = {"field": "mean_total", "type": "quantitative", "format": ".1f"}


def empty_chart(message: str) -> VegaLiteSpec:
    """A chart that says what is missing instead of drawing empty axes."""
    return {
        "height": 220,
        "data": {"values": [{"message": message}]},
        "mark": {"type": "text", "fontSize": 14},
        "encoding": {"text": {"field": "message", "type": "nominal"}},
    }


def _records(frame: pd.DataFrame, **constants: str) -> list[dict[str, Any]]:
    """Rows as JSON values (dates as ISO strings, missing numbers as null), plus constants.

    Through pandas' own JSON writer: a quarter of the time of converting cell by cell.
    """
    out = frame.assign(**constants)
    return json.loads(out.to_json(orient="records", date_format="iso", date_unit="s"))


def _series_colour(colours: dict[str, str]) -> dict[str, Any]:
    """Colour by the rows' ``series``, with one legend for all the layers."""
    return {
        "field": "series",
        "type": "nominal",
        "scale": {"domain": list(colours), "range": list(colours.values())},
        "legend": {"title": None, "orient": "bottom", "labelLimit": 0, "symbolOpacity": 1},
    }


def team_trend_chart(
    team_weekly: pd.DataFrame, therapist_weekly: pd.DataFrame, *, therapist: str | None = None
) -> VegaLiteSpec:
    """Weekly team mean with its 95% interval, and one therapist's weekly mean beside it.

    One chosen therapist rather than a line for each: with 25 therapists the lines hid the
    team's trend, and the heatmap below already gives every therapist's weeks. The y axis
    starts near the data, not at zero: weekly means move by a point or two, which a
    zero-based axis would flatten.

    ``team_weekly``: week_start, mean_total, ci_low, ci_high. ``therapist_weekly``:
    week_start, therapist_name, mean_total.
    """
    if team_weekly.empty:
        return empty_chart("No ratings in this period yet.")
    team = team_weekly.assign(week_start=pd.to_datetime(team_weekly["week_start"]))
    team = team.sort_values("week_start")[["week_start", "mean_total", "ci_low", "ci_high"]]
    compared = therapist_lines(therapist_weekly, therapist)
    compared_series = f"{therapist} (weekly mean)"
    colours = dict(TEAM_TREND_COLOURS)
    if not compared.empty:
        colours[compared_series] = COMPARED_THERAPIST_COLOUR
    week = {**_WEEK_AXIS, "axis": {**_WEEK_AXIS_FORMAT, "values": _week_ticks(team, compared)}}
    total = {"field": "mean_total", "type": "quantitative", "title": "Mean total"}
    total["scale"] = {"zero": False}
    week_tip = {"field": "week_start", "type": "temporal", "title": "Week of"}
    week_tip["format"] = _WEEK_FORMAT
    layers = []
    with_ci = team.dropna(subset=["ci_low", "ci_high"])
    if not with_ci.empty:
        layers.append(
            {
                "name": "band",
                "data": {"values": _records(with_ci, series=TEAM_BAND)},
                "mark": {"type": "area", "opacity": 0.3},
                "encoding": {
                    "x": week,
                    "y": {**total, "field": "ci_low"},
                    "y2": {"field": "ci_high"},
                    "color": _series_colour(colours),
                },
            }
        )
    layers.append(
        {
            "name": "team_mean",
            "data": {"values": _records(team, series=TEAM_MEAN)},
            "mark": {"type": "line", "strokeWidth": 3, "point": {"size": 50}},
            "encoding": {
                "x": week,
                "y": total,
                "color": _series_colour(colours),
                "tooltip": [
                    week_tip,
                    {**_MEAN_TIP, "title": "Team mean"},
                    {**_MEAN_TIP, "field": "ci_low", "title": "95% interval from"},
                    {**_MEAN_TIP, "field": "ci_high", "title": "to"},
                ],
            },
        }
    )
    if not compared.empty:
        layers.append(
            {
                "name": "therapist",
                "data": {"values": _records(compared, series=compared_series)},
                "mark": {
                    "type": "line",
                    "strokeDash": [6, 3],
                    "strokeWidth": 2,
                    "point": {"size": 40, "shape": "diamond"},
                },
                "encoding": {
                    "x": week,
                    "y": total,
                    "color": _series_colour(colours),
                    "tooltip": [
                        {"field": "therapist_name", "type": "nominal", "title": "Therapist"},
                        week_tip,
                        {**_MEAN_TIP, "title": "Weekly mean"},
                    ],
                },
            }
        )
    return {
        "title": "Weekly mean alliance total",
        "height": 380,
        "layer": layers,
        "config": _DRAWN_AS_GIVEN,
    }


def _week_ticks(*frames: pd.DataFrame) -> list[dict[str, int]]:
    """A tick at each week's first day, so the axis marks weeks rather than whatever
    spacing Vega-Lite picks (every 4 days over 12 weeks); labels that would overlap are
    dropped. Vega-Lite date-times, read in the browser's time zone as the data's are."""
    weeks = sorted(set().union(*(frame["week_start"] for frame in frames)))
    return [{"year": w.year, "month": w.month, "date": w.day} for w in weeks]


def therapist_lines(therapist_weekly: pd.DataFrame, therapist: str | None) -> pd.DataFrame:
    """The therapist's weeks with a mean, in order: the points of their line.

    Weeks without a rating are left out, so the line joins the weeks around them.
    """
    columns = ["week_start", "therapist_name", "mean_total"]
    if therapist is None or therapist_weekly.empty:
        return pd.DataFrame(columns=columns)
    theirs = therapist_weekly[therapist_weekly["therapist_name"] == therapist]
    frame = theirs.dropna(subset=["mean_total"]).sort_values("week_start")
    return frame.assign(week_start=pd.to_datetime(frame["week_start"]))[columns]


def team_heatmap(
    therapist_weekly: pd.DataFrame, value: str, *, title: str, percent: bool = False
) -> VegaLiteSpec:
    """Therapists (rows) by weeks (columns), coloured by ``value`` (viridis: colour-blind safe).

    In a small grid (up to ``LABELLED_WEEKS_MAX`` weeks and ``LABELLED_CELLS_MAX`` cells)
    each cell also prints its value, in white on the dark half of the scale and black on
    the light half; hovering a cell always gives it, and so does its screen-reader label.
    """
    frame = therapist_weekly.dropna(subset=[value]) if value in therapist_weekly else None
    if frame is None or frame.empty:
        return empty_chart("Nothing to show for this period yet.")
    cells = (
        frame.assign(week_start=pd.to_datetime(frame["week_start"]))
        .groupby(["week_start", "therapist_name"], as_index=False)[value]
        .mean()
        .rename(columns={value: "value"})
        .sort_values(["week_start", "therapist_name"])  # the columns' order is the data's
    )
    low, high = (0.0, 1.0) if percent else (cells["value"].min(), cells["value"].max())
    cells["week"] = cells["week_start"].dt.strftime(_WEEK_FORMAT)
    cells["label"] = [f"{v:.0%}" if percent else f"{v:.1f}" for v in cells["value"]]
    cells["ink"] = ["white" if v < (low + high) / 2 else "black" for v in cells["value"]]
    weeks = cells["week"].nunique()
    layers: list[dict[str, Any]] = [
        {
            "mark": "rect",
            "encoding": {
                "color": {
                    "field": "value",
                    "type": "quantitative",
                    "title": title,
                    "scale": {"scheme": "viridis", "domain": [low, high]},
                    "legend": {"format": ".0%" if percent else ".1f"},
                },
            },
        }
    ]
    if weeks <= LABELLED_WEEKS_MAX and len(cells) <= LABELLED_CELLS_MAX:
        layers.append(
            {
                # The number repeats its cell, so screen readers hear each cell once.
                "mark": {"type": "text", "fontSize": 11, "aria": False},
                "encoding": {
                    "text": {"field": "label", "type": "nominal"},
                    "color": {"field": "ink", "type": "nominal", "scale": None},
                },
            }
        )
    return {
        "title": title,
        "height": {"step": 28},
        "data": {"values": _records(cells[["week", "therapist_name", "value", "label", "ink"]])},
        "encoding": {
            "x": {
                "field": "week",
                "type": "ordinal",
                "title": "Week of",
                "sort": None,
                "axis": {"labelAngle": 0, "labelOverlap": "greedy"},
            },
            "y": {"field": "therapist_name", "type": "nominal", "title": None},
            "tooltip": [
                {"field": "therapist_name", "type": "nominal", "title": "Therapist"},
                {"field": "week", "type": "ordinal", "title": "Week of"},
                {"field": "label", "type": "nominal", "title": title},
            ],
        },
        "layer": layers,
        "resolve": {"scale": {"color": "independent"}},
        "config": _DRAWN_AS_GIVEN,
    }


def _session_axis(first: int, last: int) -> dict[str, Any]:
    """Sessions first..last along x, one tick per whole session."""
    return {
        "field": "session_number",
        "type": "quantitative",
        "title": "Session",
        "scale": {"domain": [first - 0.5, last + 0.5], "nice": False, "zero": False},
        "axis": {"tickMinStep": 1, "format": "d"},
    }
