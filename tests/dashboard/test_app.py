"""The Streamlit dashboard against a real backend: who sees what, and what actions do."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import session
from dashboard.tables import FLAGS_IN_FULL, live_flags
from tests.backend.factories import PASSWORD, alliance4, make_client
from tests.dashboard.conftest import app_as, rate


def texts(at: AppTest) -> str:
    """Everything rendered as text, to search for what a user would read."""
    parts = [e.value for e in (*at.title, *at.markdown, *at.caption, *at.info, *at.success)]
    parts += [str(e.value) for e in (*at.error, *at.warning)]
    return "\n".join(str(p) for p in parts)


def shown_codes(at: AppTest) -> set[str]:
    """Client codes in the caseload table and in the "open a client" picker."""
    table = set(at.dataframe(key="caseload_table").value["Client"])
    picker = set(at.selectbox(key="open_client_code").options)
    assert table == picker
    return table


def is_sign_in(at: AppTest) -> bool:
    """The sign-in form (and the reset-code form beside it), and nothing of a signed-in page."""
    keys = [t.key for t in at.text_input]
    return keys == ["email", "password", "reset_email", "reset_code", "reset_new_password"]


def test_signed_out_shows_only_sign_in(backend, clinic) -> None:
    at = app_as(backend, None)
    assert not at.exception
    assert is_sign_in(at)
    assert at.title[0].value == "Rapport"
    with pytest.raises(ValueError, match=r"Known pages: \['[^,]*sign_in.py'\]"):
        at.switch_page("app_pages/caseload.py")  # only sign-in is registered
    assert clinic.ruptured.code not in texts(at)


def test_a_therapist_signs_in_and_sees_only_their_own_clients(backend, clinic) -> None:
    at = app_as(backend, None)
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == "My caseload"
    assert at.session_state.get("token")
    assert shown_codes(at) == {clinic.ruptured.code, clinic.calm.code}
    first = at.dataframe(key="caseload_table").value.iloc[0]
    assert first["Client"] == clinic.ruptured.code  # urgent first
    assert "Urgent" in first["Attention"]


def test_a_wrong_password_is_a_short_message(backend, clinic) -> None:
    at = app_as(backend, None)
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input("not the password")
    at.button[0].click().run()
    assert not at.exception
    assert is_sign_in(at)
    assert at.error


def test_caseload_filters_narrow_the_table(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.multiselect(key="filter_severity").select("none").run()
    assert not at.exception
    assert set(at.dataframe(key="caseload_table").value["Client"]) == {clinic.calm.code}


def test_the_client_page_shows_the_trajectory_flags_and_comments(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.selectbox(key="open_client_code").select(clinic.ruptured.code)
    at.button(key="open_client").click().run()
    assert not at.exception
    assert at.title[0].value == f"Client {clinic.ruptured.code}"
    assert "What you can do" in texts(at)
    assert "I felt rushed today." in [t.value for t in at.text]
    assert len(at.get("plotly_chart")) == 2  # trajectory and items


def test_acknowledging_a_flag_changes_it_in_the_backend(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.session_state["client_code"] = clinic.ruptured.code
    at.switch_page("app_pages/client.py").run()
    code = clinic.ruptured.code
    flags = backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()
    flag = next(f for f in live_flags(flags) if f["status"] == "open")
    at.selectbox(key=f"action_{flag['id']}").select("consulted_supervisor")
    at.text_area(key=f"note_{flag['id']}").input("Talked it through in supervision.")
    ack = next(
        b for b in at.button if b.label == "Acknowledge" and f"ack_{flag['id']}" in b.form_id
    )
    ack.click().run()
    assert not at.exception
    after = {f["id"]: f for f in backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()}
    assert after[flag["id"]]["status"] == "acknowledged"
    assert after[flag["id"]]["action"] == "consulted_supervisor"
    assert after[flag["id"]]["note"] == "Talked it through in supervision."


def test_a_client_with_many_flags_shows_the_most_severe_in_full_and_lists_the_rest(
    backend, clinic
) -> None:
    """Ten requests to talk are ten urgent flags: each waits for the therapist."""
    client = make_client(backend.database, clinic.therapist)
    for weeks_ago in range(10, 0, -1):
        rate(
            backend, client, alliance4(8.0, 8.2, 8.1, 8.0), weeks_ago=weeks_ago, wants_to_talk=True
        )
    flags = backend.get(f"/api/clients/{client.code}/flags", clinic.therapist).json()
    live = live_flags(flags)
    assert len(live) > FLAGS_IN_FULL
    at = app_as(backend, clinic.therapist)
    at.session_state["client_code"] = client.code
    at.switch_page("app_pages/client.py").run()
    assert not at.exception
    in_full = [b for b in at.button if b.label == "Acknowledge"]
    assert len(in_full) == FLAGS_IN_FULL
    listed = live[FLAGS_IN_FULL:]
    assert len(at.dataframe[0].value) == len(listed)

    at.selectbox(key="action_listed").select("no_action_needed")
    bulk = next(b for b in at.button if b.label.startswith("Acknowledge the"))
    assert bulk.label == f"Acknowledge the {len(listed)} open flags listed"
    bulk.click().run()
    assert not at.exception
    after = {
        f["id"]: f
        for f in backend.get(f"/api/clients/{client.code}/flags", clinic.therapist).json()
    }
    assert {after[f["id"]]["action"] for f in listed} == {"no_action_needed"}
    assert {after[f["id"]]["status"] for f in live[:FLAGS_IN_FULL]} == {"open"}


def test_a_therapist_issues_a_rating_link_with_a_qr_code(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.session_state["client_code"] = clinic.calm.code
    at.switch_page("app_pages/client.py").run()
    submit = next(b for b in at.button if b.label == "Record session and issue link")
    submit.click().run()
    assert not at.exception
    assert "/r/" in at.code[0].value
    assert at.image[0].captions == ["Scan with the client's phone camera"]
    sessions = backend.get(f"/api/clients/{clinic.calm.code}/sessions", clinic.therapist).json()
    assert len(sessions) == 4


def test_a_supervisor_sees_their_team_and_no_other(backend, clinic) -> None:
    at = app_as(backend, clinic.supervisor)
    assert not at.exception
    assert at.title[0].value == "Team overview"
    names = set(at.dataframe[0].value["Therapist"])
    assert names == {clinic.therapist.user.display_name, clinic.colleague.user.display_name}
    assert set(at.selectbox(key="queue_client").options) == {clinic.ruptured.code}
    at.radio(key="heatmap_value").set_value("response_rate").run()
    assert not at.exception
    at.selectbox(key="team_trend_therapist").set_value(clinic.therapist.user.display_name).run()
    assert not at.exception
    at.switch_page("app_pages/caseload.py").run()
    assert not at.exception
    ours = {clinic.ruptured.code, clinic.calm.code, clinic.colleagues_client.code}
    assert shown_codes(at) == ours


def test_a_supervisor_opens_a_queued_client_read_only(backend, clinic) -> None:
    at = app_as(backend, clinic.supervisor)
    at.button(key="open_queue_client").click().run()
    assert not at.exception
    assert at.title[0].value == f"Client {clinic.ruptured.code}"
    assert "Read-only" in texts(at)
    assert not [b for b in at.button if b.label in ("Acknowledge", "Mark resolved")]


def test_an_admin_sees_administration_only_and_adds_a_client(backend, clinic) -> None:
    at = app_as(backend, clinic.admin)
    assert not at.exception
    assert at.title[0].value == "Administration"
    before = len(at.dataframe[1].value)
    next(b for b in at.button if b.label == "Add client").click().run()
    assert not at.exception
    assert len(at.dataframe[1].value) == before + 1
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/caseload.py")  # not in an admin's navigation


def test_a_revoked_token_returns_to_sign_in_with_a_message(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    assert at.title[0].value == "My caseload"
    assert backend.post("/api/auth/logout", {}, clinic.therapist).status_code == 204
    at.run()
    assert not at.exception
    assert is_sign_in(at)
    assert session.EXPIRED_NOTICE in [i.value for i in at.info]
    assert not at.session_state["token"]


def test_thirty_idle_minutes_return_to_sign_in(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.session_state["last_active"] = time.time() - session.IDLE_LIMIT_SECONDS - 1
    at.run()
    assert is_sign_in(at)
    assert session.IDLE_NOTICE in [i.value for i in at.info]


def test_signing_out_forgets_the_token(backend, clinic) -> None:
    at = app_as(backend, clinic.therapist)
    at.button(key="sign_out").click().run()
    assert is_sign_in(at)
    assert not at.session_state["token"]
    assert backend.get("/api/me", clinic.therapist).status_code == 401


def test_an_empty_caseload_says_what_to_do(backend) -> None:
    from tests.backend.factories import signed_in

    at = app_as(backend, signed_in(backend.database))
    assert not at.exception
    assert "No clients here yet" in texts(at)


def test_a_sign_in_through_the_dashboard_is_audited_at_the_browsers_address(
    backend, clinic, monkeypatch
) -> None:
    from sqlmodel import select

    from backend.audit.models import AuditEvent
    from dashboard import browser

    monkeypatch.setattr(browser, "connection_address", lambda: "198.51.100.23")
    at = app_as(backend, None)
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input("not the password")
    at.button[0].click().run()
    assert at.error
    with backend.database.reading() as session:
        attempt = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sign_in").order_by(AuditEvent.id)
        ).all()[-1]
    assert (attempt.outcome, attempt.address) == ("failed", "198.51.100.23")


def test_an_admin_takes_a_team_off_a_supervisors_list(backend, clinic) -> None:
    at = app_as(backend, clinic.admin)
    at.multiselect(key=f"oversee_teams_{clinic.supervisor.id}").unselect("North")
    next(b for b in at.button if b.label == "Save teams").click().run()
    assert not at.exception
    path = f"/api/clients/{clinic.ruptured.code}"
    assert backend.get(path, clinic.supervisor).status_code == 404


def test_signing_out_while_the_api_is_unreachable_says_so_and_retries(
    backend, clinic, monkeypatch
) -> None:
    from tests.dashboard.conftest import free_port

    monkeypatch.setattr(session, "SIGN_OUT_PAUSE_SECONDS", 0)
    at = app_as(backend, clinic.therapist)
    monkeypatch.setenv("RAPPORT_API_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    at.button(key="sign_out").click().run()
    assert is_sign_in(at)
    assert [w.value for w in at.warning] == [session.NOT_SIGNED_OUT]
    assert backend.get("/api/me", clinic.therapist).status_code == 200  # still valid there

    monkeypatch.setenv("RAPPORT_API_URL", backend.url)  # the API is back
    at.run()
    assert backend.get("/api/me", clinic.therapist).status_code == 401
    assert not at.session_state["unrevoked_token"]
    assert not at.warning


def test_an_admin_issues_a_reset_code_and_the_person_sets_a_new_password_with_it(
    backend, clinic
) -> None:
    admin = app_as(backend, clinic.admin)
    admin.selectbox(key="reset_user_id").select(clinic.therapist.id)
    next(b for b in admin.button if b.label == "Issue a reset code").click().run()
    assert not admin.exception
    code = admin.code[0].value
    assert backend.get("/api/me", clinic.therapist).status_code == 401  # signed out everywhere

    at = app_as(backend, None)
    at.text_input(key="reset_email").input(clinic.therapist.user.email)
    at.text_input(key="reset_code").input(code)
    at.text_input(key="reset_new_password").input("plum anvil sorrow seven")
    next(b for b in at.button if b.label == "Set new password").click().run()
    assert not at.error, [e.value for e in at.error]
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input("plum anvil sorrow seven")
    at.button[0].click().run()
    assert at.title[0].value == "My caseload"

    at.sidebar.text_input(key="pw_current").input("plum anvil sorrow seven")
    at.sidebar.text_input(key="pw_new").input("harbour lantern quietly 9")
    next(b for b in at.sidebar.button if b.label == "Change password").click().run()
    assert [s.value for s in at.sidebar.success] == [
        "Password changed. Your other sessions have been signed out."
    ]
