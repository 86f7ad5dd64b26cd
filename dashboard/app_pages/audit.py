"""The audit trail: who did what, when, to which client. Administrators see everything;
supervisors what concerns their teams (the API decides)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.labels import DAY_COLUMN_FORMAT

PAGE_SIZE = 50
OUTCOMES = {"allowed": "Allowed", "denied": "Refused", "failed": "Failed"}

api = session.api()
st.title("Audit trail")
st.caption(
    "Every sign-in, read of a client's data, change and refused request, newest first. "
    "Quote the request id when you report a problem."
)

with st.form("audit_filters", border=False), st.container(horizontal=True):
    person = st.number_input(
        "Person (user id)", min_value=0, value=0, step=1, help="0: everyone", key="audit_user"
    )
    client = st.text_input("Client code", max_chars=16, key="audit_client")
    action = st.text_input("Action", max_chars=40, help="e.g. read_client_page", key="audit_action")
    since = st.date_input("From", value=None, key="audit_since")
    until = st.date_input("To", value=None, key="audit_until")
    applied = st.form_submit_button("Filter")

filters = {
    "user_id": int(person) or None,
    "client_code": client.strip().upper() or None,
    "action": action.strip() or None,
    "since": since.isoformat() if since else None,
    "until": until.isoformat() if until else None,
}
if applied or st.session_state.get("audit_filters_used") != filters:
    st.session_state.audit_filters_used = filters
    st.session_state.audit_pages = [None]  # the "before" id of each page shown so far
pages: list[int | None] = st.session_state.audit_pages

events = api.audit(**filters, before=pages[-1], limit=PAGE_SIZE)
if not events:
    st.info("No audit events match these filters.")
else:
    frame = pd.DataFrame.from_records(
        [
            {
                "When": pd.Timestamp(e["at"]),
                "Who (user id)": e["actor_id"],
                "Role": e["actor_role"] or "",
                "Action": e["action"],
                "Outcome": OUTCOMES.get(e["outcome"], e["outcome"]),
                "Client": e["client_code"] or "",
                "About (user id)": e["subject_user_id"],
                "Object": e["object_id"] or "",
                "Request id": e["request_id"] or "",
            }
            for e in events
        ]
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="audit_table",
        column_config={
            "When": st.column_config.DatetimeColumn(format=DAY_COLUMN_FORMAT + " HH:mm:ss")
        },
    )
with st.container(horizontal=True):
    st.caption(f"Page {len(pages)}")
    if len(pages) > 1 and st.button("Newer", key="audit_newer", icon=":material/arrow_back:"):
        pages.pop()
        st.rerun()
    if len(events) == PAGE_SIZE and st.button(
        "Older", key="audit_older", icon=":material/arrow_forward:"
    ):
        pages.append(events[-1]["id"])
        st.rerun()
