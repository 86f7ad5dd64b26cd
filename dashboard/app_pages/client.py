"""One client, in the order a therapist reads before a session: who, what the client
said, what is flagged, how the alliance moved, each dimension and the history.

The client is in the address (``/client?client=CODE``), so a refresh, the browser's
back and forward buttons and a pasted link open the same client.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from dashboard import charts, print_card, session
from dashboard.api import ApiError
from dashboard.downloads import client_exports
from dashboard.labels import (
    ACTION_LABELS,
    ACTIONS_NEEDING_A_NOTE,
    FLAG_STATUS_LABELS,
    LANGUAGE_LABELS,
    PLANNED_ACTIONS,
    REPAIR_LABELS,
    day_label,
    severity_label,
)
from dashboard.safe_text import csv_safe, plain
from dashboard.tables import (
    FLAGS_IN_FULL,
    TALK_REQUEST_RULE,
    episodes_frame,
    flags_frame,
    flags_table,
    live_flags,
    ratings_frame,
    waits_for_what_was_done,
    wording_note,
)

#: What the client said, shown in full before the rest is folded away.
SAID_IN_FULL = 5
CHOOSE_ACTION = "Choose what you did."
OTHER_NEEDS_NOTE = "Say in the note what you did."
TALK_REQUEST_STAYS_OPEN = (
    "A request to talk stays open until you record what you did about it; "
    "then you can mark it resolved."
)

api = session.api()
is_therapist = session.role() == "therapist"
CLIENT = session.CLIENT_PARAM


def _follow_picker() -> None:
    st.query_params[CLIENT] = st.session_state.client_picker


def _pick_client() -> str | None:
    """The client named in the address; choosing another changes the address (and adds a
    history entry, so the browser's back button returns to the previous client)."""
    codes = [row["code"] for row in api.caseload()]
    current = st.query_params.get(CLIENT)
    options = codes if current is None or current in codes else [current, *codes]
    st.session_state.client_picker = current  # the address wins, e.g. after "back"
    st.selectbox(
        "Client",
        options=options,
        index=None,
        placeholder="Choose a client",
        key="client_picker",
        on_change=_follow_picker,
    )
    return current


code = _pick_client()
if code is None:
    st.title("Client")
    st.info("Choose a client above, or open one from the caseload.")
    st.stop()

try:
    page = api.client_page(code)
except ApiError as refused:
    if refused.status_code not in (404, 422):
        raise
    # Someone else's client reads exactly like a code that does not exist.
    st.title("Client")
    st.error(f"No client {code} was found on your caseload. Check the code in the link.")
    st.stop()

record, ratings, flags = page["client"], page["ratings"], page["flags"]
episodes, sessions = page["episodes"], page["sessions"]
known = session.instruments()
last_used = (ratings or sessions or [{"instrument": next(iter(known))}])[-1]["instrument"]
instrument = known.get(last_used) or next(iter(known.values()))
rated = ratings_frame(ratings, instrument, page.get("ranges", []))
live = live_flags(flags)
comments = {r["session_number"]: r["comment"] for r in ratings if r["comment"]}

# 1. Who ----------------------------------------------------------------------------
st.title(f"Client {record['code']}")
if page["label"]:
    st.text(f"Your label: {page['label']}")  # typed by the therapist: plain text, no markup
details = f"Therapist: {plain(record['therapist_name'])} · {record['status'].capitalize()}"
if not is_therapist:
    details += " · Read-only: only the client's therapist acknowledges flags and issues links."
st.caption(details)
client_exports(api, code, key="client_export")

with st.container(horizontal=True):
    latest, change = page["latest_total"], page["change_from_previous"]
    st.metric(
        "Latest total",
        "–" if latest is None else f"{latest:.1f}",
        delta=None if change is None else round(change, 1),
        delta_color="off",  # the arrow carries direction; no red/green reliance
        border=True,
    )
    st.metric("Sessions held", len(sessions), border=True)
    st.metric("Rated", f"{len(ratings)} of {len(sessions)}", border=True)
    st.metric("Open flags", sum(f["status"] == "open" for f in flags), border=True)
    status = page["repair_status"]
    st.metric("Rupture", REPAIR_LABELS.get(status, status), border=True)

if is_therapist:
    with (
        st.popover("Private label", icon=":material/label:"),
        st.form("label_form", border=False),
    ):
        label = st.text_input(
            "Label (only you and your supervisor see it)",
            value=page["label"] or "",
            max_chars=24,
            help="For example initials, to tell clients apart. Never shown to the client.",
            key="label_text",
        )
        if st.form_submit_button("Save label"):
            try:
                api.set_label(code, label.strip() or None)
            except ApiError as refused:
                st.error(refused.detail)
            else:
                st.rerun()


def _record_session(held_on: date, instrument_id: str, language: str) -> None:
    try:
        issued = api.new_session(code, held_on, instrument_id, language)
    except ApiError as refused:
        st.error(refused.detail)
    else:
        st.session_state.issued_link = {"code": code, **issued}
        st.session_state.pop("pending_session", None)
        st.rerun()


if is_therapist and record["status"] == "active":
    with st.expander("Record today's session", icon=":material/add_circle:"):
        with st.form("issue_link", border=False):
            # The API's bounds: not after the clinic's today, not before the latest session.
            allowed = page["new_session_dates"]
            latest = date.fromisoformat(allowed["latest"])
            earliest = allowed["earliest"] and min(date.fromisoformat(allowed["earliest"]), latest)
            held_on = st.date_input(
                "Session date",
                value=latest,
                min_value=earliest or None,
                max_value=latest,
                key="link_date",
            )
            ids = list(known)
            chosen_instrument = st.selectbox(
                "Questionnaire",
                options=ids,
                index=ids.index(instrument.id),
                format_func=lambda i: known[i].name,
                key="link_instrument",
            )
            languages = list(LANGUAGE_LABELS)
            language = st.selectbox(
                "Language",
                options=languages,
                index=languages.index(page["last_link_language"] or languages[0]),
                format_func=LANGUAGE_LABELS.get,
                key="link_language",
            )
            submitted = st.form_submit_button("Record session and issue link", type="primary")
        if submitted:
            if any(s["held_on"] == held_on.isoformat() for s in sessions):
                st.session_state.pending_session = (code, held_on, chosen_instrument, language)
            else:
                _record_session(held_on, chosen_instrument, language)
        pending = st.session_state.get("pending_session")
        if pending and pending[0] == code:
            st.warning(
                f"A session on {day_label(pending[1])} is already recorded for this client. "
                "Record a second one on the same date?"
            )
            with st.container(horizontal=True):
                if st.button("Yes, record a second session", key="confirm_second_session"):
                    _record_session(*pending[1:])
                if st.button("No, keep the one recorded", key="cancel_second_session"):
                    del st.session_state["pending_session"]
                    st.rerun()

issued = st.session_state.get("issued_link")
if issued and issued.get("code") == code:
    with st.container(border=True, key="issued_link_card"):
        st.success(
            f"Session {issued['session']['session_number']} recorded. Give the client this "
            f"link or QR code; it works once and expires {day_label(issued['expires_at'][:10])}. "
            "It is shown only now."
        )
        st.code(issued["url"], language=None)
        st.image(issued["qr_svg"], width=220, caption="Scan with the client's phone camera")
        with st.container(horizontal=True):
            st.download_button(
                "Print-friendly card",
                data=print_card.card_html(issued),
                file_name=f"rating-link-session-{issued['session']['session_number']}.html",
                mime="text/html",
                icon=":material/print:",
                key="print_card",
            )
            if st.button("Done, hide the link", key="hide_link"):
                del st.session_state["issued_link"]
                st.rerun()

# 2. What the client said ----------------------------------------------------------------
st.header("What the client said", divider="gray")
said = [r for r in reversed(ratings) if r["comment"] or r["wants_to_talk"]]
if not said:
    st.caption("The client has not left a comment or asked to talk.")


def _show_said(rating: dict[str, Any]) -> None:
    heading = f"**Session {rating['session_number']}** · {day_label(rating['held_on'])}"
    if rating["wants_to_talk"]:
        heading += " · ◆ Asked to talk about how therapy is going"
    st.markdown(heading)
    if rating["comment"]:
        st.text(rating["comment"])  # the client's own words: plain text, never markup


for rating in said[:SAID_IN_FULL]:
    _show_said(rating)
if len(said) > SAID_IN_FULL:
    with st.expander(f"{len(said) - SAID_IN_FULL} earlier comments and requests"):
        for rating in said[SAID_IN_FULL:]:
            _show_said(rating)


# 3. Live flags, most pressing first ------------------------------------------------------
#: What can be recorded once a planned action is done: what was done, not another plan.
DONE_ACTIONS = [a for a in ACTION_LABELS if a not in PLANNED_ACTIONS]


def acknowledge_form(
    key: str,
    chosen: list[dict[str, Any]],
    submit: str,
    *,
    actions: list[str] | None = None,
    question: str = "What did you do?",
) -> None:
    """What the therapist did about these flags. Nothing is preselected: a record says
    only what the therapist chose; "Other" needs a note saying what."""
    with st.form(key=f"ack_{key}", border=False):
        action = st.selectbox(
            question,
            options=actions or list(ACTION_LABELS),
            index=None,
            placeholder="Choose what you did",
            format_func=ACTION_LABELS.get,
            key=f"action_{key}",
        )
        note = st.text_area(
            "Note (required for Other)", max_chars=1000, key=f"note_{key}", height=68
        )
        if not st.form_submit_button(submit):
            return
    if action is None:
        st.error(CHOOSE_ACTION)
        return
    if action in ACTIONS_NEEDING_A_NOTE and not note.strip():
        st.error(OTHER_NEEDS_NOTE)
        return
    _acknowledge(chosen, action, note.strip() or None)


def _acknowledge(chosen: list[dict[str, Any]], action: str, note: str | None) -> None:
    """One acknowledgement each; a refusal says how many were already done."""
    done = 0
    try:
        for flag in chosen:
            api.acknowledge(code, flag["id"], action, note)
            done += 1
    except ApiError as refused:
        counted = f"{done} of {len(chosen)} acknowledged. " if len(chosen) > 1 else ""
        st.error(f"{counted}{refused.detail}")
    else:
        st.toast("Recorded." if done == 1 else f"Recorded for {done} flags.")
        st.rerun()


st.header("Flags", divider="gray")
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
        quoted = comments.get(flag["session_number"])
        if quoted and (flag["rule"] == TALK_REQUEST_RULE or flag["severity"] == "urgent"):
            st.caption("The client wrote that session:")
            st.text(f"“{quoted}”")
        st.markdown(f"**What you can do:** {flag['guidance']}")
        if flag.get("planned_action"):
            st.caption(f"You planned: {ACTION_LABELS.get(flag['planned_action'], '')}")
            if flag["plan_note"]:
                st.text(flag["plan_note"])  # typed by the therapist: plain text
        if flag["status"] == "acknowledged":
            done = ACTION_LABELS.get(flag["action"] or "", "Acknowledged")
            st.caption(f"You noted: {done}")
            if flag["note"]:
                st.text(flag["note"])
        if not is_therapist:
            continue
        if flag["status"] == "open":
            acknowledge_form(str(flag["id"]), [flag], "Record what you did")
        elif flag["action"] in PLANNED_ACTIONS:
            with st.expander("Done? Record what happened", expanded=True):
                acknowledge_form(
                    f"done_{flag['id']}",
                    [flag],
                    "Record what happened",
                    actions=DONE_ACTIONS,
                    question="What happened?",
                )
        if waits_for_what_was_done(flag):
            st.caption(TALK_REQUEST_STAYS_OPEN)
        elif st.button("Mark resolved", key=f"resolve_{flag['id']}"):
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
                "listed", still_open, f"Record what you did for the {len(still_open)} open flags"
            )

# 4. The chart ------------------------------------------------------------------------------
st.header("How the alliance moved", divider="gray")
st.vega_lite_chart(
    spec=charts.trajectory_chart(
        rated,
        flags_frame(flags, instrument.id),
        episodes_frame(episodes, instrument.id),
        instrument,
    ),
    key="trajectory",
)
st.caption(
    f"{instrument.name}. The dashed line is the clinical cutoff "
    f"({instrument.psychometrics.total_cutoff:g}); below it is worth talking about. The blue "
    "band is this client's usual range as scoring judged each rating (usual level ± its "
    "spread). Hover a marker for what was flagged that session."
)

# 5. Each dimension and the history ------------------------------------------------------
if not rated.empty:
    st.vega_lite_chart(spec=charts.items_chart(rated, instrument), key="items", width="content")
    note = wording_note(ratings, instrument)
    if note:
        st.caption(note)
earlier = [f for f in flags if f["status"] in ("resolved", "withdrawn")]
if earlier:
    with st.expander(f"Earlier flags ({len(earlier)})"):
        st.dataframe(csv_safe(flags_table(earlier)), hide_index=True)
if not ratings and not is_therapist:
    st.info("No ratings yet — the therapist issues a link after the next session.")
