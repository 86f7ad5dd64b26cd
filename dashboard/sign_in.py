"""Sign-in: email and password against the API; the token lives only in session state."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import api, session
from dashboard.browser import browser_address


@st.fragment(run_every=timedelta(seconds=1))
def load_landing_components() -> None:
    """While the user types, have the browser load the code of the table, chart and
    widgets the landing pages use (Streamlit loads a component's code the first time a
    page shows one).

    Not in the page's first run: the sign-in form shows only once that run's elements are
    drawn, so loading the code then delayed the form by 0.7 s. The first timed rerun adds
    a hidden one-cell table, an empty chart and one each of the landing pages' other
    widget kinds, holding no data; later ones repeat them.
    """
    if not st.session_state.get("landing_components_due"):
        st.session_state.landing_components_due = True
        return
    st.html("<style>.st-key-landing_components { display: none; }</style>")
    with st.container(key="landing_components"):
        st.dataframe(pd.DataFrame({"": [""]}), hide_index=True)
        st.vega_lite_chart({"data": {"values": [{"x": 0}]}, "mark": "line", "encoding": {}})
        hidden = {"label_visibility": "collapsed"}
        st.select_slider("Slider", options=[1, 2], key="landing_slider", **hidden)
        st.selectbox("Choice", options=[1], key="landing_choice", **hidden)
        st.radio("Option", options=[1], key="landing_option", **hidden)


def password_reset_form() -> None:
    """A one-time code from an administrator sets a new password."""
    with st.expander("Have a reset code from your administrator?"), st.form("reset_password"):
        reset_email = st.text_input("Email", key="reset_email")
        reset_code = st.text_input("Reset code", key="reset_code")
        reset_new = st.text_input(
            "New password",
            type="password",
            key="reset_new_password",
            help="At least 12 characters; a phrase of your own words is best.",
        )
        if st.form_submit_button("Set new password"):
            try:
                api.redeem_password_reset(reset_email.strip(), reset_code.strip(), reset_new)
            except api.ApiError as refused:
                st.error(refused.detail)
            else:
                st.success("Your new password is set. Sign in with it above.")


def sign_in_page() -> None:
    """The sign-in form; shown at whatever address the browser asked for, which opens
    once the user is signed in."""
    st.title("Rapport")
    # Plain text, not a caption: the caption's grey failed WCAG AA contrast (3.88:1).
    st.markdown(
        "See when the working relationship with a client starts to strain, early enough to "
        "repair it."
    )

    if st.session_state.get("notice") == session.NOT_SIGNED_OUT:
        st.warning(session.NOT_SIGNED_OUT)
    elif st.session_state.get("notice"):
        st.info(st.session_state.notice)

    with st.form("sign_in"):
        email = st.text_input("Email", key="email")
        password = st.text_input("Password", type="password", key="password")
        submitted = st.form_submit_button("Sign in", type="primary")

    if submitted:
        if not email or not password:
            st.error("Enter your email and password.")
        else:
            try:
                signed = api.login(email.strip(), password, browser_address=browser_address())
            except api.ApiError as refused:
                st.error(refused.detail)
            else:
                session.start(signed)
                st.rerun()
    password_reset_form()
    load_landing_components()
