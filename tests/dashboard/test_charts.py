"""Chart builders: the traces, bands and markers a clinician relies on are drawn."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import pytest

from dashboard import charts
from dashboard.labels import PALETTE
from scoring.instruments import get_instrument

ALLIANCE4 = get_instrument("alliance4")
WAI12 = get_instrument("wai12")


def names(figure) -> list[str]:
    return [trace.name for trace in figure.data]


def shape_names(figure) -> list[str]:
    return [shape.name for shape in figure.layout.shapes]


@pytest.fixture
def ratings() -> pd.DataFrame:
    totals = [38.0, 37.5, 38.5, 38.0, 27.5, 37.9]
    nan = float("nan")
    return pd.DataFrame(
        {
            "session_number": range(1, 7),
            "held_on": [date(2026, 9, 1) + timedelta(weeks=n) for n in range(6)],
            "total": totals,
            **{key: [t / 4 for t in totals] for key in ALLIANCE4.item_keys},
            # as scoring sends them: no range before two earlier ratings
            "usual": [nan, nan, 37.75, 38.0, 38.0, 38.0],
            "usual_sd": [nan, nan, 2.4, 2.2, 2.0, 2.0],
            "change_from_previous": [nan, -0.5, 1.0, -0.5, -10.5, 10.4],
        }
    )


@pytest.fixture
def flags() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "session_number": [5, 5],
            "severity": ["urgent", "warning"],
            "explanation": ["The client asked to talk.", "A reliable drop."],
        }
    )


@pytest.fixture
def episodes() -> pd.DataFrame:
    return pd.DataFrame({"opened_session": [5], "closed_session": [6], "status": ["repaired"]})


def test_the_trajectory_draws_totals_baseline_flags_cutoff_and_episodes(
    ratings, flags, episodes
) -> None:
    figure = charts.trajectory_figure(ratings, flags, episodes, ALLIANCE4)
    assert "Total" in names(figure)
    assert any(name.startswith("Usual range") for name in names(figure))
    urgent = next(t for t in figure.data if t.name == "Flag: urgent")
    assert list(urgent.x) == [5] and list(urgent.y) == [27.5]
    assert "clinical cutoff" in shape_names(figure)
    cutoff = next(s for s in figure.layout.shapes if s.name == "clinical cutoff line")
    assert cutoff.y0 == cutoff.y1 == ALLIANCE4.psychometrics.total_cutoff
    assert "episode repaired" in shape_names(figure)
    labels = [a.text for a in figure.layout.annotations]
    assert "Rupture: repaired" in labels


def test_a_sessions_marker_is_its_most_severe_flag_on_top_listing_every_flag(
    ratings, episodes
) -> None:
    flags = pd.DataFrame(
        {
            "session_number": [5, 5, 3],
            "severity": ["warning", "urgent", "urgent"],
            "explanation": ["A reliable drop.", "The client asked to talk.", "Below cutoff."],
        }
    )
    figure = charts.trajectory_figure(ratings, flags, episodes, ALLIANCE4)
    markers = [t for t in figure.data if t.name.startswith("Flag: ")]
    assert [t.name for t in markers] == ["Flag: urgent"]  # the warning shares session 5
    (hover_5,) = [h for x, h in zip(markers[-1].x, markers[-1].hovertext, strict=True) if x == 5]
    assert hover_5 == "✖ Urgent: The client asked to talk.<br>⚠ Warning: A reliable drop."
    only_warning = charts.trajectory_figure(ratings, flags.iloc[:1], episodes, ALLIANCE4)
    flag_traces = [t.name for t in only_warning.data if t.name.startswith("Flag: ")]
    assert flag_traces == ["Flag: warning"]


def test_urgent_markers_are_drawn_after_less_severe_ones(ratings, episodes) -> None:
    flags = pd.DataFrame(
        {"session_number": [2, 5], "severity": ["urgent", "talk"], "explanation": ["a", "b"]}
    )
    figure = charts.trajectory_figure(ratings, flags, episodes, ALLIANCE4)
    flag_traces = [t.name for t in figure.data if t.name.startswith("Flag: ")]
    assert flag_traces == ["Flag: talk", "Flag: urgent"]


def test_the_band_is_the_range_scoring_sent_and_none_of_the_charts_own(ratings) -> None:
    figure = charts.trajectory_figure(ratings, pd.DataFrame(), pd.DataFrame(), ALLIANCE4)
    lower = next(t for t in figure.data if t.name == "Usual range (as scoring judged each rating)")
    lows = list(lower.y)
    assert lows[2:] == pytest.approx([37.75 - 2.4, 38.0 - 2.2, 38.0 - 2.0, 38.0 - 2.0])
    assert all(y != y for y in lows[:2])  # unknown range: nothing drawn
    total = next(t for t in figure.data if t.name == "Total")
    assert "-10.5 from the previous rating" in total.customdata[4][1]
    without = ratings.drop(columns=["usual", "usual_sd", "change_from_previous"])
    plain = charts.trajectory_figure(without, pd.DataFrame(), pd.DataFrame(), ALLIANCE4)
    assert not [t for t in plain.data if t.name and t.name.startswith("Usual range")]


def test_an_open_episode_runs_to_the_last_session(ratings) -> None:
    open_episode = pd.DataFrame(
        {"opened_session": [5], "closed_session": [None], "status": ["open"]}
    )
    figure = charts.trajectory_figure(ratings, pd.DataFrame(), open_episode, ALLIANCE4)
    (shape,) = [s for s in figure.layout.shapes if s.name == "episode open"]
    assert shape.x1 == pytest.approx(6.4)


def test_no_ratings_gives_a_message_not_empty_axes() -> None:
    figure = charts.trajectory_figure(
        pd.DataFrame(columns=["session_number", "held_on", "total"]),
        pd.DataFrame(),
        pd.DataFrame(),
        ALLIANCE4,
    )
    assert not figure.data
    assert "No ratings yet" in figure.layout.annotations[0].text


def test_items_get_one_panel_each_with_the_item_cutoff(ratings) -> None:
    figure = charts.items_figure(ratings, ALLIANCE4)
    assert names(figure) == list(ALLIANCE4.item_keys)
    cutoffs = [s for s in figure.layout.shapes if s.y0 == ALLIANCE4.psychometrics.item_cutoff]
    assert len(cutoffs) == len(ALLIANCE4.item_keys)


def test_wai12_items_are_grouped_into_its_registry_subscales() -> None:
    frame = pd.DataFrame({"session_number": [1, 2], **{key: [4.0, 3.0] for key in WAI12.item_keys}})
    figure = charts.items_figure(frame, WAI12)
    assert sorted(names(figure)) == sorted(WAI12.subscales)
    assert list(figure.data[0].y) == [4.0, 3.0]


def test_items_without_ratings_say_so() -> None:
    figure = charts.items_figure(pd.DataFrame(columns=["session_number"]), ALLIANCE4)
    assert not figure.data


@pytest.fixture
def team_weekly() -> pd.DataFrame:
    weeks = [date(2026, 11, 2), date(2026, 11, 9)]
    return pd.DataFrame(
        {
            "week_start": weeks,
            "mean_total": [35.0, 34.0],
            "ci_low": [33.0, None],
            "ci_high": [37.0, None],
        }
    )


@pytest.fixture
def therapist_weekly() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "week_start": [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 2)],
            "therapist_name": ["Ann", "Ann", "Bo"],
            "mean_total": [36.0, 33.0, 34.0],
            "response_rate": [1.0, 0.5, 0.75],
        }
    )


def layer(spec: dict, name: str) -> dict:
    return next(part for part in spec["layer"] if part.get("name") == name)


def rows(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def is_valid_vega_lite(spec: dict) -> bool:
    """Checked against the Vega-Lite schema that Altair (a Streamlit dependency) ships."""
    chart_type = alt.LayerChart if "layer" in spec else alt.Chart
    chart_type.from_dict(spec)  # raises on an invalid spec
    return True


def test_the_team_trend_has_a_ci_band_and_the_team_mean(team_weekly, therapist_weekly) -> None:
    spec = charts.team_trend_chart(team_weekly, therapist_weekly)
    assert is_valid_vega_lite(spec)
    assert [part["name"] for part in spec["layer"]] == ["band", "team_mean"]
    band = layer(spec, "band")
    assert band["mark"]["type"] == "area"
    assert band["encoding"]["y"]["field"] == "ci_low"
    assert band["encoding"]["y2"]["field"] == "ci_high"
    # weeks without an interval are left out of the band
    assert [(r["ci_low"], r["ci_high"]) for r in rows(band)] == [(33.0, 37.0)]
    mean = layer(spec, "team_mean")
    assert [r["mean_total"] for r in rows(mean)] == [35.0, 34.0]
    assert mean["mark"]["point"], "the weekly means are marked, not only joined"


def test_a_chosen_therapist_is_drawn_beside_the_team_and_named_on_hover(
    team_weekly, therapist_weekly
) -> None:
    spec = charts.team_trend_chart(team_weekly, therapist_weekly, therapist="Ann")
    assert is_valid_vega_lite(spec)
    line = layer(spec, "therapist")
    assert line["mark"]["type"] == "line"
    assert [(r["therapist_name"], r["mean_total"]) for r in rows(line)] == [
        ("Ann", 36.0),
        ("Ann", 33.0),
    ]
    tooltip_fields = [tip["field"] for tip in line["encoding"]["tooltip"]]
    assert tooltip_fields[0] == "therapist_name"


def test_the_team_trend_marks_each_week_on_its_first_day(team_weekly, therapist_weekly) -> None:
    spec = charts.team_trend_chart(team_weekly, therapist_weekly, therapist="Ann")
    ticks = layer(spec, "team_mean")["encoding"]["x"]["axis"]["values"]
    assert ticks == [{"year": 2026, "month": 11, "date": 2}, {"year": 2026, "month": 11, "date": 9}]


def test_the_team_trend_legend_names_each_series_in_colour_blind_safe_colours(
    team_weekly, therapist_weekly
) -> None:
    spec = charts.team_trend_chart(team_weekly, therapist_weekly, therapist="Bo")
    series = {part["name"]: {r["series"] for r in rows(part)} for part in spec["layer"]}
    assert series == {
        "band": {"95% interval of the team mean"},
        "team_mean": {"Team mean"},
        "therapist": {"Bo (weekly mean)"},
    }
    scale = layer(spec, "team_mean")["encoding"]["color"]["scale"]
    assert scale["domain"] == ["95% interval of the team mean", "Team mean", "Bo (weekly mean)"]
    okabe_ito = {*PALETTE.values(), "#CC79A7", "#F0E442", "#000000"}
    assert set(scale["range"]) <= okabe_ito
    severities = {PALETTE[s] for s in ("urgent", "warning", "talk", "info")}
    assert scale["range"][-1] not in severities, "a therapist's line is no severity's colour"


def test_the_therapist_line_leaves_out_weeks_without_a_mean(therapist_weekly) -> None:
    therapist_weekly.loc[1, "mean_total"] = None
    assert list(charts.therapist_lines(therapist_weekly, "Ann")["mean_total"]) == [36.0]


def test_the_team_trend_without_ratings_says_so() -> None:
    empty = pd.DataFrame(columns=["week_start", "mean_total", "ci_low", "ci_high"])
    spec = charts.team_trend_chart(empty, pd.DataFrame())
    assert is_valid_vega_lite(spec)
    assert rows(spec) == [{"message": "No ratings in this period yet."}]


def test_a_chosen_therapist_without_weeks_leaves_the_team_alone(team_weekly) -> None:
    spec = charts.team_trend_chart(team_weekly, pd.DataFrame(), therapist="Ann")
    assert [part["name"] for part in spec["layer"]] == ["band", "team_mean"]
    assert layer(spec, "team_mean")["encoding"]["color"]["scale"]["domain"] == [
        "95% interval of the team mean",
        "Team mean",
    ]


def test_the_heatmap_is_therapists_by_weeks_with_readable_numbers(therapist_weekly) -> None:
    therapist_weekly.loc[1, "response_rate"] = 0.25
    spec = charts.team_heatmap(therapist_weekly, "response_rate", title="Rate", percent=True)
    assert is_valid_vega_lite(spec)
    assert spec["encoding"]["x"]["field"] == "week"
    assert spec["encoding"]["y"]["field"] == "therapist_name"
    cells = {(r["therapist_name"], r["week"]): r for r in rows(spec)}
    assert set(cells) == {("Ann", "02 Nov"), ("Ann", "09 Nov"), ("Bo", "02 Nov")}
    assert cells["Ann", "09 Nov"]["label"] == "25%"
    assert cells["Ann", "02 Nov"]["ink"] == "black"  # light end of viridis
    assert cells["Ann", "09 Nov"]["ink"] == "white"  # dark end
    colour = spec["layer"][0]["encoding"]["color"]
    assert colour["scale"] == {"scheme": "viridis", "domain": [0.0, 1.0]}
    assert [part["mark"]["type"] for part in spec["layer"][1:]] == ["text"]


def test_the_heatmap_columns_are_weeks_in_date_order_across_a_new_year() -> None:
    weeks = [date(2027, 1, 4), date(2026, 12, 28), date(2026, 12, 21)]
    frame = pd.DataFrame(
        {"week_start": weeks, "therapist_name": "Ann", "mean_total": [30.0, 31.0, 32.0]}
    )
    spec = charts.team_heatmap(frame, "mean_total", title="Mean")
    assert spec["encoding"]["x"]["sort"] is None  # the data's order, which is by date
    assert [r["week"] for r in rows(spec)] == ["21 Dec", "28 Dec", "04 Jan"]


def test_a_year_of_weeks_is_too_narrow_for_numbers_so_hovering_gives_them() -> None:
    weeks = [date(2025, 12, 1) + timedelta(weeks=n) for n in range(52)]
    frame = pd.DataFrame({"week_start": weeks, "therapist_name": "Ann", "mean_total": 30.0})
    spec = charts.team_heatmap(frame, "mean_total", title="Mean")
    assert [part["mark"] for part in spec["layer"]] == ["rect"]
    assert "label" in [tip["field"] for tip in spec["encoding"]["tooltip"]]


def test_a_large_team_grid_leaves_its_numbers_to_hover() -> None:
    weeks = [date(2026, 9, 7) + timedelta(weeks=n) for n in range(12)]
    frame = pd.DataFrame(
        [(week, f"Therapist {n}", 36.0) for week in weeks for n in range(25)],
        columns=["week_start", "therapist_name", "mean_total"],
    )
    spec = charts.team_heatmap(frame, "mean_total", title="Mean")
    assert len(rows(spec)) == 300
    assert [part["mark"] for part in spec["layer"]] == ["rect"]
    assert "label" in [tip["field"] for tip in spec["encoding"]["tooltip"]]


def test_the_heatmap_without_data_says_so() -> None:
    spec = charts.team_heatmap(pd.DataFrame(), "mean_total", title="Mean")
    assert rows(spec) == [{"message": "Nothing to show for this period yet."}]
