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
RULES_VERSION = "2026.12.2"


@dataclass(frozen=True)
class Thresholds:
    """The thresholds of every rule for one instrument. Sources are in each rule's docstring.

    Defaults were chosen on the realistic simulated caseload (``scoring.simulate``) against
    the targets of ``make bench``: at most 10% of rupture-free clients with an episode,
    85% of ruptures of 5 points or more found, client-level precision .70.
    """

    total_cutoff: float
    item_cutoff: float
    population_sd: float
    #: Test-retest reliability: the figure that governs change between two sessions.
    test_retest: float
    #: Clinic-wide week-to-week SD of one client's total; a new client's range starts here.
    within_sd: float
    reliable_change: float
    ceiling_total: float
    #: "instrument default" or "clinic estimate": which ``within_sd`` is in force.
    within_sd_source: str = "instrument default"
    #: Weight, in sessions, of ``within_sd`` against the client's own spread.
    shrink_sessions: float = 16.0
    baseline_min_prior: int = 2
    #: A drop smaller than this many points is never a rupture, however steady the client.
    min_drop_points: float = 3.0
    possible_sds: float = 1.6
    probable_sds: float = 2.9
    #: A rating more than this many SDs below adds its excess to the shortfall (CUSUM)...
    drift_allowance_sds: float = 1.0
    #: ...and a shortfall this large opens an episode.
    drift_sds: float = 3.0
    far_sds: float = 4.0
    repair_sds: float = 0.5
    repair_within: int = 4
    ceiling_run: int = 3
    #: Ratings at or above the cutoff in a row that end a run below it.
    cutoff_clear_run: int = 3

    def __post_init__(self) -> None:
        if self.baseline_min_prior < 2:
            raise ValueError("baseline_min_prior must be at least 2")
        if self.ceiling_run < 1 or self.repair_within < 1 or self.cutoff_clear_run < 1:
            raise ValueError("ceiling_run, repair_within and cutoff_clear_run must be positive")
        if self.within_sd <= 0 or self.reliable_change <= 0 or self.shrink_sessions < 0:
            raise ValueError("within_sd and reliable_change must be positive")
        if not 0 < self.possible_sds <= self.probable_sds <= self.far_sds:
            raise ValueError("need 0 < possible_sds <= probable_sds <= far_sds")
        if self.drift_allowance_sds < 0 or self.drift_sds <= 0:
            raise ValueError("drift_allowance_sds must be >= 0 and drift_sds positive")

    @classmethod
    def for_instrument(cls, instrument: Instrument, **overrides: Any) -> Thresholds:
        """Defaults from the instrument's psychometrics, with ``overrides`` applied."""
        p = instrument.psychometrics
        values: dict[str, Any] = {
            "total_cutoff": p.total_cutoff,
            "item_cutoff": p.item_cutoff,
            "population_sd": p.population_sd,
            "test_retest": p.test_retest,
            "within_sd": p.within_sd,
            "ceiling_total": instrument.total_max,
        }
        values.update(overrides)
        values.setdefault(
            "reliable_change",
            reliable_change_index(values["population_sd"], values["test_retest"]),
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

        Changing ``population_sd`` or ``test_retest`` recomputes the derived RCI unless it is
        given too.
        """
        known = {f.name for f in dataclasses.fields(Thresholds)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        merged = dict(self.overrides)
        merged[instrument_id] = MappingProxyType({**merged.get(instrument_id, {}), **changes})
        return dataclasses.replace(self, overrides=MappingProxyType(merged))

    def with_clinic_estimate(self, instrument_id: str, within_sd: float | None) -> ScoringConfig:
        """A copy judging new clients by the clinic's own week-to-week SD, when there is one."""
        if within_sd is None:
            return self
        return self.with_thresholds(
            instrument_id, within_sd=round(within_sd, 3), within_sd_source="clinic estimate"
        )


DEFAULT_CONFIG = ScoringConfig()
