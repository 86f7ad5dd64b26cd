"""Administration: accounts, teams and which therapist each client is with. No clinical data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.api import ApiError
from dashboard.downloads import client_exports
from dashboard.safe_text import csv_safe, plain

ROLES = {"therapist": "Therapist", "supervisor": "Supervisor", "admin": "Administrator"}
#: Clients listed at once; an administrator finds the others by code.
CLIENTS_SHOWN = 200
#: The "Add a person" form's fields, emptied once the person is added.
NEW_USER_FIELDS = ("new_user_email", "new_user_name", "new_role", "new_team", "new_user_password")

api = session.api()
st.title("Administration")
users_tab, clients_tab = st.tabs(["People", "Clients"])


def _done(message: str) -> None:
    st.toast(message)
    st.rerun()


with users_tab:
    users = api.users()
    st.dataframe(
        pd.DataFrame.from_records(
            [
                {
                    "Name": u["display_name"],
                    "Email": u["email"],
                    "Role": ROLES.get(u["role"], u["role"]),
                    "Team": u["team_name"] or "",
                    "Oversees": ", ".join(u.get("supervised_teams") or []),
                    "Active": "Yes" if u["active"] else "No",
                }
                for u in users
            ],
            columns=["Name", "Email", "Role", "Team", "Oversees", "Active"],
        ).pipe(csv_safe),
        hide_index=True,
        key="users_table",
    )
    left, right = st.columns(2)
    # Kept after a refusal, so one mistyped field is corrected rather than all retyped.
    with left, st.form("new_user", clear_on_submit=False):
        st.markdown("**Add a person**")
        email = st.text_input("Email", key="new_user_email")
        name = st.text_input("Name", key="new_user_name")
        role = st.selectbox("Role", options=list(ROLES), format_func=ROLES.get, key="new_role")
        team = st.text_input("Team", help="A new team name creates the team.", key="new_team")
        password = st.text_input("First password", type="password", key="new_user_password")
        if st.form_submit_button("Add person", type="primary"):
            try:
                api.create_user(
                    email=email, display_name=name, role=role, team=team, password=password
                )
            except ApiError as refused:
                st.error(refused.detail)
            else:
                for typed in NEW_USER_FIELDS:
                    st.session_state.pop(typed, None)
                _done(f"Added {plain(name)}.")
    with right, st.form("change_user"):
        st.markdown("**Change a person**")
        by_id = {u["id"]: u for u in users}
        chosen = st.selectbox(
            "Person",
            options=list(by_id),
            format_func=lambda i: f"{by_id[i]['display_name']} ({by_id[i]['email']})",
            key="change_user_id",
        )
        new_team = st.text_input("Move to team (leave empty to keep)", key="change_user_team")
        active = st.radio(
            "Account", ["Active", "Deactivated"], horizontal=True, key="change_user_active"
        )
        if st.form_submit_button("Save changes"):
            change: dict = {"active": active == "Active"}
            if new_team.strip():
                change["team"] = new_team.strip()
            try:
                api.update_user(chosen, **change)
            except ApiError as refused:
                st.error(refused.detail)
            else:
                _done("Saved.")

    with st.form("password_reset"):
        st.markdown("**One-time password reset**")
        st.caption(
            "For someone who forgot their password: they are signed out everywhere, and "
            "the code (shown once, valid for 24 hours) lets them set a new one."
        )
        resettable = {u["id"]: u for u in users if u["active"]}
        reset_id = st.selectbox(
            "Person",
            options=list(resettable),
            format_func=lambda i: f"{resettable[i]['display_name']} ({resettable[i]['email']})",
            key="reset_user_id",
        )
        if st.form_submit_button("Issue a reset code"):
            try:
                issued = api.issue_password_reset(reset_id)
            except ApiError as refused:
                st.error(refused.detail)
            else:
                st.success(
                    f"Give this code to {plain(resettable[reset_id]['display_name'])} in "
                    "person or by phone. It is shown only now."
                )
                st.code(issued["reset_code"], language=None)

    supervisors = {u["id"]: u for u in users if u["role"] == "supervisor"}
    if supervisors:
        st.markdown("**Teams a supervisor oversees**")
        st.caption("A team taken off the list hides its clients from them at once.")
        known_teams = sorted(
            {u["team_name"] for u in users if u["team_name"]}
            | {t for u in users for t in u.get("supervised_teams") or []}
        )
        supervisor_id = st.selectbox(
            "Supervisor",
            options=list(supervisors),
            format_func=lambda i: supervisors[i]["display_name"],
            key="oversee_user_id",
        )
        with st.form("supervised_teams"):
            overseen = st.multiselect(
                "Oversees",
                options=known_teams,
                default=supervisors[supervisor_id].get("supervised_teams") or [],
                key=f"oversee_teams_{supervisor_id}",
            )
            extra = st.text_input("And a new team (optional)", key="oversee_new_team")
            if st.form_submit_button("Save teams"):
                teams = [*overseen, *([extra.strip()] if extra.strip() else [])]
                try:
                    api.set_supervised_teams(supervisor_id, teams)
                except ApiError as refused:
                    st.error(refused.detail)
                else:
                    _done("Saved.")

with clients_tab:
    therapists = {u["id"]: u for u in users if u["role"] == "therapist" and u["active"]}
    search = st.text_input(
        "Find a client by code", max_chars=20, key="client_search", placeholder="e.g. SRBW"
    )
    clients = api.clients(code=search.strip() or None, limit=CLIENTS_SHOWN + 1)
    if len(clients) > CLIENTS_SHOWN:
        clients = clients[:CLIENTS_SHOWN]
        st.caption(f"The first {CLIENTS_SHOWN} codes in order; type part of a code to find others.")
    if clients:
        st.dataframe(
            pd.DataFrame.from_records(
                [
                    {
                        "Client": c["code"],
                        "Therapist": c["therapist_name"],
                        "Status": c["status"].capitalize(),
                    }
                    for c in clients
                ]
            ).pipe(csv_safe),
            hide_index=True,
            key="clients_table",
        )
    elif search.strip():
        st.info(f"No client code contains {plain(search.strip().upper())}.")
    else:
        st.info("No clients yet. Add one for a therapist below.")
    if not therapists:
        st.warning("Add an active therapist first; every client belongs to one.")
        st.stop()

    def therapist_name(i: int) -> str:
        return therapists[i]["display_name"]

    left, right = st.columns(2)
    with left, st.form("new_client"):
        st.markdown("**Add a client**")
        st.caption("Clients get a random code; Rapport stores no names or contact details.")
        owner = st.selectbox(
            "Therapist", options=list(therapists), format_func=therapist_name, key="new_client_t"
        )
        if st.form_submit_button("Add client", type="primary"):
            try:
                created = api.create_client(owner)
            except ApiError as refused:
                st.error(refused.detail)
            else:
                st.session_state.added_client = {
                    "code": created["code"],
                    "therapist": therapist_name(owner),
                }
                st.rerun()
    added = st.session_state.get("added_client")
    if added:
        with left, st.container(border=True, key="added_client"):
            st.success(f"Added client {added['code']} for {added['therapist']}.")
            st.code(added["code"], language=None)  # with a copy button
            st.caption("Give the therapist this code; it is the only name Rapport keeps.")
    if clients:
        with right:
            st.markdown("**Reassign or discharge**")
            by_code = {c["code"]: c for c in clients}
            code = st.selectbox("Client", options=list(by_code), key="change_code")
            current = by_code[code]
        # Keyed by the client, so the form starts from that client's therapist and status:
        # a form that always started on "Active" reactivated whoever it reassigned.
        with right, st.form(f"change_client_{code}"):
            keep = None if current["therapist_id"] in therapists else current["therapist_id"]
            choices = [*([keep] if keep is not None else []), *therapists]
            to = st.selectbox(
                "Therapist",
                options=choices,
                index=choices.index(current["therapist_id"]),
                format_func=lambda i: (
                    therapist_name(i)
                    if i in therapists
                    else f"{plain(current['therapist_name'])} (current, inactive)"
                ),
                key=f"change_client_t_{code}",
            )
            statuses = ["active", "discharged"]
            status = st.radio(
                "Status",
                statuses,
                index=statuses.index(current["status"]),
                format_func=str.capitalize,
                horizontal=True,
                key=f"change_client_status_{code}",
            )
            if st.form_submit_button("Save changes"):
                change: dict = {}
                if to != current["therapist_id"]:
                    change["therapist_id"] = to
                if status != current["status"]:
                    change["status"] = status
                if not change:
                    st.info("Nothing to save: choose another therapist or status.")
                    st.stop()
                try:
                    api.update_client(code, **change)
                except ApiError as refused:
                    st.error(refused.detail)
                else:
                    _done("Saved.")

    if clients:
        with right, st.form("delete_client"):
            st.markdown("**Delete a client added by mistake**")
            st.caption("Only a client without any session can be deleted; discharge everyone else.")
            doomed = st.selectbox(
                "Client",
                options=[c["code"] for c in clients],
                index=None,
                placeholder="Choose a client",
                key="delete_code",
            )
            sure = st.checkbox("Yes, delete this client", key="delete_sure")
            if st.form_submit_button("Delete client"):
                if doomed is None or not sure:
                    st.error("Choose the client and tick the box to delete.")
                else:
                    try:
                        api.delete_client(doomed)
                    except ApiError as refused:
                        st.error(refused.detail)
                    else:
                        # Unticked again: the next deletion is confirmed for its own client.
                        for confirmation in ("added_client", "delete_code", "delete_sure"):
                            st.session_state.pop(confirmation, None)
                        _done(f"Deleted client {doomed}.")

    st.subheader("A client's data rights")
    st.caption(
        "On the client's request: give them their record, or erase it for good. Erasure "
        "deletes every session, rating, comment, flag and link of the client at once; only "
        "the code, who erased it, when and why are kept, and the code is never reused."
    )
    rights_code = st.selectbox(
        "Client", options=[c["code"] for c in clients], key="rights_code", index=None
    )
    if rights_code:
        client_exports(api, rights_code, key="rights_export")
        with st.form("erase_client", clear_on_submit=True):
            st.markdown(f"**Erase client {rights_code}**")
            reason = st.text_input(
                "Reason", key="erase_reason", help="E.g. the client's request of 1 Dec 2026."
            )
            typed = st.text_input(f"Type {rights_code} to confirm", key="erase_confirm")
            if st.form_submit_button("Erase for good"):
                try:
                    api.erase_client(rights_code, confirm_code=typed, reason=reason)
                except ApiError as refused:
                    st.error(refused.detail)
                else:
                    _done(f"Erased client {rights_code}.")
