"""What Rapport mails me: urgent alerts, and the summaries I choose."""

from __future__ import annotations

import streamlit as st

from dashboard import session

api = session.api()
role = session.role()

st.title("Notifications")
st.caption(
    "Rapport's mails never say anything about a client: an alert says that a client on your "
    "caseload needs attention and links to their page; a summary only counts."
)
choices = api.notifications()

with st.form("notifications"):
    urgent = st.toggle(
        "Urgent alerts: a mail when a client on my caseload needs attention",
        value=choices["urgent_alerts"],
        disabled=choices["urgent_alerts_required"],
        key="urgent_alerts",
    )
    if choices["urgent_alerts_required"]:
        st.caption("Always on while you have clients: it is how a request to talk reaches you.")
    daily = weekly = None
    if role == "therapist":
        daily = st.toggle(
            "Daily summary: each morning, how many of my clients have something open "
            "(only when some do)",
            value=choices["daily_digest"],
            key="daily_digest",
        )
    if role == "supervisor":
        weekly = st.toggle(
            "Weekly summary: each Monday, my teams' waiting requests to talk, unrepaired "
            "ruptures and response rate",
            value=choices["weekly_digest"],
            key="weekly_digest",
        )
    saved = st.form_submit_button("Save", type="primary")

if saved:
    change = {"daily_digest": daily, "weekly_digest": weekly}
    if not choices["urgent_alerts_required"]:
        change["urgent_alerts"] = urgent
    api.update_notifications(**{name: value for name, value in change.items() if value is not None})
    st.success("Saved.")
