"""Which answers stay comparable when the wording of an instrument changes."""

from __future__ import annotations

import pytest

from scoring.instruments import (
    ALLIANCE4,
    WAI12,
    WORDING_VERSIONS,
    comparable_items,
    current_wording_version,
    instrument_ids,
)


def test_overall_asks_something_else_since_version_2_so_only_the_rest_compare() -> None:
    assert comparable_items("alliance4", 1, 2) == ("relationship", "goals", "approach")
    assert comparable_items("alliance4", 2, 1) == ("relationship", "goals", "approach")


@pytest.mark.parametrize(("first", "second"), [(1, 1), (2, 2)])
def test_within_one_version_every_item_compares(first: int, second: int) -> None:
    assert comparable_items("alliance4", first, second) == ALLIANCE4.item_keys


def test_the_spanish_only_rewording_of_wai12_keeps_every_item_comparable() -> None:
    assert comparable_items("wai12", 1, 2) == WAI12.item_keys


@pytest.mark.parametrize("instrument_id", instrument_ids())
def test_versions_count_up_from_1_and_name_only_the_instruments_items(instrument_id) -> None:
    versions = WORDING_VERSIONS[instrument_id]
    assert [v.number for v in versions] == list(range(1, len(versions) + 1))
    assert current_wording_version(instrument_id) == len(versions)
    keys = set(ALLIANCE4.item_keys if instrument_id == "alliance4" else WAI12.item_keys)
    for version in versions:
        assert set(version.reworded) | set(version.construct_changed) <= keys
        assert not set(version.reworded) & set(version.construct_changed)
