"""Rapport dashboard: the entrypoint that signs people in and shows the pages their role may use.

Run from the repository root (``make run``) so ``.streamlit/config.toml`` applies.
"""

from __future__ import annotations

import streamlit as st

from dashboard import session
from dashboard.api import ApiError, SessionExpired
from dashboard.safe_text import plain
from dashboard.sign_in import sign_in_page

st.set_page_config(page_title="Rapport", page_icon="🤝", layout="wide")
# Streamlit draws some captions at 60% opacity: 2.7:1 to 3.88:1 on white, under WCAG AA's
# 4.5:1. Opaque at 80% of the text colour they read about 7:1, still lighter than text.
st.html(
    "<style>[data-testid=stCaptionContainer], [data-testid=stCaptionContainer] p "
    "{ color: rgba(49, 51, 63, 0.8) !important; opacity: 1 !important; }</style>"
)
session.init_state()
session.resume_from_cookie()
session.check_idle()
session.retry_sign_out()

SIGN_IN = st.Page(sign_in_page, title="Sign in", icon=":material/login:")
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
AUDIT = st.Page(
    "app_pages/audit.py", title="Audit trail", icon=":material/policy:", url_path="audit"
)

PAGES_BY_ROLE = {
    "therapist": [CASELOAD, CLIENT, NOTIFICATIONS],
    "supervisor": [TEAM, TEAM_CASELOAD, CLIENT, AUDIT, NOTIFICATIONS],
    "admin": [ADMIN, AUDIT, NOTIFICATIONS],
}

if session.is_signed_in():
    pages = PAGES_BY_ROLE.get(session.role() or "", [SIGN_IN])
    page = st.navigation(pages)
    with st.sidebar:
        session.load_chart_code_after_refresh()
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
        session.hand_over_to_browser()
else:
    # Every address stays valid while signed out: /client?client=CODE shows the sign-in
    # form and, once signed in, that client (not "Page not found").
    page = st.navigation(
        [SIGN_IN, CASELOAD, CLIENT, TEAM, ADMIN, AUDIT, NOTIFICATIONS], position="hidden"
    )

try:
    if session.is_signed_in():
        page.run()
    else:
        sign_in_page()
except SessionExpired:
    session.end(session.EXPIRED_NOTICE)
    st.rerun()
except ApiError as refused:
    st.error(refused.detail)
