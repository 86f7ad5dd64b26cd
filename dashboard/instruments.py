"""The questionnaires as the API describes them (``GET /api/instruments``).

The dashboard reads instruments from the API, not from the scoring registry, so an
instrument a clinic registers in the API process shows here too. ``InstrumentView`` has
the attributes the charts and tables use, named as in ``scoring.instruments.Instrument``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ItemView:
    key: str
    subscale: str | None


@dataclass(frozen=True)
class Cutoffs:
    total_cutoff: float
    item_cutoff: float


@dataclass(frozen=True)
class WordingView:
    number: int
    construct_changed: tuple[str, ...]


@dataclass(frozen=True)
class InstrumentView:
    id: str
    name: str
    items: tuple[ItemView, ...]
    item_min: float
    item_max: float
    total_min: float
    total_max: float
    psychometrics: Cutoffs
    wording_versions: tuple[WordingView, ...] = ()

    @property
    def item_keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    @property
    def subscales(self) -> dict[str, tuple[str, ...]]:
        grouped: dict[str, list[str]] = {}
        for item in self.items:
            if item.subscale:
                grouped.setdefault(item.subscale, []).append(item.key)
        return {name: tuple(keys) for name, keys in grouped.items()}

    def comparable_items(self, first: int, second: int) -> tuple[str, ...]:
        """The items whose answers mean the same under both wording versions: none of the
        versions after the earlier one up to the later one changed what they ask."""
        low, high = sorted((first, second))
        changed = {
            key
            for version in self.wording_versions
            if low < version.number <= high
            for key in version.construct_changed
        }
        return tuple(key for key in self.item_keys if key not in changed)


def instrument_view(listing: Mapping[str, Any]) -> InstrumentView:
    described = listing["instrument"]
    return InstrumentView(
        id=described["id"],
        name=described["name"],
        items=tuple(ItemView(i["key"], i.get("subscale")) for i in described["items"]),
        item_min=described["item_min"],
        item_max=described["item_max"],
        total_min=listing["total_min"],
        total_max=listing["total_max"],
        psychometrics=Cutoffs(listing["total_cutoff"], listing["item_cutoff"]),
        wording_versions=tuple(
            WordingView(v["number"], tuple(v["construct_changed"]))
            for v in listing["wording_versions"]
        ),
    )
