"""Rapport dashboard entrypoint (sign-in; the full dashboard grows from here)."""

from __future__ import annotations

import os

import httpx
import streamlit as st

API_URL = os.environ.get("RAPPORT_API_URL", "http://127.0.0.1:8000")

st.set_page_config(page_title="Rapport", page_icon="🤝", layout="wide")

if "token" not in st.session_state:
    st.title("Rapport")
    with st.form("sign-in"):
        email = st.text_input("Email")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            response = httpx.post(
                f"{API_URL}/api/auth/login", json={"email": email, "password": password}, timeout=10
            )
        except httpx.HTTPError:
            st.error("The Rapport service cannot be reached. Please try again shortly.")
        else:
            if response.status_code == 200:
                st.session_state.token = response.json()["access_token"]
                st.session_state.user = response.json()["user"]
                st.rerun()
            else:
                st.error(response.json().get("detail", "Sign-in failed."))
else:
    st.title(f"Signed in as {st.session_state.user['display_name']}")
    if st.button("Sign out"):
        httpx.post(
            f"{API_URL}/api/auth/logout",
            headers={"Authorization": f"Bearer {st.session_state.token}"},
            timeout=10,
        )
        st.session_state.clear()
        st.rerun()
