"""Sign-in: email and password against the API; the token lives only in session state."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import api, session

st.title("Rapport")
st.caption(
    "See when the working relationship with a client starts to strain, early enough to repair it."
)

if st.session_state.get("notice"):
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
            signed = api.login(email.strip(), password)
        except api.ApiError as refused:
            st.error(refused.detail)
        else:
            session.start(signed)
            st.rerun()

# While the user types, have the browser load and start the table and chart code that the
# landing pages draw with (Streamlit loads each component's code the first time a page
# shows one). Hidden, and holding no data: in headless Chromium it takes 0.3-0.5 s off
# the caseload and team pages after sign-in (python -m bench dashboard_bench).
st.html("<style>.st-key-landing_components { display: none; }</style>")
with st.container(key="landing_components"):
    st.dataframe(pd.DataFrame({"": [""]}), hide_index=True)
    st.vega_lite_chart({"data": {"values": [{"x": 0}]}, "mark": "line", "encoding": {}})
