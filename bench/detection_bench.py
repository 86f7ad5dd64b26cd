"""Detection quality: do the flags find ruptures without crying wolf?

``python -m bench detection_bench``. Simulates 2,000 clients from the realistic population
(``scoring.simulate``, calibrated to published figures, truth kept), scores them with
the clinic's own week-to-week SD as ``rapport rescore`` would, and prints Rapport beside
an oracle that knows each client's true level and spread, OpenFIT's rule and the plain
cutoff, all on the same data. Three more seeds check that the result holds. Exits 1
when Rapport misses a target of ``scoring.detection.TARGETS``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring import ScoringConfig, estimate_psychometrics, evaluate, simulate_caseload
from scoring.detection import detection_table, format_table, misses, rapport_detection

CLIENTS = 2_000
SEED = 2026
OTHER_SEEDS = (7, 31, 20261201)
START = dt.date(2026, 1, 5)


def scored(seed: int):
    """The caseload of one seed and what Rapport makes of it."""
    caseload = simulate_caseload(CLIENTS, seed=seed, start=START)
    today = (caseload.sessions["held_on"].max() + pd.Timedelta(days=14)).date()
    estimate = estimate_psychometrics(caseload.ratings, "alliance4")
    config = ScoringConfig().with_clinic_estimate("alliance4", estimate.within_sd)
    result = evaluate(caseload.ratings, caseload.sessions, today=today, config=config)
    return caseload, result, estimate


def main() -> int:
    caseload, result, estimate = scored(SEED)
    print(
        f"{CLIENTS:,} simulated clients (seed {SEED}), {len(caseload.ratings):,} rated sessions; "
        f"clinic week-to-week SD {estimate.within_sd:.2f} points (estimated from "
        f"{estimate.ratings:,} ratings)"
    )
    rows = detection_table(caseload, result)
    print(format_table(rows))
    rapport = rows[0]
    for limit, label in ((rows[1], "the oracle"), (rows[2], "the oracle that learns the level")):
        gap = {
            name: getattr(rapport, name) - getattr(limit, name)
            for name in ("clear_ruptures_found", "client_precision", "rupture_free_alarmed")
        }
        print(
            f"Rapport against {label}: {gap['clear_ruptures_found']:+.3f} found, "
            f"{gap['client_precision']:+.3f} precision, "
            f"{gap['rupture_free_alarmed']:+.3f} rupture-free alarmed"
        )
    missed = misses(rapport)
    others = [rapport_detection(*scored(seed)[:2]) for seed in OTHER_SEEDS]
    print("\nRapport on other seeds:")
    print(
        format_table(
            [
                dataclasses.replace(row, method=f"Rapport, seed {seed}")
                for seed, row in zip(OTHER_SEEDS, others, strict=True)
            ]
        )
    )
    for seed, row in zip(OTHER_SEEDS, others, strict=True):
        missed += [f"seed {seed}: {m}" for m in misses(row)]
    print(
        "\ntargets: rupture-free alarmed <= .10, found >= .85 (ruptures of 5 points or more, "
        "episode opened during the rupture or the session after), precision >= .70, "
        "talk-or-worse <= 3 and all flags <= 5 per 10 rated sessions, repair status right "
        ">= .85, every talk request one urgent flag"
    )
    if missed:
        print("missed: " + "; ".join(missed))
        return 1
    print("every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
