"""A notification's link opens the client's page; each person chooses their summaries."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.backend.factories import PASSWORD, make_client, signed_in
from tests.dashboard.conftest import APP, APP_TIMEOUT_SECONDS, app_as


def test_a_notification_link_opens_that_clients_page_once_signed_in(backend) -> None:
    therapist = signed_in(backend.database)
    clients = [make_client(backend.database, therapist) for _ in range(2)]
    theirs = max(clients, key=lambda c: c.code)  # not the one the page would open by default
    at = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_SECONDS)
    at.run()
    at.query_params["client"] = theirs.code  # the mail's /client?client=CODE
    at.switch_page("app_pages/client.py").run()
    at.text_input(key="email").input(therapist.user.email)
    at.text_input(key="password").input(PASSWORD)
    at.button[0].click().run()

    assert not at.exception
    assert theirs.code in at.title[0].value


def test_each_person_chooses_their_summaries_but_not_to_miss_urgent_alerts(backend) -> None:
    therapist = signed_in(backend.database)
    supervisor = signed_in(backend.database, role="supervisor")
    make_client(backend.database, therapist)

    at = app_as(backend, therapist)
    at.switch_page("app_pages/notifications.py").run()
    assert not at.exception
    assert at.toggle(key="urgent_alerts").disabled and at.toggle(key="urgent_alerts").value
    assert [t.key for t in at.toggle] == ["urgent_alerts", "daily_digest"]
    at.toggle(key="daily_digest").set_value(True)
    at.button[0].click().run()
    assert not at.exception
    assert "Saved." in [s.value for s in at.success]
    chosen = backend.get("/api/me/notifications", therapist).json()
    assert chosen["daily_digest"] is True and chosen["urgent_alerts"] is True

    at = app_as(backend, supervisor)
    at.switch_page("app_pages/notifications.py").run()
    assert [t.key for t in at.toggle] == ["urgent_alerts", "weekly_digest"]
    at.toggle(key="weekly_digest").set_value(False)
    at.button[0].click().run()
    assert not at.exception
    assert backend.get("/api/me/notifications", supervisor).json()["weekly_digest"] is False
