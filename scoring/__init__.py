"""Rapport scoring: turn each client's alliance ratings into explained flags.

Pure library: pandas in, pandas out, no I/O and no clock. ``evaluate`` is the entry point
for a caseload; ``score_client`` gives the same records for one client in plain Python.
"""

from scoring.config import DEFAULT_CONFIG, RULES_VERSION, ScoringConfig, Thresholds
from scoring.episodes import EPISODE_COLUMNS, TRIGGER_RULES
from scoring.evaluate import FLAG_COLUMNS, RANGE_COLUMNS, Evaluation, evaluate
from scoring.guidance import EPISODE_GUIDANCE, GUIDANCE
from scoring.one_client import score_client
from scoring.psychometrics import cronbach_alpha, estimate_psychometrics, reliable_change_index
from scoring.records import ScoreRecords, evaluation_records
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
    "ScoreRecords",
    "ScoringConfig",
    "ScoringInputError",
    "SimulatedCaseload",
    "Thresholds",
    "cronbach_alpha",
    "empty_sessions",
    "estimate_psychometrics",
    "evaluate",
    "evaluation_records",
    "reliable_change_index",
    "score_client",
    "simulate_caseload",
]
