"""The Streamlit dashboard against a real backend: who sees what, and what actions do."""

from __future__ import annotations

import time
from datetime import date

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from backend.clock import today
from dashboard import session
from dashboard.tables import FLAGS_IN_FULL, live_flags
from tests.backend.factories import PASSWORD, alliance4, make_client
from tests.dashboard.conftest import APP, APP_TIMEOUT_SECONDS, app_as, rate


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


def open_client_page(at: AppTest, code: str) -> AppTest:
    """As a pasted ``/client?client=CODE`` link does."""
    at.query_params[session.CLIENT_PARAM] = code
    return at.switch_page("app_pages/client.py").run()


def test_signed_out_every_address_shows_sign_in_and_no_data(backend, clinic) -> None:
    at = app_as(backend, None)
    assert not at.exception
    assert is_sign_in(at)
    assert at.title[0].value == "Rapport"
    open_client_page(at, clinic.ruptured.code)
    assert not at.exception
    assert is_sign_in(at)
    assert clinic.ruptured.code not in texts(at)


def test_a_pasted_client_link_opens_that_client_after_sign_in(backend, clinic) -> None:
    at = open_client_page(app_as(backend, None), clinic.ruptured.code)
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.title[0].value == f"Client {clinic.ruptured.code}"


def test_another_therapists_client_reads_like_an_unknown_code(backend, clinic) -> None:
    theirs = open_client_page(app_as(backend, clinic.therapist), clinic.outsiders_client.code)
    unknown = open_client_page(app_as(backend, clinic.therapist), "ZZZZ-ZZZZ")
    for at, code in ((theirs, clinic.outsiders_client.code), (unknown, "ZZZZ-ZZZZ")):
        assert not at.exception
        assert [e.value for e in at.error] == [
            f"No client {code} was found on your caseload. Check the code in the link."
        ]
        assert "I felt rushed today." not in [t.value for t in at.text]


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


def test_signing_in_hands_the_sign_in_to_the_browser_without_deprecated_streamlit(
    backend, clinic, monkeypatch
) -> None:
    """The hidden form that trades the one-time ticket for the HttpOnly cookie is drawn
    with no call Streamlit warns about (``components.v1.html`` logged one each sign-in)."""
    from streamlit import deprecation_util

    warned: list[str] = []
    monkeypatch.setattr(
        deprecation_util, "show_deprecation_warning", lambda message, **_: warned.append(message)
    )
    at = app_as(backend, None)
    at.text_input(key="email").input(clinic.therapist.user.email)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    (hand_over,) = at.sidebar.get("iframe")
    assert f"{backend.url}/api/auth/browser-session" in hand_over.proto.srcdoc
    assert at.session_state["browser_ticket"] in hand_over.proto.srcdoc
    assert warned == []


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
    at.selectbox(key="open_client_code").select(clinic.calm.code).run()
    # "Open client page" is a link to the chosen client's address
    (link,) = at.get("page_link")
    assert (link.proto.page, link.proto.query_string) == ("client", f"client={clinic.calm.code}")
    at.selectbox(key="open_client_code").select(clinic.ruptured.code).run()
    (link,) = at.get("page_link")
    assert link.proto.query_string == f"client={clinic.ruptured.code}"
    at = open_client_page(at, clinic.ruptured.code)  # as following the link does
    assert not at.exception
    assert at.title[0].value == f"Client {clinic.ruptured.code}"
    assert at.query_params[session.CLIENT_PARAM] == clinic.ruptured.code
    assert "What you can do" in texts(at)
    assert "I felt rushed today." in [t.value for t in at.text]
    assert len(at.get("vega_lite_chart")) == 2  # trajectory and items


def in_page_order(at: AppTest) -> list[str]:
    """The page's titles, headers and charts, top to bottom."""

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    named = {"title": "title", "header": "header", "vega_lite_chart": "chart"}
    return [
        node.value if node.type == "header" else named[node.type]
        for node in walk(at.main)
        if node.type in named
    ]


def test_the_client_page_reads_header_words_flags_chart_then_history(backend, clinic) -> None:
    at = open_client_page(app_as(backend, clinic.therapist), clinic.ruptured.code)
    assert in_page_order(at) == [
        "title",
        "What the client said",
        "Flags",
        "How the alliance moved",
        "chart",  # the total per session
        "chart",  # each dimension
    ]
    # The urgent request to talk quotes what the client wrote that session.
    assert "“I felt rushed today.”" in [t.value for t in at.text]


def _first_open_flag(backend, who, code: str) -> dict:
    flags = backend.get(f"/api/clients/{code}/flags", who).json()
    return next(f for f in live_flags(flags) if f["status"] == "open")


def _record_button(at: AppTest, flag_id: int):
    return next(
        b for b in at.button if b.label == "Record what you did" and f"ack_{flag_id}" in b.form_id
    )


def test_acknowledging_a_flag_changes_it_in_the_backend(backend, clinic) -> None:
    code = clinic.ruptured.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    flag = _first_open_flag(backend, clinic.therapist, code)
    at.selectbox(key=f"action_{flag['id']}").select("consulted_supervisor")
    at.text_area(key=f"note_{flag['id']}").input("Talked it through in supervision.")
    _record_button(at, flag["id"]).click().run()
    assert not at.exception
    after = {f["id"]: f for f in backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()}
    assert after[flag["id"]]["status"] == "acknowledged"
    assert after[flag["id"]]["action"] == "consulted_supervisor"
    assert after[flag["id"]]["note"] == "Talked it through in supervision."


def test_no_action_is_preselected_and_none_is_recorded_without_choosing(backend, clinic) -> None:
    code = clinic.ruptured.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    flag = _first_open_flag(backend, clinic.therapist, code)
    assert at.selectbox(key=f"action_{flag['id']}").value is None
    at.text_area(key=f"note_{flag['id']}").input("Will open next session with it.")
    _record_button(at, flag["id"]).click().run()
    assert not at.exception
    assert "Choose what you did." in [e.value for e in at.error]
    assert _first_open_flag(backend, clinic.therapist, code)["id"] == flag["id"]  # still open


def test_other_without_a_note_is_not_recorded(backend, clinic) -> None:
    code = clinic.ruptured.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    flag = _first_open_flag(backend, clinic.therapist, code)
    at.selectbox(key=f"action_{flag['id']}").select("other")
    _record_button(at, flag["id"]).click().run()
    assert "Say in the note what you did." in [e.value for e in at.error]
    assert _first_open_flag(backend, clinic.therapist, code)["id"] == flag["id"]


def test_a_planned_action_is_recorded_as_planned_and_later_as_done(backend, clinic) -> None:
    code = clinic.ruptured.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    flag = _first_open_flag(backend, clinic.therapist, code)
    at.selectbox(key=f"action_{flag['id']}").select("planned_next_session")
    at.text_area(key=f"note_{flag['id']}").input("Will open next session with it.")
    _record_button(at, flag["id"]).click().run()

    def stored() -> dict:
        flags = backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()
        return next(f for f in flags if f["id"] == flag["id"])

    assert stored()["action"] == "planned_next_session"
    assert "You noted: Will raise it next session (planned)" in texts(at)
    done = f"done_{flag['id']}"
    assert "planned_next_session" not in at.selectbox(key=f"action_{done}").options
    at.selectbox(key=f"action_{done}").select("raised_in_session")
    at.text_area(key=f"note_{done}").input("Opened with it; we agreed to slow down.")
    next(b for b in at.button if b.label == "Record what happened").click().run()
    assert not at.exception
    assert (stored()["action"], stored()["note"], stored()["plan_note"]) == (
        "raised_in_session",
        "Opened with it; we agreed to slow down.",
        "Will open next session with it.",
    )
    assert "You planned: Will raise it next session (planned)" in texts(at)
    assert "You noted: Raised it in session" in texts(at)


def test_a_request_to_talk_is_resolved_only_after_recording_what_was_done(backend, clinic) -> None:
    code = clinic.ruptured.code
    flags = backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()
    request = next(f for f in flags if f["rule"] == "client_wants_to_talk")
    at = open_client_page(app_as(backend, clinic.therapist), code)
    assert not [b for b in at.button if b.key == f"resolve_{request['id']}"]
    assert "A request to talk stays open until you record what you did" in texts(at)

    at.selectbox(key=f"action_{request['id']}").select("raised_in_session")
    _record_button(at, request["id"]).click().run()
    at.button(key=f"resolve_{request['id']}").click().run()
    assert not at.exception
    after = {f["id"]: f for f in backend.get(f"/api/clients/{code}/flags", clinic.therapist).json()}
    assert (after[request["id"]]["status"], after[request["id"]]["action"]) == (
        "resolved",
        "raised_in_session",
    )


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
    at = open_client_page(app_as(backend, clinic.therapist), client.code)
    assert not at.exception
    in_full = [b for b in at.button if b.label == "Record what you did"]
    assert len(in_full) == FLAGS_IN_FULL
    listed = live[FLAGS_IN_FULL:]
    assert len(at.dataframe[0].value) == len(listed)

    at.selectbox(key="action_listed").select("no_action_needed")
    bulk = next(b for b in at.button if b.label.startswith("Record what you did for the"))
    assert bulk.label == f"Record what you did for the {len(listed)} open flags"
    bulk.click().run()
    assert not at.exception
    after = {
        f["id"]: f
        for f in backend.get(f"/api/clients/{client.code}/flags", clinic.therapist).json()
    }
    assert {after[f["id"]]["action"] for f in listed} == {"no_action_needed"}
    assert {after[f["id"]]["status"] for f in live[:FLAGS_IN_FULL]} == {"open"}


def _record_session(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Record session and issue link").click().run()


def _sessions(backend, clinic, code: str) -> list[dict]:
    return backend.get(f"/api/clients/{code}/sessions", clinic.therapist).json()


def test_a_therapist_records_todays_session_and_gets_a_link_with_a_qr_code(backend, clinic) -> None:
    at = open_client_page(app_as(backend, clinic.therapist), clinic.calm.code)
    assert at.date_input(key="link_date").value == date.today()
    _record_session(at)
    assert not at.exception
    assert "/r/" in at.code[0].value
    assert at.image[0].captions == ["Scan with the client's phone camera"]
    labels = [button.label for button in at.get("download_button")]
    assert "Print-friendly card" in labels
    sessions = _sessions(backend, clinic, clinic.calm.code)
    assert (len(sessions), sessions[-1]["held_on"]) == (4, date.today().isoformat())


def test_a_second_session_on_the_same_date_asks_first(backend, clinic) -> None:
    code = clinic.calm.code
    held = _sessions(backend, clinic, code)[-1]["held_on"]
    at = open_client_page(app_as(backend, clinic.therapist), code)
    at.date_input(key="link_date").set_value(date.fromisoformat(held))
    _record_session(at)
    assert not at.exception
    assert "already recorded" in " ".join(w.value for w in at.warning)
    assert len(_sessions(backend, clinic, code)) == 3  # nothing recorded yet
    at.button(key="cancel_second_session").click().run()
    assert not at.warning and len(_sessions(backend, clinic, code)) == 3
    _record_session(at)
    at.button(key="confirm_second_session").click().run()
    assert not at.exception
    assert [s["held_on"] for s in _sessions(backend, clinic, code)].count(held) == 2


def test_the_link_language_defaults_to_the_clients_last_link(backend, clinic) -> None:
    code = clinic.calm.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    assert at.selectbox(key="link_language").value == "en"
    at.selectbox(key="link_language").select("es")
    _record_session(at)
    again = open_client_page(app_as(backend, clinic.therapist), code)
    assert again.selectbox(key="link_language").value == "es"


def test_a_private_label_shows_on_the_caseload_and_never_on_the_phone(backend, clinic) -> None:
    code = clinic.calm.code
    at = open_client_page(app_as(backend, clinic.therapist), code)
    at.text_input(key="label_text").input("MB Thursdays")
    next(b for b in at.button if b.label == "Save label").click().run()
    assert not at.exception
    assert "Your label: MB Thursdays" in [t.value for t in at.text]
    del at.query_params[session.CLIENT_PARAM]  # as the sidebar's link to the caseload
    caseload = at.switch_page("app_pages/caseload.py").run()
    caseload.text_input(key="caseload_search").input("thurs").run()
    assert set(caseload.dataframe(key="caseload_table").value["Client"]) == {code}
    link = next(b for b in backend_link(backend, clinic, code))
    for path in (f"/r/{link}", f"/api/public/ratings/{link}"):
        assert "MB Thursdays" not in httpx.get(f"{backend.url}{path}").text


def backend_link(backend, clinic, code: str) -> list[str]:
    """A fresh rating link's token for the client, issued through the API."""
    issued = backend.post(
        f"/api/clients/{code}/sessions", {"held_on": today().isoformat()}, clinic.therapist
    ).json()
    return [issued["url"].rsplit("/", 1)[-1]]


def test_a_supervisor_sees_their_team_and_no_other(backend, clinic) -> None:
    at = app_as(backend, clinic.supervisor)
    assert not at.exception
    assert at.title[0].value == "Team overview"
    names = set(at.dataframe[0].value["Therapist"])
    assert names == {clinic.therapist.user.display_name, clinic.colleague.user.display_name}
    assert set(at.selectbox(key="queue_client").options) == {clinic.ruptured.code}
    headings = [h.value for h in at.subheader]
    assert headings.index("Requests to talk, waiting") < headings.index("Ruptures not repaired")
    assert list(at.dataframe[1].value["Client"]) == [clinic.ruptured.code]
    assert list(at.table[0].value["Client"]) == [clinic.ruptured.code]
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
    assert not [b for b in at.button if b.label in ("Record what you did", "Mark resolved")]


def test_an_admin_sees_administration_only_and_adds_a_client(backend, clinic) -> None:
    at = app_as(backend, clinic.admin)
    assert not at.exception
    assert at.title[0].value == "Administration"
    before = len(at.dataframe[1].value)
    next(b for b in at.button if b.label == "Add client").click().run()
    assert not at.exception
    assert len(at.dataframe[1].value) == before + 1
    code = at.code[0].value
    assert f"Added client {code}" in at.success[0].value
    at.selectbox(key="delete_code").select(code)
    at.checkbox(key="delete_sure").check()
    next(b for b in at.button if b.label == "Delete client").click().run()
    assert not at.exception
    assert code not in set(at.dataframe[1].value["Client"])


@pytest.mark.parametrize(
    ("role", "not_theirs", "home"),
    [
        ("admin", "app_pages/caseload.py", "Administration"),
        ("admin", "app_pages/client.py", "Administration"),
        ("therapist", "app_pages/team.py", "My caseload"),
        ("therapist", "app_pages/audit.py", "My caseload"),
        ("supervisor", "app_pages/admin.py", "Team overview"),
    ],
)
def test_a_page_the_role_may_not_open_gives_its_home_page(
    backend, clinic, role, not_theirs, home
) -> None:
    at = app_as(backend, getattr(clinic, role)).switch_page(not_theirs).run()
    assert not at.exception
    assert at.title[0].value == home


def test_an_admin_finds_a_client_by_part_of_its_code(backend, clinic) -> None:
    at = app_as(backend, clinic.admin)
    codes = list(at.dataframe[1].value["Client"])
    wanted = codes[-1]
    at.text_input(key="client_search").input(wanted[-4:].lower()).run()
    assert not at.exception
    assert wanted in set(at.dataframe[1].value["Client"])
    at.text_input(key="client_search").input("QQQQQQQQ").run()
    assert not at.exception
    assert "No client code contains QQQQQQQQ." in [i.value for i in at.info]


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


def test_after_a_refresh_the_chart_code_loads_before_the_page_once(backend, clinic) -> None:
    """A sign-in taken up from the browser's cookie (a refresh) draws one hidden, empty
    chart in the sidebar before the page, so the browser loads the chart code early."""
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_SECONDS)
    at.session_state["token"] = clinic.therapist.headers["Authorization"].removeprefix("Bearer ")
    at.session_state["user"] = backend.get("/api/me", clinic.therapist).json()
    at.session_state["last_active"] = time.time()
    at.session_state["chart_code_due"] = True  # as session.resume_from_cookie leaves it
    at.run()
    assert not at.exception
    assert len(at.sidebar.get("vega_lite_chart")) == 1
    assert not at.main.get("vega_lite_chart")  # the caseload draws none of its own
    at.run()
    assert not at.sidebar.get("vega_lite_chart")  # the first run only
    signed_in_here = app_as(backend, clinic.therapist)  # no refresh: nothing extra
    assert not signed_in_here.sidebar.get("vega_lite_chart")


def test_reassigning_a_discharged_client_keeps_them_discharged(backend, clinic) -> None:
    code = clinic.calm.code
    backend_patch = httpx.patch(
        f"{backend.url}/api/clients/{code}",
        json={"status": "discharged"},
        headers=clinic.therapist.headers,
        timeout=10,
    )
    assert backend_patch.status_code == 200
    at = app_as(backend, clinic.admin)
    at.selectbox(key="change_code").select(code).run()
    assert at.radio(key=f"change_client_status_{code}").value == "discharged"
    therapist = at.selectbox(key=f"change_client_t_{code}")
    assert therapist.value == clinic.therapist.id
    therapist.select(clinic.colleague.id)
    save = next(b for b in at.button if b.form_id == f"change_client_{code}")
    save.click().run()
    assert not at.exception
    record = backend.get(f"/api/clients/{code}", clinic.admin).json()
    assert (record["therapist_id"], record["status"]) == (clinic.colleague.id, "discharged")


def test_the_session_date_runs_from_the_latest_session_to_today(backend, clinic) -> None:
    code = clinic.calm.code
    latest_held = date.fromisoformat(_sessions(backend, clinic, code)[-1]["held_on"])
    at = open_client_page(app_as(backend, clinic.therapist), code)
    picker = at.date_input(key="link_date")
    assert (picker.min, picker.value, picker.max) == (latest_held, today(), today())


def _add_person(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Add person").click().run()


def test_a_mistyped_person_is_refused_readably_and_the_form_keeps_what_was_typed(
    backend, clinic
) -> None:
    at = app_as(backend, clinic.admin)
    at.text_input(key="new_user_email").input("not-an-address")
    at.text_input(key="new_user_name").input("Dr Ada Example")
    at.text_input(key="new_user_password").input("a long enough first password")
    _add_person(at)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Enter a valid email address, such as name@clinic.example. Choose a team."
    ]
    assert at.text_input(key="new_user_name").value == "Dr Ada Example"
    assert at.text_input(key="new_user_email").value == "not-an-address"
    at.text_input(key="new_user_email").input("ada@clinic.example")
    at.text_input(key="new_team").input("North")
    _add_person(at)
    assert not at.exception
    assert "ada@clinic.example" in set(at.dataframe[0].value["Email"])
    assert at.text_input(key="new_user_email").value == ""


def test_an_audit_search_for_a_malformed_code_says_what_codes_look_like(backend, clinic) -> None:
    at = app_as(backend, clinic.admin)
    at = at.switch_page("app_pages/audit.py").run()
    at.text_input(key="audit_client").input("GAZ6$74VS")
    next(b for b in at.button if b.label == "Filter").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Client codes look like ABCD-EF12."]


def test_after_a_deletion_the_confirmation_is_unticked_and_no_client_chosen(
    backend, clinic
) -> None:
    at = app_as(backend, clinic.admin)
    next(b for b in at.button if b.label == "Add client").click().run()
    code = at.code[0].value
    at.selectbox(key="delete_code").select(code)
    at.checkbox(key="delete_sure").check()
    next(b for b in at.button if b.label == "Delete client").click().run()
    assert not at.exception
    assert code not in set(at.dataframe[1].value["Client"])
    assert at.checkbox(key="delete_sure").value is False
    assert at.selectbox(key="delete_code").value is None
