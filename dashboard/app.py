"""Rapport dashboard: the entrypoint that signs people in and shows the pages their role may use.

Run from the repository root (``make run``) so ``.streamlit/config.toml`` applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class PageFile:
    """A page's script, with the title it has for a role that does not name it otherwise."""

    script: str
    title: str
    icon: str


#: Every page by its own address: ``/caseload``, ``/team`` ... (the weekly emails link them).
PAGE_FILES = {
    "caseload": PageFile("app_pages/caseload.py", "Caseload", ":material/groups:"),
    "client": PageFile("app_pages/client.py", "Client", ":material/person:"),
    "team": PageFile("app_pages/team.py", "Team overview", ":material/insights:"),
    "admin": PageFile("app_pages/admin.py", "Administration", ":material/settings:"),
    "audit": PageFile("app_pages/audit.py", "Audit trail", ":material/policy:"),
    "notifications": PageFile("app_pages/notifications.py", "Notifications", ":material/mail:"),
}
#: The addresses each role may open, with the title it reads there; the home page first.
PAGES_BY_ROLE = {
    "therapist": {"caseload": "My caseload", "client": "Client", "notifications": "Notifications"},
    "supervisor": {
        "team": "Team overview",
        "caseload": "Team caseload",
        "client": "Client",
        "audit": "Audit trail",
        "notifications": "Notifications",
    },
    "admin": {"admin": "Administration", "audit": "Audit trail", "notifications": "Notifications"},
}
#: What the hidden page at the app's root is called inside Streamlit; no link shows it.
ROOT_ALIAS = "home"

SIGN_IN = st.Page(sign_in_page, title="Sign in", icon=":material/login:")


def page_at(address: str, title: str | None = None, **options: Any) -> st.Page:
    file = PAGE_FILES[address]
    return st.Page(
        file.script, title=title or file.title, icon=file.icon, url_path=address, **options
    )


def hidden_addresses(shown: Iterable[str]) -> list[st.Page]:
    """Every other address, hidden: Streamlit answers an address the first run of a page
    load did not pass to ``st.navigation`` with its "Page not found" dialog."""
    return [page_at(a, visibility="hidden") for a in PAGE_FILES if a not in shown]


def role_navigation(role: str | None) -> tuple[list[st.Page], list[st.Page]]:
    """The role's pages at their own addresses, home first, then the addresses it may not
    open.

    Streamlit serves its default page at the root and only there (``/team`` would be
    "Page not found" if the team overview were the default), so the default is a hidden
    copy of the home page at the root, and ``/team`` stays the team overview's address.
    """
    titles = PAGES_BY_ROLE.get(role or "")
    if not titles:
        return [SIGN_IN], []
    (home, home_title), *_ = titles.items()
    mine = [page_at(address, title) for address, title in titles.items()]
    root = st.Page(
        PAGE_FILES[home].script,
        title=home_title,
        icon=PAGE_FILES[home].icon,
        url_path=ROOT_ALIAS,
        default=True,
        visibility="hidden",
    )
    return [*mine, root], hidden_addresses(titles)


if session.is_signed_in():
    mine, not_mine = role_navigation(session.role())
    page = st.navigation([*mine, *not_mine])
    if page in not_mine:  # e.g. a therapist given a supervisor's link: their own home
        st.switch_page(mine[0])
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
    page = st.navigation([SIGN_IN, *hidden_addresses(())], position="hidden")

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
