"""Chart builders: the traces, bands and markers a clinician relies on are drawn."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import pytest

from dashboard import charts
from dashboard.labels import PALETTE
from tests.dashboard.described import described

ALLIANCE4 = described("alliance4")
WAI12 = described("wai12")


def layer(spec: dict, name: str) -> dict:
    return next(part for part in spec["layer"] if part.get("name") == name)


def layer_names(spec: dict) -> list[str]:
    return [part.get("name") for part in spec["layer"]]


def rows(spec: dict) -> list[dict]:
    return spec["data"]["values"]


def is_valid_vega_lite(spec: dict) -> bool:
    """Checked against the Vega-Lite schema that Altair (a Streamlit dependency) ships."""
    if "hconcat" in spec:
        chart_type = alt.HConcatChart
    else:
        chart_type = alt.LayerChart if "layer" in spec else alt.Chart
    chart_type.from_dict(spec)  # raises on an invalid spec
    return True


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
    spec = charts.trajectory_chart(ratings, flags, episodes, ALLIANCE4)
    assert is_valid_vega_lite(spec)
    assert layer_names(spec) == [
        "below_cutoff",
        "episodes",
        "usual_range",
        "cutoff",
        "total",
        "flag_urgent",
    ]
    assert [r["total"] for r in rows(layer(spec, "total"))] == list(ratings["total"])
    (urgent,) = rows(layer(spec, "flag_urgent"))
    assert (urgent["Session"], urgent["Total"]) == (5, 27.5)
    (cutoff,) = rows(layer(spec, "cutoff"))
    assert cutoff["cutoff"] == ALLIANCE4.psychometrics.total_cutoff
    assert cutoff["label"] == "Clinical cutoff (36)"
    (shade,) = rows(layer(spec, "below_cutoff"))
    assert (shade["floor"], shade["cutoff"]) == (ALLIANCE4.total_min, 36)
    assert layer(spec, "below_cutoff")["mark"]["opacity"] <= 0.1, "a light shade, not a wall"
    (episode,) = rows(layer(spec, "episodes"))
    assert episode["label"] == "Rupture: repaired"
    assert (episode["from"], episode["to"]) == pytest.approx((4.6, 6.4))


def test_a_sessions_marker_is_its_most_severe_flag_on_top_listing_every_flag(
    ratings, episodes
) -> None:
    flags = pd.DataFrame(
        {
            "session_number": [3, 5, 5, 3, 5],
            "severity": ["info", "warning", "urgent", "urgent", "warning"],
            "explanation": ["One low.", "A reliable drop.", "Asked to talk.", "Far below.", "Two"],
        }
    )
    spec = charts.trajectory_chart(ratings, flags, episodes, ALLIANCE4)
    assert is_valid_vega_lite(spec)
    assert [n for n in layer_names(spec) if n.startswith("flag_")] == ["flag_urgent"]
    marker = layer(spec, "flag_urgent")
    assert marker["mark"]["tooltip"] == {"content": "data"}
    by_session = {r["Session"]: r for r in rows(marker)}
    # hovering session 5 lists each of its flags in plain words, most severe first
    assert list(by_session[5].items()) == [
        ("Session", 5),
        ("Total", 27.5),
        ("Flag", "✖ Urgent"),
        ("✖ Urgent", "Asked to talk."),
        ("⚠ Warning", "A reliable drop."),
        ("⚠ Warning (2)", "Two"),
    ]
    # no key for a flag the session does not have (nothing blank on hover)
    assert list(by_session[3].items()) == [
        ("Session", 3),
        ("Total", 38.5),
        ("Flag", "✖ Urgent"),
        ("✖ Urgent", "Far below."),
        ("○ Note", "One low."),
    ]
    only_warning = charts.trajectory_chart(ratings, flags.iloc[1:2], episodes, ALLIANCE4)
    assert [n for n in layer_names(only_warning) if n.startswith("flag_")] == ["flag_warning"]


def test_urgent_markers_are_drawn_after_less_severe_ones(ratings, episodes) -> None:
    flags = pd.DataFrame(
        {
            "session_number": [2, 5, 4],
            "severity": ["urgent", "talk", "info"],
            "explanation": ["a", "b", "c"],
        }
    )
    spec = charts.trajectory_chart(ratings, flags, episodes, ALLIANCE4)
    assert [n for n in layer_names(spec) if n.startswith("flag_")] == [
        "flag_info",
        "flag_talk",
        "flag_urgent",
    ]
    assert layer_names(spec)[-1] == "flag_urgent"
    # one colour scale, so one legend: the series, then each severity shown
    colour = layer(spec, "flag_urgent")["encoding"]["color"]["scale"]
    assert colour == layer(spec, "total")["encoding"]["color"]["scale"]
    assert colour["domain"] == [charts.USUAL_RANGE, charts.TOTAL, "✖ Urgent", "◆ Talk", "○ Note"]
    assert colour["range"][2:] == [PALETTE["urgent"], PALETTE["talk"], PALETTE["info"]]
    legends = [
        part["name"]
        for part in spec["layer"]
        if part.get("encoding", {}).get("color", {}).get("legend") is not None
    ]
    assert legends == ["total"], "one legend, the total's, naming every series and severity"


def test_the_band_is_the_range_scoring_sent_and_none_of_the_charts_own(ratings) -> None:
    spec = charts.trajectory_chart(ratings, pd.DataFrame(), pd.DataFrame(), ALLIANCE4)
    band = rows(layer(spec, "usual_range"))
    assert [r["session_number"] for r in band] == [3, 4, 5, 6]  # unknown range: nothing drawn
    assert [r["low"] for r in band] == pytest.approx([37.75 - 2.4, 38.0 - 2.2, 36.0, 36.0])
    assert [r["high"] for r in band] == pytest.approx([37.75 + 2.4, 38.0 + 2.2, 40.0, 40.0])
    total = {r["session_number"]: r for r in rows(layer(spec, "total"))}
    assert total[5]["change"] == "-10.5 from the previous rating"
    assert total[1]["change"] == "–"
    without = ratings.drop(columns=["usual", "usual_sd", "change_from_previous"])
    plain = charts.trajectory_chart(without, pd.DataFrame(), pd.DataFrame(), ALLIANCE4)
    assert "usual_range" not in layer_names(plain)


def test_an_open_episode_runs_to_the_last_session(ratings) -> None:
    open_episode = pd.DataFrame(
        {"opened_session": [5], "closed_session": [None], "status": ["open"]}
    )
    spec = charts.trajectory_chart(ratings, pd.DataFrame(), open_episode, ALLIANCE4)
    (episode,) = rows(layer(spec, "episodes"))
    assert episode["to"] == pytest.approx(6.4)
    assert episode["label"] == "Rupture: open"


def test_no_ratings_gives_a_message_not_empty_axes() -> None:
    spec = charts.trajectory_chart(
        pd.DataFrame(columns=["session_number", "held_on", "total"]),
        pd.DataFrame(),
        pd.DataFrame(),
        ALLIANCE4,
    )
    assert is_valid_vega_lite(spec)
    assert "No ratings yet" in rows(spec)[0]["message"]


def test_items_get_one_panel_each_with_the_item_cutoff(ratings) -> None:
    spec = charts.items_chart(ratings, ALLIANCE4)
    assert is_valid_vega_lite(spec)
    panels = spec["hconcat"]
    assert [p["name"] for p in panels] == [f"panel_{key}" for key in ALLIANCE4.item_keys]
    for panel in panels:
        line, cutoff = panel["layer"]
        assert rows(cutoff) == [{"cutoff": ALLIANCE4.psychometrics.item_cutoff}]
        assert [r["score"] for r in rows(line)] == pytest.approx(list(ratings["total"] / 4))


def test_wai12_items_are_grouped_into_its_registry_subscales() -> None:
    frame = pd.DataFrame({"session_number": [1, 2], **{key: [4.0, 3.0] for key in WAI12.item_keys}})
    spec = charts.items_chart(frame, WAI12)
    assert is_valid_vega_lite(spec)
    names = [p["name"].removeprefix("panel_") for p in spec["hconcat"]]
    assert sorted(names) == sorted(WAI12.subscales)
    assert [r["score"] for r in rows(spec["hconcat"][0]["layer"][0])] == [4.0, 3.0]


def test_items_without_ratings_say_so() -> None:
    spec = charts.items_chart(pd.DataFrame(columns=["session_number"]), ALLIANCE4)
    assert rows(spec) == [{"message": "No item scores yet."}]


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
