"""Team overview for supervisors: trends, per-therapist numbers, and what is waiting."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, session
from dashboard.labels import DAY_COLUMN_FORMAT
from dashboard.safe_text import csv_safe
from dashboard.tables import (
    queue_frame,
    team_weekly_frame,
    therapist_labels,
    therapist_table,
    therapist_weekly_frame,
)
from scoring.instruments import DEFAULT_INSTRUMENT, get_instrument, instrument_ids

st.title("Team overview")

with st.container(horizontal=True):
    weeks = st.select_slider(
        "Period (weeks)", options=[4, 8, 12, 26, 52], value=12, key="team_weeks"
    )
    ids = list(instrument_ids())
    instrument_id = st.selectbox(
        "Questionnaire",
        options=ids,
        index=ids.index(DEFAULT_INSTRUMENT),
        format_func=lambda i: get_instrument(i).name,
        key="team_instrument",
    )

overview = session.api().team_overview(weeks=weeks, instrument=instrument_id)
if not overview["therapists"]:
    st.info("No therapists in your teams yet. An administrator assigns therapists to teams.")
    st.stop()

team_weekly = team_weekly_frame(overview)
therapist_weekly = therapist_weekly_frame(overview)
therapists = therapist_labels(overview["therapists"])

compared = st.selectbox(
    "Compare with a therapist",
    options=[therapists[t["therapist_id"]] for t in overview["therapists"]],
    index=None,
    placeholder="Choose a therapist to draw their weekly mean",
    key="team_trend_therapist",
)
st.vega_lite_chart(
    spec=charts.team_trend_chart(team_weekly, therapist_weekly, therapist=compared),
    key="team_trend",
)
st.caption(
    "The band is the 95% interval of the weekly team mean (mean ± 1.96 × SD / √n); weeks "
    "with a single rating have none. Every therapist's weeks are in the heatmap below."
)

st.subheader("Therapists")
st.dataframe(
    csv_safe(therapist_table(overview["therapists"])), hide_index=True, key="therapist_table"
)
st.caption(
    "Response rate: rated sessions out of sessions held in the period. Repair rate: repaired "
    "ruptures out of those closed either way; ruptures still open are not counted."
)

st.subheader("Waiting for attention")
queue = csv_safe(queue_frame(overview["queue"], therapists))
if queue.empty:
    st.success("No urgent flags and no unrepaired ruptures in your teams.")
else:
    st.dataframe(
        queue,
        hide_index=True,
        key="queue_table",
        column_config={"Since": st.column_config.DateColumn(format=DAY_COLUMN_FORMAT)},
    )
    with st.container(horizontal=True, vertical_alignment="bottom"):
        code = st.selectbox(
            "Client", options=list(dict.fromkeys(queue["Client"])), key="queue_client"
        )
        if st.button("Open client (read-only)", key="open_queue_client"):
            session.open_client(code)

st.subheader("Therapists by week")
shown = st.radio(
    "Colour by",
    options=["mean_total", "response_rate"],
    format_func={"mean_total": "Mean alliance total", "response_rate": "Response rate"}.get,
    horizontal=True,
    key="heatmap_value",
)
st.vega_lite_chart(
    spec=charts.team_heatmap(
        therapist_weekly,
        shown,
        title="Mean alliance total" if shown == "mean_total" else "Response rate",
        percent=shown == "response_rate",
    ),
    key="team_heatmap",
)
