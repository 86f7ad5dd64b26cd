"""Charts for the dashboard: pure functions, a DataFrame in and a figure out.

The client page's figures are plotly Figures. The team overview's two charts are
Vega-Lite specifications (plain dicts, drawn by ``st.vega_lite_chart``) instead, a
deliberate deviation from issue #5: see docs/decisions.md, "Vega-Lite, not plotly, for
the team page".

Instrument facts (cutoffs, items, subscales) come from the instrument registry's
``Instrument`` objects passed in; nothing here knows an instrument by name.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.instruments import InstrumentView as Instrument
from dashboard.labels import (
    DAY_FORMAT,
    EPISODE_COLOURS,
    EPISODE_LABELS,
    PALETTE,
    SEVERITY_ORDER,
    SEVERITY_SYMBOLS,
    severity_label,
)

_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 40, "r": 20, "t": 40, "b": 40},
    "legend": {"orientation": "h", "y": -0.2},
    "hovermode": "closest",
}


def add_band(
    figure: go.Figure, x: pd.Series, low: pd.Series, high: pd.Series, *, name: str, colour: str
) -> None:
    """A shaded band between two lines: an invisible upper edge, then the filled lower one."""
    figure.add_trace(
        go.Scatter(
            x=x,
            y=high,
            mode="lines",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
            name=f"{name} (upper edge)",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=low,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=colour,
            name=name,
            hoverinfo="skip",
        )
    )


def empty_figure(message: str) -> go.Figure:
    """A blank figure that says what is missing instead of drawing empty axes."""
    figure = go.Figure()
    figure.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font_size=14
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(**_LAYOUT, height=220)
    return figure


def trajectory_figure(
    ratings: pd.DataFrame,
    flags: pd.DataFrame,
    episodes: pd.DataFrame,
    instrument: Instrument,
) -> go.Figure:
    """Total per session with the cutoff band, personal baseline, flags and rupture episodes.

    ``ratings``: session_number, held_on, total, and optionally usual, usual_sd and
    change_from_previous (the range scoring judged each rating by, from the API: the
    dashboard computes no range of its own). ``flags``: session_number, severity,
    explanation. ``episodes``: opened_session, closed_session, status.
    """
    if ratings.empty:
        return empty_figure("No ratings yet — issue a link after the next session.")
    ratings = ratings.sort_values("session_number").reset_index(drop=True)
    x = ratings["session_number"]
    figure = go.Figure()
    cutoff = instrument.psychometrics.total_cutoff
    # The cutoff is a line; the range below it only lightly shaded, so the client's own
    # band stays readable (a stronger shade covered about 90% of the chart).
    figure.add_hrect(
        y0=instrument.total_min,
        y1=cutoff,
        fillcolor=PALETTE["warning"],
        opacity=0.04,
        line_width=0,
        name="clinical cutoff",
    )
    figure.add_hline(
        y=cutoff,
        line_dash="dash",
        line_width=1.5,
        line_color=PALETTE["urgent"],
        annotation_text=f"Clinical cutoff ({cutoff:g})",
        annotation_position="bottom left",
        name="clinical cutoff line",
    )
    if "usual" in ratings and ratings["usual"].notna().any():
        add_band(
            figure,
            x,
            ratings["usual"] - ratings["usual_sd"],
            ratings["usual"] + ratings["usual_sd"],
            name="Usual range (as scoring judged each rating)",
            colour="rgba(86, 180, 233, 0.18)",
        )
    change = (
        ratings["change_from_previous"]
        if "change_from_previous" in ratings
        else ratings["total"].diff()
    )
    change_text = [
        "" if c != c else f"<br>{c:+.1f} from the previous rating" for c in change.tolist()
    ]
    figure.add_trace(
        go.Scatter(
            x=x,
            y=ratings["total"],
            mode="lines+markers",
            name="Total",
            line={"color": PALETTE["talk"], "width": 2},
            marker={"size": 7},
            customdata=list(
                zip(
                    pd.to_datetime(ratings["held_on"]).dt.strftime(DAY_FORMAT),
                    change_text,
                    strict=True,
                )
            ),
            hovertemplate=(
                "Session %{x} (%{customdata[0]})<br>Total %{y:.1f}%{customdata[1]}<extra></extra>"
            ),
        )
    )
    if not flags.empty:
        _add_flag_markers(figure, ratings, flags, instrument)
    last_session = int(x.max())
    for episode in episodes.itertuples(index=False):
        end = episode.closed_session
        end = last_session if pd.isna(end) else int(end)
        figure.add_vrect(
            x0=int(episode.opened_session) - 0.4,
            x1=end + 0.4,
            fillcolor=EPISODE_COLOURS.get(episode.status, PALETTE["info"]),
            opacity=0.12,
            line_width=0,
            annotation_text=f"Rupture: {EPISODE_LABELS.get(episode.status, episode.status)}",
            annotation_position="top left",
            name=f"episode {episode.status}",
        )
    figure.update_layout(**_LAYOUT, height=380, title="Alliance total per session")
    figure.update_xaxes(title="Session", dtick=1 if last_session <= 20 else None)
    figure.update_yaxes(title="Total", range=[instrument.total_min, instrument.total_max * 1.02])
    return figure


def _add_flag_markers(
    figure: go.Figure, ratings: pd.DataFrame, flags: pd.DataFrame, instrument: Instrument
) -> None:
    """One marker per flagged session, shaped by its most severe flag, the most severe
    drawn last (on top); hovering lists every flag of that session in plain words."""
    totals = ratings.set_index("session_number")["total"]
    rank = {severity: n for n, severity in enumerate(SEVERITY_ORDER)}
    per_session = []
    for number, group in flags.groupby("session_number", sort=True):
        ordered = group.sort_values("severity", key=lambda s: s.map(rank).fillna(len(rank)))
        per_session.append(
            {
                "session_number": number,
                "severity": ordered["severity"].iloc[0],
                "hover": "<br>".join(
                    f"{severity_label(f.severity)}: {f.explanation}"
                    for f in ordered.itertuples(index=False)
                ),
            }
        )
    sessions = pd.DataFrame.from_records(per_session)
    for severity in reversed(SEVERITY_ORDER):  # least severe first, so urgent is on top
        group = sessions[sessions["severity"] == severity]
        if group.empty:
            continue
        figure.add_trace(
            go.Scatter(
                x=group["session_number"],
                y=group["session_number"].map(totals).fillna(instrument.total_min),
                mode="markers",
                name=f"Flag: {severity}",
                marker={
                    "symbol": SEVERITY_SYMBOLS.get(severity, "circle"),
                    "size": 13,
                    "color": PALETTE.get(severity, PALETTE["info"]),
                    "line": {"width": 2, "color": PALETTE.get(severity)},
                },
                hovertext=group["hover"],
                hovertemplate="Session %{x}<br>%{hovertext}<extra></extra>",
            )
        )


def item_panels(instrument: Instrument) -> dict[str, tuple[str, ...]]:
    """One panel per subscale when subscales group several items, else one per item."""
    subscales = instrument.subscales
    if subscales and any(len(keys) > 1 for keys in subscales.values()):
        return subscales
    return {item.key: (item.key,) for item in instrument.items}


def items_figure(ratings: pd.DataFrame, instrument: Instrument) -> go.Figure:
    """Small multiples: each item (or subscale mean) per session, with the item cutoff."""
    panels = item_panels(instrument)
    present = [k for keys in panels.values() for k in keys if k in ratings.columns]
    if ratings.empty or not present:
        return empty_figure("No item scores yet.")
    ratings = ratings.sort_values("session_number")
    figure = make_subplots(
        rows=1,
        cols=len(panels),
        shared_yaxes=True,
        subplot_titles=[name.replace("_", " ").capitalize() for name in panels],
        horizontal_spacing=0.03,
    )
    for column, (name, keys) in enumerate(panels.items(), start=1):
        values = ratings[list(keys)].mean(axis=1)
        figure.add_trace(
            go.Scatter(
                x=ratings["session_number"],
                y=values,
                mode="lines+markers",
                name=name,
                showlegend=False,
                line={"color": PALETTE["talk"]},
                marker={"size": 5},
                hovertemplate="Session %{x}: %{y:.1f}<extra>" + name + "</extra>",
            ),
            row=1,
            col=column,
        )
        figure.add_hline(
            y=instrument.psychometrics.item_cutoff,
            line_dash="dot",
            line_color=PALETTE["warning"],
            row=1,
            col=column,
        )
    figure.update_yaxes(range=[instrument.item_min, instrument.item_max * 1.05])
    figure.update_layout(**_LAYOUT, height=240, title="Each dimension per session")
    return figure


#: A Vega-Lite specification: plain JSON-able data, drawn by ``st.vega_lite_chart``.
VegaLiteSpec = dict[str, Any]

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
