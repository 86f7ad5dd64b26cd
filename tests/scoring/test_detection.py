"""Detection quality against the simulation's injected truth."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from scoring import evaluate, simulate_caseload

START = dt.date(2026, 1, 5)
#: A detection counts if the episode opens this many sessions before/after the injected one.
EARLY, LATE = 1, 4


def test_probable_ruptures_are_found_with_few_false_alarms():
    caseload = simulate_caseload(300, seed=2026, start=START)
    today = (caseload.sessions["held_on"].max() + pd.Timedelta(days=14)).date()
    result = evaluate(caseload.ratings, caseload.sessions, today=today)
    truth = caseload.truth

    episodes = result.episodes.merge(truth, on="client_id")
    offset = episodes["opened_session"] - episodes["rupture_session"]
    matched = (offset >= -EARLY) & (offset <= LATE)
    matched = matched.fillna(False).astype(bool)
    precision = matched.mean()
    ruptures = truth[truth["rupture_session"].notna()]
    recall = ruptures["client_id"].isin(episodes.loc[matched, "client_id"]).mean()

    stable = truth.loc[truth["pattern"] == "stable", "client_id"]
    alarms = result.flags[result.flags["severity"].isin(["warning", "urgent"])]
    false_alarm = stable.isin(alarms["client_id"]).mean()

    print(
        f"\nprobable ruptures: precision {precision:.3f} ({matched.sum()}/{len(episodes)} "
        f"episodes), recall {recall:.3f} ({len(ruptures)} injected); stable clients with "
        f"a warning or worse: {false_alarm:.3f} of {len(stable)}"
    )
    assert precision >= 0.8
    assert recall >= 0.8
    assert false_alarm <= 0.05


def test_repaired_and_unrepaired_truth_is_reflected_in_episode_status():
    caseload = simulate_caseload(300, seed=2026, start=START)
    today = (caseload.sessions["held_on"].max() + pd.Timedelta(days=14)).date()
    episodes = evaluate(caseload.ratings, caseload.sessions, today=today).episodes
    first = episodes.drop_duplicates("client_id").merge(caseload.truth, on="client_id")
    repaired = first[first["pattern"] == "repaired"]
    unrepaired = first[first["pattern"] == "unrepaired"]
    print(
        f"\nrepaired pattern -> repaired {(repaired['status'] == 'repaired').mean():.3f}; "
        f"unrepaired pattern -> unrepaired {(unrepaired['status'] == 'unrepaired').mean():.3f}"
    )
    assert (repaired["status"] == "repaired").mean() >= 0.8
    assert (unrepaired["status"] == "unrepaired").mean() >= 0.8
