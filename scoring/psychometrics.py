"""Reliable change and a clinic's own psychometric estimates.

The reliable change index (Jacobson & Truax 1991) is the smallest change between two
ratings that measurement error alone would produce less than 5% of the time. A clinic
with enough of its own ratings can estimate the SD and reliability it feeds on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.instruments import UnknownInstrument, get_instrument
from scoring.schema import ScoringInputError, check_ratings

#: Fewer ratings than this give an SD and alpha too unstable to replace published values.
MIN_RATINGS_FOR_ESTIMATE = 30
#: The clinic-wide week-to-week SD needs this many clients with enough ratings each.
MIN_CLIENTS_FOR_WITHIN_SD, MIN_RATINGS_PER_CLIENT = 20, 5


@dataclass(frozen=True)
class ClinicPsychometrics:
    """What a clinic's own ratings say about an instrument.

    ``within_sd`` is None when too few clients have enough ratings; the instrument's
    default then stays in force.
    """

    total_sd: float
    alpha: float
    within_sd: float | None
    ratings: int
    clients: int


def reliable_change_index(sd: float, reliability: float) -> float:
    """RCI = 1.96 x SD x sqrt(2 x (1 - r)) (Jacobson & Truax 1991).

    A drop at least this large between two ratings is unlikely (p < .05) to be noise.
    """
    if sd <= 0 or not 0 <= reliability < 1:
        raise ValueError("sd must be positive and reliability in [0, 1)")
    return 1.96 * sd * math.sqrt(2.0 * (1.0 - reliability))


def cronbach_alpha(items: np.ndarray) -> float:
    """Cronbach's alpha of an (n ratings x k items) matrix: internal consistency."""
    n, k = items.shape
    if k < 2 or n < 2:
        raise ValueError("alpha needs at least 2 items and 2 ratings")
    item_var = items.var(axis=0, ddof=1).sum()
    total_var = items.sum(axis=1).var(ddof=1)
    if total_var == 0:
        raise ValueError("alpha is undefined when every total is the same")
    return float(k / (k - 1) * (1.0 - item_var / total_var))


def estimate_psychometrics(ratings: pd.DataFrame, instrument_id: str) -> ClinicPsychometrics:
    """Estimate the SD of totals, Cronbach's alpha and the week-to-week SD of one client.

    Why: published norms come from other populations; a clinic with at least
    ``MIN_RATINGS_FOR_ESTIMATE`` ratings can base its thresholds on its own clients (pass
    the result to ``ScoringConfig.with_clinic_estimate``). The week-to-week SD is the
    median over clients of the SD of their ratings (as ``scoring.own_range`` measures a
    range): the median, so that the minority of clients with a rupture do not widen every
    client's range.
    """
    try:
        instrument = get_instrument(instrument_id)
    except UnknownInstrument:
        raise ScoringInputError(f"instrument {instrument_id!r} is unknown") from None
    checked = check_ratings(ratings)
    rows = checked.instrument == instrument_id
    count = int(rows.sum())
    if count < MIN_RATINGS_FOR_ESTIMATE:
        raise ScoringInputError(
            f"{count} {instrument_id} ratings are too few to estimate psychometrics "
            f"(need {MIN_RATINGS_FOR_ESTIMATE})"
        )
    matrix = np.column_stack([checked.items[key][rows] for key in instrument.item_keys])
    sd = float(checked.total[rows].std(ddof=1))
    try:
        alpha = cronbach_alpha(matrix)
    except ValueError as exc:
        raise ScoringInputError(f"cannot estimate reliability: {exc}") from None
    totals = pd.Series(checked.total[rows])
    client = checked.client_code[rows]
    grouped = totals.groupby(client)
    per_client = grouped.size()
    enough = per_client >= MIN_RATINGS_PER_CLIENT
    spread = grouped.std(ddof=1)[enough]
    within = float(spread.median()) if enough.sum() >= MIN_CLIENTS_FOR_WITHIN_SD else None
    return ClinicPsychometrics(
        total_sd=sd,
        alpha=alpha,
        within_sd=within if within and within > 0 else None,
        ratings=count,
        clients=int(per_client.size),
    )
