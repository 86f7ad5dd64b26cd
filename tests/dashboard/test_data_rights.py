"""An administrator honours a client's data rights from the dashboard."""

from __future__ import annotations

from tests.dashboard.conftest import app_as


def _erase(at, code: str, *, reason: str, typed: str):
    at.selectbox(key="rights_code").select(code).run()
    at.text_input(key="erase_reason").input(reason)
    at.text_input(key="erase_confirm").input(typed)
    return next(b for b in at.button if b.label == "Erase for good").click().run()


def test_an_admin_erases_a_client_only_after_typing_its_code(backend, clinic) -> None:
    code = clinic.calm.code
    at = app_as(backend, clinic.admin)

    at = _erase(at, code, reason="The client asked on 1 Dec", typed="NOT-THIS")
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"To erase this client, type their code exactly as shown ({code})."
    ]
    assert backend.get(f"/api/clients/{code}", clinic.admin).status_code == 200

    at = _erase(at, code, reason="The client asked on 1 Dec", typed=code)
    assert not at.exception
    assert backend.get(f"/api/clients/{code}", clinic.admin).status_code == 404
    assert code not in at.selectbox(key="rights_code").options
