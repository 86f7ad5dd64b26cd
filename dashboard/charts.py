"""Figures for the dashboard: pure functions, a DataFrame in and a plotly Figure out.

Instrument facts (cutoffs, items, subscales) come from the instrument registry's
``Instrument`` objects passed in; nothing here knows an instrument by name.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.labels import EPISODE_COLOURS, EPISODE_LABELS, PALETTE, SEVERITY_SYMBOLS
from scoring.instruments import Instrument

#: Prior sessions needed before a personal baseline band is drawn.
BASELINE_MIN_SESSIONS = 3
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


def personal_baseline(totals: pd.Series) -> pd.DataFrame:
    """Mean and SD of each session's *earlier* totals (the band a new rating is judged by)."""
    prior = totals.shift(1).expanding(min_periods=BASELINE_MIN_SESSIONS)
    mean, sd = prior.mean(), prior.std()
    return pd.DataFrame({"mean": mean, "low": mean - sd, "high": mean + sd})


def trajectory_figure(
    ratings: pd.DataFrame,
    flags: pd.DataFrame,
    episodes: pd.DataFrame,
    instrument: Instrument,
) -> go.Figure:
    """Total per session with the cutoff band, personal baseline, flags and rupture episodes.

    ``ratings``: session_number, held_on, total. ``flags``: session_number, severity,
    explanation. ``episodes``: opened_session, closed_session, status.
    """
    if ratings.empty:
        return empty_figure("No ratings yet — issue a link after the next session.")
    ratings = ratings.sort_values("session_number").reset_index(drop=True)
    x = ratings["session_number"]
    figure = go.Figure()
    cutoff = instrument.psychometrics.total_cutoff
    figure.add_hrect(
        y0=instrument.total_min,
        y1=cutoff,
        fillcolor=PALETTE["warning"],
        opacity=0.08,
        line_width=0,
        annotation_text=f"Below the clinical cutoff ({cutoff:g})",
        annotation_position="bottom left",
        name="clinical cutoff",
    )
    baseline = personal_baseline(ratings["total"])
    if baseline["mean"].notna().any():
        add_band(
            figure,
            x,
            baseline["low"],
            baseline["high"],
            name="Personal baseline (mean ± 1 SD of earlier sessions)",
            colour="rgba(86, 180, 233, 0.18)",
        )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=ratings["total"],
            mode="lines+markers",
            name="Total",
            line={"color": PALETTE["talk"], "width": 2},
            marker={"size": 7},
            customdata=pd.to_datetime(ratings["held_on"]).dt.strftime("%d %b %Y"),
            hovertemplate="Session %{x} (%{customdata})<br>Total %{y:.1f}<extra></extra>",
        )
    )
    if not flags.empty:
        totals = ratings.set_index("session_number")["total"]
        for severity, group in flags.groupby("severity", sort=False):
            y = group["session_number"].map(totals).fillna(instrument.total_min)
            figure.add_trace(
                go.Scatter(
                    x=group["session_number"],
                    y=y,
                    mode="markers",
                    name=f"Flag: {severity}",
                    marker={
                        "symbol": SEVERITY_SYMBOLS.get(str(severity), "circle"),
                        "size": 13,
                        "color": PALETTE.get(str(severity), PALETTE["info"]),
                        "line": {"width": 2, "color": PALETTE.get(str(severity))},
                    },
                    hovertext=group["explanation"],
                    hovertemplate="Session %{x}: %{hovertext}<extra></extra>",
                )
            )
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


def team_trend_figure(team_weekly: pd.DataFrame, therapist_weekly: pd.DataFrame) -> go.Figure:
    """Weekly team mean with its 95% interval, and a thin line per therapist.

    The therapist lines are one trace (see ``therapist_lines``): a team of 25 drawn as 25
    traces with 25 legend entries took the browser seconds to lay out.

    ``team_weekly``: week_start, mean_total, ci_low, ci_high. ``therapist_weekly``:
    week_start, therapist_name, mean_total.
    """
    if team_weekly.empty:
        return empty_figure("No ratings in this period yet.")
    team_weekly = team_weekly.sort_values("week_start")
    figure = go.Figure()
    with_ci = team_weekly.dropna(subset=["ci_low", "ci_high"])
    if not with_ci.empty:
        add_band(
            figure,
            with_ci["week_start"],
            with_ci["ci_low"],
            with_ci["ci_high"],
            name="95% interval of the team mean",
            colour="rgba(0, 114, 178, 0.15)",
        )
    if not therapist_weekly.empty and therapist_weekly["mean_total"].notna().any():
        figure.add_trace(therapist_lines(therapist_weekly))
    figure.add_trace(
        go.Scatter(
            x=team_weekly["week_start"],
            y=team_weekly["mean_total"],
            mode="lines+markers",
            name="Team mean",
            line={"color": PALETTE["talk"], "width": 3},
            hovertemplate="Week of %{x|%d %b}: %{y:.1f}<extra>Team mean</extra>",
        )
    )
    figure.update_layout(**_LAYOUT, height=380, title="Weekly mean alliance total")
    figure.update_xaxes(title="Week")
    figure.update_yaxes(title="Mean total")
    return figure


def therapist_lines(therapist_weekly: pd.DataFrame) -> go.Scatter:
    """Every therapist's weekly mean as one dotted trace, the lines split by gaps (None).

    Hovering a point names its therapist, so one legend entry stands for them all.
    """
    frame = therapist_weekly.dropna(subset=["mean_total"]).sort_values(
        ["therapist_name", "week_start"]
    )
    x: list[object] = []
    y: list[float | None] = []
    who: list[str | None] = []
    for name, group in frame.groupby("therapist_name", sort=False):
        x += [*group["week_start"], None]
        y += [*group["mean_total"], None]
        who += [str(name)] * len(group) + [None]
    return go.Scatter(
        x=x[:-1],
        y=y[:-1],
        customdata=who[:-1],
        mode="lines",
        name="Therapists (weekly mean)",
        line={"width": 1, "dash": "dot", "color": "rgba(90, 90, 90, 0.6)"},
        connectgaps=False,
        hovertemplate="%{x|%d %b}: %{y:.1f}<extra>%{customdata}</extra>",
    )


def team_heatmap(
    therapist_weekly: pd.DataFrame, value: str, *, title: str, percent: bool = False
) -> go.Figure:
    """Therapists (rows) by weeks (columns), coloured by ``value`` (viridis: colour-blind safe)."""
    frame = therapist_weekly.dropna(subset=[value]) if value in therapist_weekly else None
    if frame is None or frame.empty:
        return empty_figure("Nothing to show for this period yet.")
    grid = frame.pivot_table(
        index="therapist_name", columns="week_start", values=value, aggfunc="mean"
    ).sort_index(axis=1)
    text = grid.map(lambda v: "" if pd.isna(v) else (f"{v:.0%}" if percent else f"{v:.1f}"))
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[pd.Timestamp(w).strftime("%d %b") for w in grid.columns],
            y=list(grid.index),
            text=text.to_numpy(),
            texttemplate="%{text}",
            colorscale="Viridis",
            zmin=0 if percent else None,
            zmax=1 if percent else None,
            hovertemplate="%{y}, week of %{x}: %{text}<extra></extra>",
            name=value,
        )
    )
    figure.update_layout(**_LAYOUT, height=120 + 40 * len(grid.index), title=title)
    return figure
