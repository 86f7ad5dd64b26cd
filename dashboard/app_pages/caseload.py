"""My caseload: which clients to think about, and why, most urgent first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.downloads import caseload_csv
from dashboard.labels import NO_FLAG, PALETTE, SEVERITY_LABELS, SEVERITY_ORDER
from dashboard.safe_text import csv_safe
from dashboard.tables import (
    OLDEST_FLAG_COLUMN,
    caseload_frame,
    filter_caseload,
    formatted_caseload,
    sparkline_range,
)

is_supervisor = session.role() == "supervisor"
st.title("Team caseload" if is_supervisor else "My caseload")

SEVERITY_CHOICES = {**{s: SEVERITY_LABELS[s] for s in SEVERITY_ORDER}, "none": NO_FLAG}
STATUS_CHOICES = {"active": "Active clients", "discharged": "Discharged clients"}

with st.container(horizontal=True):
    search = st.text_input(
        "Search", placeholder="Code or label", key="caseload_search", max_chars=24
    )
    severities = st.multiselect(
        "Open flags",
        options=list(SEVERITY_CHOICES),
        format_func=SEVERITY_CHOICES.get,
        placeholder="Any",
        key="filter_severity",
    )
    unrated_days = st.number_input(
        "No rating for at least (days)",
        min_value=0,
        max_value=365,
        value=0,
        step=7,
        help="0 shows everyone.",
        key="filter_unrated_days",
    )
    status = st.selectbox(
        "Clients", options=list(STATUS_CHOICES), format_func=STATUS_CHOICES.get, key="filter_status"
    )

rows = session.api().caseload(status=status)
if not rows:
    st.info(
        "No clients here yet. An administrator adds clients to a caseload; then issue a "
        "rating link after each session."
    )
    st.stop()

everyone = csv_safe(caseload_frame(rows))
urgent = int((everyone["severity"] == "urgent").sum())
warning = int((everyone["severity"] == "warning").sum())
with st.container(horizontal=True):
    st.metric("Clients", len(everyone), border=True)
    st.metric(SEVERITY_LABELS["urgent"], urgent, border=True)
    st.metric(SEVERITY_LABELS["warning"], warning, border=True)
    stale = int((everyone["Days since rating"] >= 21).sum())
    st.metric("No rating for 3+ weeks", stale, border=True)

shown = filter_caseload(
    everyone, severities=severities, unrated_days=int(unrated_days), search=search
)
if shown.empty:
    st.info("No client matches these filters. Clear a filter to see more.")
    st.stop()

_TINT = {s: PALETTE[s] + "22" for s in SEVERITY_ORDER}


def _attention_style(column: pd.Series) -> list[str]:
    severity = shown.loc[column.index, "severity"]
    return [f"background-color: {_TINT.get(s, 'transparent')}" for s in severity]


def _change_style(column: pd.Series) -> list[str]:
    change = shown.loc[column.index, "change_value"]
    return [
        ""
        if pd.isna(c) or abs(c) < 0.05
        else f"color: {PALETTE['good'] if c > 0 else PALETTE['urgent']}; font-weight: 600"
        for c in change
    ]


visible_columns = [c for c in shown.columns if c not in ("severity", "change_value")]
if not is_supervisor:
    visible_columns.remove("Therapist")
if status == "active":
    visible_columns.remove("Status")
if not shown["Label"].any():
    visible_columns.remove("Label")
low_high = sparkline_range(everyone)
styled = (
    formatted_caseload(shown)
    .apply(_attention_style, subset=["Attention"])
    .apply(_change_style, subset=["Change"])
)
table = st.dataframe(
    styled,
    column_order=visible_columns,
    hide_index=True,
    on_select="rerun",
    selection_mode="single-row",
    key="caseload_table",
    column_config={
        "Trend": st.column_config.LineChartColumn(
            "Last 10 ratings",
            help="Totals of the last ten rated sessions, oldest first, on one scale for "
            "every client.",
            y_min=low_high[0] if low_high else None,
            y_max=low_high[1] if low_high else None,
        ),
        # No format here: a column_config format would override the table's whole days.
        # Streamlit draws an empty number cell as a grey "None" whatever the Styler says.
        OLDEST_FLAG_COLUMN: st.column_config.NumberColumn(
            help="Days since the oldest flag nobody has acknowledged yet was raised. "
            "None: nothing open."
        ),
        "Change": st.column_config.TextColumn(help="Change from the previous rated session."),
    },
)

selected = table.selection.rows if table is not None else []
if selected:
    session.open_client(str(shown.iloc[selected[0]]["Client"]))

with st.container(horizontal=True, vertical_alignment="bottom"):
    labels = dict(zip(shown["Client"], shown["Label"], strict=True))
    code = st.selectbox(
        "Client",
        options=list(shown["Client"]),
        format_func=lambda c: f"{c} · {labels[c]}" if labels[c] else c,
        key="open_client_code",
    )
    # A link, not a button: the browser goes straight to the client page, where a button
    # first reran this page (its table and styling) and only then switched.
    st.page_link(
        "app_pages/client.py",
        label="Open client page",
        icon=":material/person:",
        query_params={session.CLIENT_PARAM: code},
    )
st.caption("Select a row, or choose a client above, to see their ratings and flags.")
caseload_csv(session.api())
