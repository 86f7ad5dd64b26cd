"""How well flags find ruptures on a simulated caseload whose truth is known.

A flag is a request for a clinician's time, so recall alone says little: the table also
counts rupture-free clients alarmed, client-level precision and flags per 10 rated
sessions. Beside Rapport it scores, on the same data, OpenFIT's rule, the plain cutoff, an oracle
that knows each client's true level and spread (the limit any rule can reach), and the
same oracle made to learn the level from earlier ratings (the limit for a rule that, like
every real one, knows a client only by what they have rated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.evaluate import Evaluation
from scoring.simulate import SimulatedCaseload
from scoring.vocabulary import Severity

#: Ruptures at least this deep (points) are the ones recall is judged on.
CLEAR_RUPTURE = 5.0
#: The oracle's k is set so that this share of rupture-free clients is flagged.
ORACLE_FALSE_ALARMS = 0.10
TALK_OR_WORSE = (Severity.talk, Severity.warning, Severity.urgent)


@dataclass(frozen=True)
class Detection:
    """One row of the detection table."""

    method: str
    rupture_free_alarmed: float
    clear_ruptures_found: float
    client_precision: float
    talk_or_worse_per_10: float
    all_flags_per_10: float
    repair_status_right: float | None = None
    talk_requests_one_urgent: float | None = None


#: The targets of issue "Flags a clinician can trust", as (field, bound, at most?).
TARGETS: tuple[tuple[str, float, bool], ...] = (
    ("rupture_free_alarmed", 0.10, True),
    ("clear_ruptures_found", 0.85, False),
    ("client_precision", 0.70, False),
    ("talk_or_worse_per_10", 3.0, True),
    ("all_flags_per_10", 5.0, True),
    ("repair_status_right", 0.85, False),
    ("talk_requests_one_urgent", 1.0, False),
)


def misses(row: Detection) -> list[str]:
    """The targets a row misses, in words; empty when it meets them all."""
    out = []
    for name, bound, at_most in TARGETS:
        value = getattr(row, name)
        if value is None:
            continue
        if (value > bound + 1e-9) if at_most else (value < bound - 1e-9):
            out.append(f"{name} {value:.3f} (target {'<=' if at_most else '>='} {bound})")
    return out


def _openings(
    caseload: SimulatedCaseload, opened: pd.DataFrame, name: str, flags: pd.DataFrame
) -> Detection:
    """Score per-client openings (client_id, session_number) and flags (severity column)."""
    truth = caseload.truth
    rated = len(caseload.ratings)
    free = truth.loc[truth["pattern"] == "none", "client_id"]
    with_opening = set(opened["client_id"])
    alarmed = free.isin(with_opening).mean()
    precision = (
        truth.loc[truth["client_id"].isin(with_opening), "pattern"].ne("none").mean()
        if with_opening
        else 1.0
    )
    found = _found(truth, opened)
    clear = truth["depth"] >= CLEAR_RUPTURE
    recall = found[clear].notna().mean()
    talk = flags["severity"].astype(str).isin([s.value for s in TALK_OR_WORSE]).sum()
    return Detection(
        method=name,
        rupture_free_alarmed=float(alarmed),
        clear_ruptures_found=float(recall),
        client_precision=float(precision),
        talk_or_worse_per_10=10.0 * talk / rated,
        all_flags_per_10=10.0 * len(flags) / rated,
    )


def _found(truth: pd.DataFrame, opened: pd.DataFrame) -> pd.Series:
    """Per truth row, the first opening session inside the rupture or the session after."""
    merged = truth[["client_id", "rupture_session", "rupture_end"]].merge(
        opened[["client_id", "session_number"]], on="client_id", how="left"
    )
    inside = (merged["session_number"] >= merged["rupture_session"]) & (
        merged["session_number"] <= merged["rupture_end"] + 1
    )
    first = merged[inside.fillna(False).astype(bool)].groupby("client_id")["session_number"].min()
    return truth["client_id"].map(first)


def rapport_detection(caseload: SimulatedCaseload, result: Evaluation) -> Detection:
    """Rapport's episodes and flags against the truth."""
    episodes = result.episodes.rename(columns={"opened_session": "session_number"})
    row = _openings(caseload, episodes, "Rapport", result.flags)

    truth = caseload.truth
    found = _found(truth, episodes)
    detected = truth[found.notna()].assign(session_number=found[found.notna()].astype(int))
    status = detected.merge(episodes, on=["client_id", "session_number"], how="left")["status"]
    said_repaired = status.eq("repaired").to_numpy()
    was_repaired = detected["pattern"].eq("repaired").to_numpy()
    right = float((said_repaired == was_repaired).mean()) if len(detected) else 1.0

    requests = caseload.ratings.loc[
        caseload.ratings["wants_to_talk"], ["client_id", "session_number"]
    ]
    talk_flags = result.flags[
        (result.flags["rule"] == "client_wants_to_talk")
        & (result.flags["severity"] == Severity.urgent)
    ]
    per_request = requests.merge(
        talk_flags[["client_id", "session_number"]].value_counts().rename("n").reset_index(),
        on=["client_id", "session_number"],
        how="left",
    )["n"]
    one_each = float(per_request.eq(1).mean()) if len(requests) else 1.0
    return Detection(
        **{**row.__dict__, "repair_status_right": right, "talk_requests_one_urgent": one_each}
    )


def rating_rule_detection(caseload: SimulatedCaseload, name: str, flagged: np.ndarray) -> Detection:
    """A rule that flags single ratings (``flagged`` aligned with ``caseload.ratings``)."""
    ratings = caseload.ratings
    opened = ratings.loc[flagged, ["client_id", "session_number"]]
    flags = pd.DataFrame({"severity": np.full(int(flagged.sum()), Severity.warning.value)})
    return _openings(caseload, opened, name, flags)


def openfit_rule(ratings: pd.DataFrame) -> np.ndarray:
    """OpenFIT's red: a total under 36, or at least 1 point below the previous session."""
    ordered = ratings.sort_values(["client_id", "session_number"])
    previous = ordered.groupby("client_id")["total"].shift()
    red = (ordered["total"] < 36) | (ordered["total"] <= previous - 1)
    return red.reindex(ratings.index).to_numpy()


def cutoff_rule(ratings: pd.DataFrame) -> np.ndarray:
    """The plain cutoff: every total under 36."""
    return (ratings["total"] < 36).to_numpy()


def oracle_rule(caseload: SimulatedCaseload) -> tuple[np.ndarray, float]:
    """Flags below the client's true level minus k true SDs, k set on the rupture-free.

    The oracle knows what no rule can: each client's level that week (before any rupture)
    and the SD of their weekly noise. It is the ceiling for any rule on this data.
    """
    ratings = caseload.ratings.merge(
        caseload.session_truth[["client_id", "session_number", "expected"]],
        on=["client_id", "session_number"],
        how="left",
    ).merge(caseload.truth[["client_id", "true_sd", "pattern"]], on="client_id")
    z = ((ratings["expected"] - ratings["total"]) / ratings["true_sd"]).to_numpy()
    return _flagged_at_oracle_rate(caseload, z)


def _flagged_at_oracle_rate(caseload: SimulatedCaseload, z: np.ndarray) -> tuple[np.ndarray, float]:
    """Ratings whose ``z`` (aligned with ``caseload.ratings``; NaN never flags) exceeds the
    k that flags ``ORACLE_FALSE_ALARMS`` of the rupture-free clients, and that k."""
    z = np.nan_to_num(z, nan=-np.inf)
    ids = caseload.ratings["client_id"].to_numpy()
    free = np.isin(ids, caseload.truth.loc[caseload.truth["pattern"] == "none", "client_id"])
    worst = pd.Series(z[free]).groupby(ids[free]).max()
    k = float(np.quantile(worst, 1.0 - ORACLE_FALSE_ALARMS))
    return z > k, k


def learned_level_rule(caseload: SimulatedCaseload) -> tuple[np.ndarray, float]:
    """The oracle's rule with the client's level learned from their earlier ratings.

    It still knows the SD of each client's weekly noise and which sessions were inside the
    rupture (and leaves those out of the level), but, like any real rule, it knows the
    level only from the ratings before: the mean of at least two of them, with the
    predictive SD widened for that mean's uncertainty. The gap between it and the oracle
    is what learning a client's level costs; the gap between Rapport and it is what
    learning the spread and which ratings to leave out costs.
    """
    ratings = (
        caseload.ratings.merge(
            caseload.session_truth[["client_id", "session_number", "in_rupture"]],
            on=["client_id", "session_number"],
            how="left",
        )
        .merge(caseload.truth[["client_id", "true_sd"]], on="client_id")
        .set_index(caseload.ratings.index)
        .sort_values(["client_id", "session_number"])
    )
    usual = ~ratings["in_rupture"].to_numpy(bool)
    client = ratings["client_id"]
    value = pd.Series(np.where(usual, ratings["total"], 0.0), index=ratings.index)
    counted = pd.Series(usual.astype(np.int64), index=ratings.index)
    prior_sum = value.groupby(client).cumsum() - value
    prior_n = counted.groupby(client).cumsum() - counted
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = prior_sum / prior_n
        z = (mean - ratings["total"]) / (ratings["true_sd"] * np.sqrt(1.0 + 1.0 / prior_n))
    return _flagged_at_oracle_rate(
        caseload, z.where(prior_n >= 2).reindex(caseload.ratings.index).to_numpy()
    )


def detection_table(caseload: SimulatedCaseload, result: Evaluation) -> list[Detection]:
    """Rapport, the oracle, the oracle that learns the level, OpenFIT and the cutoff."""
    oracle, k = oracle_rule(caseload)
    learned, k_learned = learned_level_rule(caseload)
    return [
        rapport_detection(caseload, result),
        rating_rule_detection(caseload, f"oracle (k = {k:.2f})", oracle),
        rating_rule_detection(caseload, f"oracle, level learned (k = {k_learned:.2f})", learned),
        rating_rule_detection(
            caseload, "OpenFIT (< 36 or 1 point down)", openfit_rule(caseload.ratings)
        ),
        rating_rule_detection(caseload, "cutoff (< 36)", cutoff_rule(caseload.ratings)),
    ]


def format_table(rows: list[Detection]) -> str:
    """The detection table as fixed-width text."""
    head = (
        f"{'method':<40}{'free alarmed':>13}{'found >=5':>11}{'precision':>11}"
        f"{'talk+/10':>10}{'all/10':>8}{'repair ok':>11}{'talk req':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        extra = "".join(
            f"{v:>11.3f}"
            if i == 0 and v is not None
            else f"{v:>10.3f}"
            if v is not None
            else (f"{'-':>11}" if i == 0 else f"{'-':>10}")
            for i, v in enumerate((r.repair_status_right, r.talk_requests_one_urgent))
        )
        lines.append(
            f"{r.method:<40}{r.rupture_free_alarmed:>13.3f}{r.clear_ruptures_found:>11.3f}"
            f"{r.client_precision:>11.3f}{r.talk_or_worse_per_10:>10.2f}"
            f"{r.all_flags_per_10:>8.2f}{extra}"
        )
    return "\n".join(lines)
