"""``GET /api/instruments``: what the dashboard draws an instrument by, including one a
clinic registers in the API process (the dashboard no longer reads the registry)."""

from __future__ import annotations

import dataclasses

import pytest

from scoring import instruments as registry
from tests.backend.factories import signed_in


@pytest.fixture
def therapist(db):
    return signed_in(db, team="North")


def listing(api, who, instrument_id: str) -> dict:
    listed = api.get("/api/instruments", headers=who.headers).json()
    return next(i for i in listed if i["instrument"]["id"] == instrument_id)


def test_each_instrument_lists_its_wordings_and_what_each_changed(api, therapist) -> None:
    alliance4 = listing(api, therapist, "alliance4")
    assert [v["number"] for v in alliance4["wording_versions"]] == [
        v.number for v in registry.wording_versions("alliance4")
    ]
    changed = {v["number"]: v["construct_changed"] for v in alliance4["wording_versions"]}
    assert changed[2] == ["overall"]
    assert alliance4["instrument"]["wording_version"] == alliance4["wording_versions"][-1]["number"]


def test_an_instrument_registered_in_the_api_process_is_listed(
    api, therapist, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic_own = dataclasses.replace(registry.ALLIANCE4, id="clinic_srs", name="Clinic SRS")
    monkeypatch.setitem(registry._REGISTRY, clinic_own.id, clinic_own)
    listed = listing(api, therapist, "clinic_srs")
    assert listed["instrument"]["name"] == "Clinic SRS"
    assert listed["total_cutoff"] == clinic_own.psychometrics.total_cutoff
    assert [i["key"] for i in listed["instrument"]["items"]] == list(clinic_own.item_keys)
    assert [v["number"] for v in listed["wording_versions"]] == [1]  # a clinic's own: one


def test_the_listing_needs_a_sign_in(api) -> None:
    response = api.get("/api/instruments")
    assert response.status_code == 401
    assert response.json()["detail"]
