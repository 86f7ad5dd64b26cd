"""Detection quality on the realistic simulated caseload, against its kept truth.

The full 2,000-client table with the oracle, OpenFIT and the cutoff is ``make bench``;
here two smaller seeds keep ``make test`` quick. The bounds are what the rules reach on
this data today, a little below the issue's targets where they still miss them, so a
change that makes detection worse fails here.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from scoring import ScoringConfig, estimate_psychometrics, evaluate, simulate_caseload
from scoring.detection import detection_table, rapport_detection

START = dt.date(2026, 1, 5)


def _scored(seed: int, clients: int = 800):
    caseload = simulate_caseload(clients, seed=seed, start=START)
    today = (caseload.sessions["held_on"].max() + pd.Timedelta(days=14)).date()
    estimate = estimate_psychometrics(caseload.ratings, "alliance4").within_sd
    config = ScoringConfig().with_clinic_estimate("alliance4", estimate)
    return caseload, evaluate(caseload.ratings, caseload.sessions, today=today, config=config)


@pytest.mark.parametrize("seed", [11, 2027])
def test_realistic_caseload_alarms_few_rupture_free_clients_and_finds_most_ruptures(seed):
    caseload, result = _scored(seed)
    row = rapport_detection(caseload, result)
    print(f"\nseed {seed}: {row}")
    assert row.rupture_free_alarmed <= 0.13
    assert row.clear_ruptures_found >= 0.76
    assert row.client_precision >= 0.64
    assert row.talk_or_worse_per_10 <= 3.0
    assert row.all_flags_per_10 <= 5.0
    assert row.repair_status_right >= 0.85


@pytest.mark.parametrize("seed", [11, 2027])
def test_every_talk_request_gives_exactly_one_urgent_flag(seed):
    caseload, result = _scored(seed, clients=300)
    assert rapport_detection(caseload, result).talk_requests_one_urgent == 1.0


def test_rapport_is_far_more_precise_than_openfit_and_the_cutoff_and_the_oracle_is_the_limit():
    caseload, result = _scored(5)
    rapport, oracle, learned, openfit, cutoff = detection_table(caseload, result)
    assert oracle.rupture_free_alarmed == pytest.approx(0.10, abs=0.02)
    assert learned.rupture_free_alarmed == pytest.approx(0.10, abs=0.02)
    assert learned.clear_ruptures_found <= oracle.clear_ruptures_found + 0.02
    assert rapport.client_precision > openfit.client_precision + 0.3
    assert rapport.client_precision > cutoff.client_precision + 0.3
    assert openfit.rupture_free_alarmed > 0.9 and cutoff.rupture_free_alarmed > 0.6
    assert rapport.clear_ruptures_found <= oracle.clear_ruptures_found + 0.02


def test_the_baseline_rules_are_what_their_docstrings_say():
    """OpenFIT: red under 36 or at least a point below the previous session; cutoff: under
    36; both on each client's own sessions in order, whatever the row order."""
    from scoring.detection import cutoff_rule, openfit_rule

    ratings = pd.DataFrame(
        {
            "client_id": ["b", "a", "a", "a", "b"],
            "session_number": [2, 3, 1, 2, 1],
            "total": [37.0, 36.5, 38.0, 37.0, 35.9],
        }
    )
    assert openfit_rule(ratings).tolist() == [False, False, False, True, True]
    assert cutoff_rule(ratings).tolist() == [False, False, False, False, True]
