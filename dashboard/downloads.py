"""Download buttons for what the API exports. Each file is fetched only when clicked
(a PDF takes a second to typeset), with the signed-in user's token."""

from __future__ import annotations

import streamlit as st

from dashboard.api import RapportAPI


def client_exports(api: RapportAPI, code: str, *, key: str) -> None:
    """The client's printable report (comments optional) and FHIR record."""
    with st.popover("Export", icon=":material/download:"):
        comments = st.checkbox("Include the client's comments", key=f"{key}_comments")
        st.download_button(
            "Report (PDF)",
            data=lambda: api.report_pdf(code, comments=comments),
            file_name=f"rapport-{code}.pdf",
            mime="application/pdf",
            on_click="ignore",
            key=f"{key}_pdf",
        )
        st.download_button(
            "Record for the EHR (FHIR JSON)",
            data=lambda: api.fhir_bundle(code),
            file_name=f"rapport-{code}.fhir.json",
            mime="application/fhir+json",
            on_click="ignore",
            key=f"{key}_fhir",
        )


def caseload_csv(api: RapportAPI) -> None:
    """Every rating of the caseload, one row each, for a clinic's own quality review."""
    st.download_button(
        "Ratings (CSV)",
        data=api.caseload_csv,
        file_name="rapport-caseload.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
        key="caseload_csv",
    )
