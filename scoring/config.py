"""Every threshold the rules use, in one configuration object.

Defaults are derived per instrument from ``Instrument.psychometrics``; a clinic may
override any of them per instrument without touching the rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scoring.instruments import Instrument, get_instrument
from scoring.psychometrics import reliable_change_index

#: Identifies the rule set in every flag and episode, so stored flags can be re-scored.
RULES_VERSION = "2026.11.1"


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of every rule for one instrument. Sources are in each rule's docstring."""

    total_cutoff: float
    item_cutoff: float
    population_sd: float
    reliability: float
    #: A client's own SD is floored here so a very steady client isn't flagged for noise.
    sd_floor: float
    reliable_change: float
    ceiling_total: float
    drop_points: float = 1.0
    baseline_min_prior: int = 3
    possible_sds: float = 1.0
    probable_sds: float = 2.0
    trend_window: int = 5
    trend_slope: float = -0.5
    trend_non_increases: int = 3
    ceiling_run: int = 3
    repair_sds: float = 0.5
    repair_within: int = 3

    def __post_init__(self) -> None:
        if self.trend_window < 5:
            raise ValueError("trend_window must be at least 5 ratings")
        if self.trend_non_increases >= self.trend_window:
            raise ValueError("trend_non_increases must fit inside trend_window")
        if self.baseline_min_prior < 2:
            raise ValueError("baseline_min_prior must be at least 2")
        if self.ceiling_run < 1 or self.repair_within < 1:
            raise ValueError("ceiling_run and repair_within must be positive")
        if self.sd_floor <= 0 or self.reliable_change <= 0:
            raise ValueError("sd_floor and reliable_change must be positive")

    @classmethod
    def for_instrument(cls, instrument: Instrument, **overrides: Any) -> Thresholds:
        """Defaults from the instrument's psychometrics, with ``overrides`` applied."""
        p = instrument.psychometrics
        values: dict[str, Any] = {
            "total_cutoff": p.total_cutoff,
            "item_cutoff": p.item_cutoff,
            "population_sd": p.population_sd,
            "reliability": p.reliability,
            "ceiling_total": instrument.total_max,
        }
        values.update(overrides)
        values.setdefault("sd_floor", values["population_sd"] / 2.0)
        values.setdefault(
            "reliable_change",
            reliable_change_index(values["population_sd"], values["reliability"]),
        )
        return cls(**values)


@dataclass(frozen=True)
class ScoringConfig:
    """Thresholds per instrument (registry defaults unless overridden) and caseload settings."""

    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    #: A session counts as unrated only once its rating link (7 days) has expired.
    rating_grace_days: int = 7
    #: Consecutive unrated sessions that make a ``missing_ratings`` flag.
    missing_run: int = 2

    def __post_init__(self) -> None:
        if self.rating_grace_days < 0 or self.missing_run < 1:
            raise ValueError("rating_grace_days must be >= 0 and missing_run >= 1")
        for instrument_id in self.overrides:
            self.thresholds_for(instrument_id)  # fail early on a bad override

    def thresholds_for(self, instrument_id: str) -> Thresholds:
        """The thresholds for one instrument: registry defaults plus this config's overrides."""
        return Thresholds.for_instrument(
            get_instrument(instrument_id), **dict(self.overrides.get(instrument_id, {}))
        )

    def with_thresholds(self, instrument_id: str, **changes: Any) -> ScoringConfig:
        """A copy with some thresholds of one instrument changed.

        Changing ``population_sd`` or ``reliability`` recomputes the derived RCI and SD floor
        unless they are given too.
        """
        known = {f.name for f in dataclasses.fields(Thresholds)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        merged = dict(self.overrides)
        merged[instrument_id] = MappingProxyType({**merged.get(instrument_id, {}), **changes})
        return dataclasses.replace(self, overrides=MappingProxyType(merged))


DEFAULT_CONFIG = ScoringConfig()
