"""One client: how the alliance moved, on which dimension, what was flagged and what was done."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from dashboard import charts, session
from dashboard.api import ApiError
from dashboard.downloads import client_exports
from dashboard.labels import (
    ACTION_LABELS,
    FLAG_STATUS_LABELS,
    LANGUAGE_LABELS,
    REPAIR_LABELS,
    day_label,
    severity_label,
)
from dashboard.safe_text import csv_safe, plain
from dashboard.tables import (
    FLAGS_IN_FULL,
    episodes_frame,
    flags_frame,
    flags_table,
    live_flags,
    ratings_frame,
    wording_note,
)
from scoring.instruments import DEFAULT_INSTRUMENT, get_instrument, instrument_ids

api = session.api()
is_therapist = session.role() == "therapist"

caseload = api.caseload()
codes = [row["code"] for row in caseload]
current = st.session_state.get("client_code")
if current and current not in codes:
    codes.append(current)  # e.g. opened from the team queue, or discharged
if not codes:
    st.title("Client")
    st.info("No clients on this caseload yet. An administrator adds clients for you.")
    st.stop()

code = st.selectbox(
    "Client",
    options=codes,
    index=codes.index(current) if current in codes else 0,
    key="client_picker",
)
st.session_state.client_code = code

record = api.client(code)
ratings = api.ratings(code)
flags = api.flags(code)
episodes = api.episodes(code)
sessions = api.sessions(code)

st.title(f"Client {record['code']}")
details = f"Therapist: {plain(record['therapist_name'])} · {record['status'].capitalize()}"
if not is_therapist:
    details += " · Read-only: only the client's therapist acknowledges flags and issues links."
st.caption(details)
client_exports(api, code, key="client_export")

if ratings:
    instrument_id = ratings[-1]["instrument"]
elif sessions:
    instrument_id = sessions[-1]["instrument"]
else:
    instrument_id = DEFAULT_INSTRUMENT
instrument = get_instrument(instrument_id)
rated = ratings_frame(ratings, instrument)
live = live_flags(flags)
latest_episode = episodes[-1]["status"] if episodes else "none"

with st.container(horizontal=True):
    latest = rated["total"].iloc[-1] if not rated.empty else None
    previous = rated["total"].iloc[-2] if len(rated) > 1 else None
    st.metric(
        "Latest total",
        "–" if latest is None else f"{latest:.1f}",
        delta=None if previous is None else round(float(latest - previous), 1),
        delta_color="off",  # the arrow carries direction; no red/green reliance
        border=True,
    )
    st.metric("Sessions held", len(sessions), border=True)
    st.metric("Rated", f"{len(ratings)} of {len(sessions)}", border=True)
    st.metric("Open flags", sum(f["status"] == "open" for f in flags), border=True)
    st.metric("Latest rupture", REPAIR_LABELS.get(latest_episode, latest_episode), border=True)

st.plotly_chart(
    charts.trajectory_figure(
        rated,
        flags_frame(flags, instrument.id),
        episodes_frame(episodes, instrument.id),
        instrument,
    ),
    key="trajectory",
)
st.caption(
    f"{instrument.name}. Shaded below {instrument.psychometrics.total_cutoff:g}: the range "
    "worth talking about. The blue band is this client's usual range (mean ± 1 SD of "
    "earlier sessions). Hover a marker for what was flagged."
)
if not rated.empty:
    st.plotly_chart(charts.items_figure(rated, instrument), key="items")
    st.caption(wording_note(ratings, instrument))


def acknowledge_form(key: str, chosen: list[dict[str, Any]], submit: str) -> None:
    """What the therapist did about these flags, with an optional note; one
    acknowledgement each, and a refusal says how many were already done."""
    with st.form(key=f"ack_{key}", border=False):
        action = st.selectbox(
            "What did you do?",
            options=list(ACTION_LABELS),
            format_func=ACTION_LABELS.get,
            key=f"action_{key}",
        )
        note = st.text_area("Note (optional)", max_chars=1000, key=f"note_{key}", height=68)
        if not st.form_submit_button(submit):
            return
    done = 0
    try:
        for flag in chosen:
            api.acknowledge(code, flag["id"], action, note.strip() or None)
            done += 1
    except ApiError as refused:
        counted = f"{done} of {len(chosen)} acknowledged. " if len(chosen) > 1 else ""
        st.error(f"{counted}{refused.detail}")
    else:
        st.toast("Acknowledged." if done == 1 else f"Acknowledged {done} flags.")
        st.rerun()


st.subheader("Flags")
if not live:
    st.success("Nothing open for this client.")
for flag in live[:FLAGS_IN_FULL]:
    with st.container(border=True, key=f"flag_{flag['id']}"):
        st.markdown(
            f"**{severity_label(flag['severity'])}** · Session {flag['session_number']} "
            f"({day_label(flag['held_on'])}) · "
            f"{FLAG_STATUS_LABELS[flag['status']]}"
        )
        st.write(flag["explanation"])
        st.markdown(f"**What you can do:** {flag['guidance']}")
        if flag["status"] == "acknowledged":
            done = ACTION_LABELS.get(flag["action"] or "", "Acknowledged")
            st.caption(f"You noted: {done}")
            if flag["note"]:
                st.text(flag["note"])
        if not is_therapist:
            continue
        if flag["status"] == "open":
            acknowledge_form(str(flag["id"]), [flag], "Acknowledge")
        if st.button("Mark resolved", key=f"resolve_{flag['id']}"):
            try:
                api.resolve(code, flag["id"])
            except ApiError as refused:
                st.error(refused.detail)
            else:
                st.toast("Resolved.")
                st.rerun()

listed = live[FLAGS_IN_FULL:]
if listed:
    with st.expander(f"{len(listed)} more flags, less severe or from older sessions"):
        st.dataframe(csv_safe(flags_table(listed)), hide_index=True)
        still_open = [f for f in listed if f["status"] == "open"]
        if is_therapist and still_open:
            acknowledge_form(
                "listed", still_open, f"Acknowledge the {len(still_open)} open flags listed"
            )

earlier = [f for f in flags if f["status"] in ("resolved", "withdrawn")]
if earlier:
    with st.expander(f"Earlier flags ({len(earlier)})"):
        st.dataframe(csv_safe(flags_table(earlier)), hide_index=True)

st.subheader("Comments and requests to talk")
said = [r for r in reversed(ratings) if r["comment"] or r["wants_to_talk"]]
if not said:
    st.caption("The client has not left a comment or asked to talk.")
for rating in said:
    heading = f"**Session {rating['session_number']}** · {day_label(rating['held_on'])}"
    if rating["wants_to_talk"]:
        heading += " · ◆ Asked to talk about how therapy is going"
    st.markdown(heading)
    if rating["comment"]:
        st.text(rating["comment"])  # the client's own words: shown as plain text, never markup

if is_therapist and record["status"] == "active":
    st.subheader("Rating link for a new session")
    with st.form("issue_link"):
        held_on = st.date_input("Session date", value=date.today(), key="link_date")
        chosen = st.selectbox(
            "Questionnaire",
            options=list(instrument_ids()),
            index=list(instrument_ids()).index(instrument.id),
            format_func=lambda i: get_instrument(i).name,
            key="link_instrument",
        )
        language = st.selectbox(
            "Language", options=list(LANGUAGE_LABELS), format_func=LANGUAGE_LABELS.get
        )
        if st.form_submit_button("Record session and issue link", type="primary"):
            try:
                issued = api.new_session(code, held_on, chosen, language)
            except ApiError as refused:
                st.error(refused.detail)
            else:
                st.session_state.issued_link = {"code": code, **issued}
    issued = st.session_state.get("issued_link")
    if issued and issued.get("code") == code:
        st.success(
            f"Session {issued['session']['session_number']} recorded. Give the client this "
            f"link or QR code; it works once and expires {day_label(issued['expires_at'][:10])}."
        )
        st.code(issued["url"], language=None)
        st.image(issued["qr_svg"], width=220, caption="Scan with the client's phone camera")
elif not ratings:
    st.info("No ratings yet — the therapist issues a link after the next session.")
