"""Rapport dashboard: the entrypoint that signs people in and shows the pages their role may use.

Run from the repository root (``make run``) so ``.streamlit/config.toml`` applies.
"""

from __future__ import annotations

import streamlit as st

from dashboard import session
from dashboard.api import ApiError, SessionExpired
from dashboard.safe_text import plain

st.set_page_config(page_title="Rapport", page_icon="🤝", layout="wide")
session.init_state()
session.check_idle()
session.remember_linked_client(st.query_params)
session.retry_sign_out()

SIGN_IN = st.Page("app_pages/sign_in.py", title="Sign in", icon=":material/login:")
CASELOAD = st.Page(
    "app_pages/caseload.py", title="My caseload", icon=":material/groups:", url_path="caseload"
)
TEAM_CASELOAD = st.Page(
    "app_pages/caseload.py", title="Team caseload", icon=":material/groups:", url_path="caseload"
)
CLIENT = st.Page("app_pages/client.py", title="Client", icon=":material/person:", url_path="client")
TEAM = st.Page(
    "app_pages/team.py", title="Team overview", icon=":material/insights:", url_path="team"
)
ADMIN = st.Page(
    "app_pages/admin.py", title="Administration", icon=":material/settings:", url_path="admin"
)
NOTIFICATIONS = st.Page(
    "app_pages/notifications.py",
    title="Notifications",
    icon=":material/mail:",
    url_path="notifications",
)

PAGES_BY_ROLE = {
    "therapist": [CASELOAD, CLIENT, NOTIFICATIONS],
    "supervisor": [TEAM, TEAM_CASELOAD, CLIENT, NOTIFICATIONS],
    "admin": [ADMIN, NOTIFICATIONS],
}

if session.is_signed_in():
    pages = PAGES_BY_ROLE.get(session.role() or "", [SIGN_IN])
    page = st.navigation(pages)
    linked = st.session_state.pop("linked_client", None)
    if linked and CLIENT in pages:  # a notification's link, followed before or after sign-in
        session.open_client(linked)
    with st.sidebar:
        user = session.user()
        name, role = plain(user.get("display_name", "")), plain(user.get("role", ""))
        st.caption(f"Signed in as **{name}** ({role})")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            session.end("You are signed out.")
            st.rerun()
        with st.expander("Change password"), st.form("change_password", border=False):
            current = st.text_input("Current password", type="password", key="pw_current")
            new = st.text_input(
                "New password",
                type="password",
                key="pw_new",
                help="At least 12 characters; a phrase of your own words is best.",
            )
            if st.form_submit_button("Change password"):
                try:
                    session.api().change_password(current, new)
                except SessionExpired:
                    session.end(session.EXPIRED_NOTICE)
                    st.rerun()
                except ApiError as refused:
                    st.error(refused.detail)
                else:
                    st.success("Password changed. Your other sessions have been signed out.")
else:
    page = st.navigation([SIGN_IN], position="hidden")

try:
    page.run()
except SessionExpired:
    session.end(session.EXPIRED_NOTICE)
    st.rerun()
except ApiError as refused:
    st.error(refused.detail)
