"""Rapport scoring: turn each client's alliance ratings into explained flags.

Pure library: pandas in, pandas out, no I/O and no clock. ``evaluate`` is the entry point.
"""

from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig, Thresholds
from scoring.episodes import EPISODE_COLUMNS, TRIGGER_RULES
from scoring.evaluate import FLAG_COLUMNS, RANGE_COLUMNS, Evaluation, evaluate
from scoring.guidance import EPISODE_GUIDANCE, GUIDANCE
from scoring.psychometrics import cronbach_alpha, estimate_psychometrics, reliable_change_index
from scoring.rules import RULE_NAMES, SEVERITIES
from scoring.schema import RATINGS, SESSIONS, ScoringInputError, empty_sessions
from scoring.simulate import PATTERNS, SimulatedCaseload, simulate_caseload
from scoring.summary import SUMMARY_COLUMNS

__all__ = [
    "DEFAULT_CONFIG",
    "EPISODE_COLUMNS",
    "EPISODE_GUIDANCE",
    "FLAG_COLUMNS",
    "GUIDANCE",
    "PATTERNS",
    "RANGE_COLUMNS",
    "RATINGS",
    "RULES_VERSION",
    "RULE_NAMES",
    "SESSIONS",
    "SEVERITIES",
    "SUMMARY_COLUMNS",
    "TRIGGER_RULES",
    "Evaluation",
    "ScoringConfig",
    "ScoringInputError",
    "SimulatedCaseload",
    "Thresholds",
    "cronbach_alpha",
    "empty_sessions",
    "estimate_psychometrics",
    "evaluate",
    "reliable_change_index",
    "simulate_caseload",
]
