"""Administration: accounts, teams and which therapist each client is with. No clinical data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import session
from dashboard.api import ApiError

ROLES = {"therapist": "Therapist", "supervisor": "Supervisor", "admin": "Administrator"}

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
                    "Active": "Yes" if u["active"] else "No",
                }
                for u in users
            ],
            columns=["Name", "Email", "Role", "Team", "Active"],
        ),
        hide_index=True,
        key="users_table",
    )
    left, right = st.columns(2)
    with left, st.form("new_user", clear_on_submit=True):
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
                _done(f"Added {name}.")
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

with clients_tab:
    therapists = {u["id"]: u for u in users if u["role"] == "therapist" and u["active"]}
    clients = api.clients()
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
            ),
            hide_index=True,
            key="clients_table",
        )
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
        with right, st.form("change_client"):
            st.markdown("**Reassign or discharge**")
            code = st.selectbox("Client", options=[c["code"] for c in clients], key="change_code")
            to = st.selectbox(
                "Therapist",
                options=[None, *therapists],
                format_func=lambda i: "Keep current" if i is None else therapist_name(i),
                key="change_client_t",
            )
            status = st.radio(
                "Status",
                ["active", "discharged"],
                format_func=str.capitalize,
                horizontal=True,
                key="change_client_status",
            )
            if st.form_submit_button("Save changes"):
                change: dict = {"status": status}
                if to is not None:
                    change["therapist_id"] = to
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
                        st.session_state.pop("added_client", None)
                        _done(f"Deleted client {doomed}.")
