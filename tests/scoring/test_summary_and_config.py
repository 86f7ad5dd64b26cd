"""The caseload summary, the config object and the psychometric helpers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scoring import (
    DEFAULT_CONFIG,
    SUMMARY_COLUMNS,
    ScoringConfig,
    ScoringInputError,
    Thresholds,
    estimate_psychometrics,
    evaluate,
    reliable_change_index,
    simulate_caseload,
)
from scoring.instruments import get_instrument
from tests.scoring.factories import START, TODAY, ratings_frame, sessions_for


def test_summary_describes_the_latest_state_of_each_client():
    ratings = ratings_frame([38, 39, 38, 39, 30], wants_to_talk=[False] * 4 + [True])
    sessions = sessions_for(ratings, extra=[("c1", 6), ("c1", 7), ("c2", 1)])
    summary = evaluate(ratings, sessions, today=TODAY).summary
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    row = summary.set_index("client_id").loc["c1"]
    assert row["ratings_count"] == 5 and row["last_session_number"] == 5
    assert row["latest_total"] == 30.0 and row["change_from_previous"] == -9.0
    assert row["personal_mean"] == pytest.approx(36.8)
    assert row["recent_totals"] == [38.0, 39.0, 38.0, 39.0, 30.0]
    assert row["urgent"] == 1  # wants to talk
    assert row["warning"] == 1  # a probable rupture: 8.5 points below this client's usual
    assert row["talk"] == 2  # below the cutoff, missing ratings (6-7)
    assert row["usual_mean"] == pytest.approx(38.5) and row["below_usual"] == pytest.approx(8.5)
    assert row["repair_status"] == "open"
    assert row["sessions_without_rating"] == 2
    assert row["recent_slope"] < 0
    unrated = summary.set_index("client_id").loc["c2"]
    assert unrated["ratings_count"] == 0 and unrated["repair_status"] == "none"


def test_recent_totals_keep_the_last_ten():
    summary = evaluate(
        ratings_frame(list(range(20, 40))), sessions_for(ratings_frame([38])), today=TODAY
    ).summary
    assert summary.iloc[0]["recent_totals"] == [float(x) for x in range(30, 40)]


def test_defaults_come_from_the_instrument_registry():
    t = DEFAULT_CONFIG.thresholds_for("alliance4")
    p = get_instrument("alliance4").psychometrics
    assert (t.total_cutoff, t.item_cutoff, t.within_sd) == (p.total_cutoff, p.item_cutoff, 2.5)
    assert t.within_sd_source == "instrument default"
    # from test-retest reliability (.64), the figure for change between two sessions
    assert t.reliable_change == pytest.approx(6.65, abs=0.01)
    assert DEFAULT_CONFIG.thresholds_for("wai12").ceiling_total == 60.0


def test_overriding_sd_recomputes_the_derived_thresholds():
    config = DEFAULT_CONFIG.with_thresholds("alliance4", population_sd=6.0)
    t = config.thresholds_for("alliance4")
    assert t.reliable_change == pytest.approx(reliable_change_index(6.0, 0.64))
    assert DEFAULT_CONFIG.thresholds_for("alliance4").population_sd == 4.0  # original untouched


@pytest.mark.parametrize(
    "bad", [{"possible_sds": 3.5}, {"within_sd": 0}, {"repair_within": 0}, {"nonsense": 1}]
)
def test_invalid_thresholds_are_rejected(bad):
    with pytest.raises((ValueError, TypeError)):
        DEFAULT_CONFIG.with_thresholds("alliance4", **bad)


def test_config_rejects_negative_grace():
    with pytest.raises(ValueError):
        ScoringConfig(rating_grace_days=-1)


def test_rci_formula_matches_jacobson_truax():
    assert reliable_change_index(4.0, 0.88) == pytest.approx(1.96 * 4 * math.sqrt(0.24))
    assert isinstance(Thresholds.for_instrument(get_instrument("alliance4")), Thresholds)


def test_estimate_psychometrics_recovers_sd_and_alpha_of_a_clinic():
    caseload = simulate_caseload(200, seed=5, start=START)
    estimate = estimate_psychometrics(caseload.ratings, "alliance4")
    assert estimate.total_sd == pytest.approx(caseload.ratings["total"].std())
    assert 0.5 < estimate.alpha < 1.0
    # the simulated clients' weekly SDs lie between 1.25 and 2.5 points
    assert 1.25 < estimate.within_sd < 2.5
    config = DEFAULT_CONFIG.with_clinic_estimate("alliance4", estimate.within_sd)
    assert config.thresholds_for("alliance4").within_sd_source == "clinic estimate"
    assert DEFAULT_CONFIG.with_clinic_estimate("alliance4", None) is DEFAULT_CONFIG


def test_the_clinic_sd_needs_enough_clients_with_enough_ratings():
    ratings = pd.concat([ratings_frame([38, 37, 39, 36, 38], client_id=f"c{i}") for i in range(8)])
    assert estimate_psychometrics(ratings, "alliance4").within_sd is None


def test_estimate_psychometrics_needs_enough_ratings():
    with pytest.raises(ScoringInputError, match=r"too few"):
        estimate_psychometrics(ratings_frame([38, 37, 36]), "alliance4")


def test_simulation_is_deterministic_and_well_formed():
    a = simulate_caseload(50, seed=11, start=START)
    b = simulate_caseload(50, seed=11, start=START)
    pd.testing.assert_frame_equal(a.ratings, b.ratings)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    items = a.ratings[list(get_instrument("alliance4").item_keys)]
    assert np.allclose(items.sum(axis=1), a.ratings["total"])
    assert items.min().min() >= 0 and items.max().max() <= 10
    assert len(a.sessions) > len(a.ratings)  # some sessions go unrated
    assert a.ratings["total"].median() >= 36
    assert a.ratings["comment"].notna().any()
    assert set(a.truth["pattern"]) <= {"none", "repaired", "unrepaired"}


def test_simulation_follows_the_published_figures():
    caseload = simulate_caseload(3000, seed=3, start=START)
    truth = caseload.truth
    shares = truth["pattern"].value_counts(normalize=True)
    assert shares["none"] == pytest.approx(0.74, abs=0.03)  # Larsson et al. 2018
    assert shares["repaired"] == pytest.approx(0.15, abs=0.02)
    assert shares["unrepaired"] == pytest.approx(0.11, abs=0.02)
    assert 35.5 < truth["true_mean"].mean() < 37.5
    assert 2.5 < truth["true_mean"].std() < 4.5
    assert truth["depth"].dropna().between(3, 9).all()
    unrated = 1 - len(caseload.ratings) / len(caseload.sessions)
    assert 0.05 <= unrated <= 0.10
    assert (caseload.ratings["total"] == 40).mean() > 0.03  # scores pile up at the ceiling
    talk = caseload.ratings["wants_to_talk"]
    in_rupture = caseload.session_truth.set_index(["client_id", "session_number"])["in_rupture"]
    ordinary = ~in_rupture.loc[
        list(zip(caseload.ratings["client_id"], caseload.ratings["session_number"], strict=True))
    ].to_numpy()
    assert talk[ordinary].mean() == pytest.approx(0.01, abs=0.005)
