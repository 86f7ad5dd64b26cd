"""Team overview for supervisors: trends, per-therapist numbers, and what is waiting."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, session
from dashboard.labels import DAY_COLUMN_FORMAT, day_label
from dashboard.safe_text import csv_safe
from dashboard.tables import (
    ruptures_frame,
    talk_requests_frame,
    team_weekly_frame,
    therapist_labels,
    therapist_table,
    therapist_weekly_frame,
)

st.title("Team overview")

with st.container(horizontal=True):
    weeks = st.select_slider(
        "Period (weeks)", options=[4, 8, 12, 26, 52], value=12, key="team_weeks"
    )
    known = session.instruments()  # the default first
    instrument_id = st.selectbox(
        "Questionnaire",
        options=list(known),
        format_func=lambda i: known[i].name,
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
    "Response rate: rated sessions out of sessions held in the period. Open flags on "
    "sessions > 7 days ago: flags nobody has acknowledged about a session held more than a "
    "week ago. Repair rate: repaired ruptures out of those closed either way; ruptures "
    "still open are not counted."
)

st.subheader("Requests to talk, waiting")
talk = csv_safe(talk_requests_frame(overview["talk_requests"], therapists))
if talk.empty:
    st.success("No client is waiting for a talk.")
else:
    st.dataframe(
        talk,
        hide_index=True,
        key="talk_table",
        column_config={"Held on": st.column_config.DateColumn(format=DAY_COLUMN_FORMAT)},
    )

st.subheader("Ruptures not repaired")
ruptures = ruptures_frame(overview["ruptures"], therapists)
if ruptures.empty:
    st.success("No open or unrepaired ruptures in your teams.")
else:
    # A static table, so each explanation wraps instead of being cut off.
    shown_ruptures = csv_safe(ruptures.assign(Since=ruptures["Since"].map(day_label)))
    st.table(shown_ruptures, border="horizontal")

waiting = list(dict.fromkeys([*talk["Client"], *ruptures["Client"]]))
if waiting:
    with st.container(horizontal=True, vertical_alignment="bottom"):
        code = st.selectbox("Client", options=waiting, key="queue_client")
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
