"""The one-client path says exactly what the caseload path says, and refuses what it refuses.

``score_client`` repeats ``evaluate``'s arithmetic in plain Python, so its equality is a
claim to hold on any history, not on a few: random single-client histories of 0-80
ratings, both instruments (and a switch between them, back and forth), unrated and
unlisted sessions, talk requests, drops, ceilings, totals under the cutoff, low items,
repeated and far-apart dates, and configurations other than the default. Records are
compared with ``==``: floats to the bit, texts and evidence dicts exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import DEFAULT_CONFIG, ScoringConfig, ScoringInputError, evaluate
from scoring.instruments import all_item_keys, get_instrument
from scoring.one_client import score_client
from scoring.records import ScoreRecords, evaluation_records

START = dt.date(2026, 1, 5)
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Configurations the paths must agree under: thresholds are read, never assumed.
CONFIGS = (
    DEFAULT_CONFIG,
    DEFAULT_CONFIG.with_clinic_estimate("alliance4", 1.7),
    DEFAULT_CONFIG.with_thresholds(
        "alliance4",
        possible_sds=1.2,
        probable_sds=2.0,
        drift_sds=2.0,
        repair_within=2,
        ceiling_run=2,
        cutoff_clear_run=2,
        min_drop_points=2,
        baseline_min_prior=3,
    ),
    DEFAULT_CONFIG.with_thresholds("wai12", shrink_sessions=0, repair_sds=0.0, far_sds=3.0),
    ScoringConfig(rating_grace_days=3, missing_run=3),
)
#: Per segment of a history: how far below the maximum its items sit (share of the range).
DEFICITS = (0.0, 0.0, 0.02, 0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 0.9)


def items_for(instrument_id: str, deficit: float, noise: float, rng: random.Random) -> dict:
    """Item scores ``deficit`` (plus up to ``noise``) of the range below the maximum."""
    instrument = get_instrument(instrument_id)
    span = instrument.item_max - instrument.item_min
    scores = {}
    for key in instrument.item_keys:
        steps = round((deficit + rng.random() * noise) * span / instrument.step)
        value = max(instrument.item_min, instrument.item_max - steps * instrument.step)
        scores[key] = round(value, 1)
    return scores


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict], list[dict], dt.date, ScoringConfig]:
    """One client's ratings and sessions as records, the day it is scored, and a config."""
    count = draw(st.integers(0, 90))
    plan = draw(st.sampled_from(("alliance4", "wai12", "switch", "back and forth")))
    switch_at = draw(st.integers(0, max(count, 1)))
    first, other = draw(st.permutations(("alliance4", "wai12")))
    rng = random.Random(draw(st.integers(0, 2**32)))
    segments = draw(
        st.lists(
            st.tuples(
                st.integers(1, 12), st.sampled_from(DEFICITS), st.sampled_from((0.0, 0.03, 0.1))
            ),
            min_size=1,
            max_size=12,
        )
    )
    deficits = [(d, noise) for length, d, noise in segments for _ in range(length)]
    unrated = draw(st.sampled_from((0.0, 0.05, 0.2, 0.5)))
    talk = draw(st.sampled_from((0.0, 0.05, 0.3)))
    listed = draw(st.sampled_from((1.0, 0.9)))  # a rated session may be missing from sessions
    gaps = draw(st.sampled_from(((7, 7), (0, 3), (1, 21), (5, 90))))
    first_session = draw(st.integers(0, 3))

    ratings, sessions, held_on, rated_count = [], [], START, 0
    for k in range(count):
        number = first_session + k
        held_on += dt.timedelta(days=rng.randint(*gaps)) if k else dt.timedelta(0)
        rated = rated_count < 80 and rng.random() >= unrated
        if plan == "alliance4" or plan == "wai12":
            instrument = plan
        elif plan == "switch":
            instrument = first if k < switch_at else other
        else:
            instrument = first if rng.random() < 0.5 else other
        if rated:
            rated_count += 1
            deficit, noise = deficits[k % len(deficits)]
            scores = items_for(instrument, deficit, noise, rng)
            ratings.append(
                {
                    "client_id": "c1",
                    "session_number": number,
                    "held_on": held_on,
                    "instrument": instrument,
                    "total": get_instrument(instrument).total(scores),
                    "wants_to_talk": rng.random() < talk,
                    **scores,
                }
            )
        if not rated or rng.random() < listed:
            sessions.append({"client_id": "c1", "session_number": number, "held_on": held_on})
    today = held_on + dt.timedelta(days=draw(st.integers(-10, 40)))
    return ratings, sessions, today, draw(st.sampled_from(CONFIGS))


def ratings_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The caseload path's frame of the same ratings: every item column, NaN where absent."""
    columns = ["client_id", "session_number", "held_on", "instrument", "total", "wants_to_talk"]
    frame = pd.DataFrame(
        {
            "client_id": pd.Series([r["client_id"] for r in records], dtype=object),
            "session_number": np.array([r["session_number"] for r in records], dtype=np.int64),
            "held_on": pd.to_datetime(pd.Series([r["held_on"] for r in records], dtype=object)),
            "instrument": pd.Series([r["instrument"] for r in records], dtype=object),
            "total": np.array([r["total"] for r in records], dtype=float),
            "wants_to_talk": np.array([r["wants_to_talk"] for r in records], dtype=bool),
            **{
                key: np.array([r.get(key, np.nan) for r in records], dtype=float)
                for key in all_item_keys()
            },
        }
    )
    return frame[[*columns, *all_item_keys()]]


def sessions_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": pd.Series([r["client_id"] for r in records], dtype=object),
            "session_number": np.array([r["session_number"] for r in records], dtype=np.int64),
            "held_on": pd.to_datetime(pd.Series([r["held_on"] for r in records], dtype=object)),
        }
    )


def caseload_path(
    ratings: list[dict], sessions: list[dict], today: dt.date, config: ScoringConfig
) -> ScoreRecords:
    evaluation = evaluate(
        ratings_frame(ratings), sessions_frame(sessions), today=today, config=config
    )
    return evaluation_records(evaluation)


@EXAMPLES
@given(history=histories())
# A zero spread (shrink_sessions=0, equal ratings) makes z infinite: numpy says so.
@pytest.mark.filterwarnings("ignore:overflow encountered in add:RuntimeWarning")
def test_one_client_gets_the_caseload_paths_records_for_any_history(history):
    ratings, sessions, today, config = history
    one = score_client(ratings, sessions, today=today, config=config)
    full = caseload_path(ratings, sessions, today, config)
    assert one.flags == full.flags
    assert one.episodes == full.episodes
    assert one.summary == full.summary
    assert one.ranges == full.ranges


def test_the_histories_cover_what_the_rules_look_for():
    """The strategy reaches every rule, every episode status and an instrument switch, so
    the property above is tested where it matters (a check on the generator itself)."""
    seen_rules: set[str] = set()
    seen_status: set[str] = set()
    switched = False

    @settings(max_examples=300, deadline=None, database=None)
    @given(history=histories())
    def collect(history):
        nonlocal switched
        ratings, sessions, today, config = history
        scores = score_client(ratings, sessions, today=today, config=config)
        seen_rules.update(flag["rule"] for flag in scores.flags)
        seen_status.update(episode["status"] for episode in scores.episodes)
        switched |= len({r["instrument"] for r in ratings}) > 1

    collect()
    assert seen_rules == {
        "client_wants_to_talk",
        "rupture_not_repaired",
        "below_personal_baseline",
        "below_cutoff",
        "item_low",
        "ceiling_no_variance",
        "missing_ratings",
    }
    assert seen_status == {"open", "repaired", "unrepaired"}
    assert switched


def test_a_client_without_records_has_no_scores():
    assert score_client([], [], today=START) == ScoreRecords([], [], [], [])


def test_records_of_two_clients_are_refused():
    ratings = [rating(1), {**rating(2), "client_id": "c2"}]
    with pytest.raises(ScoringInputError, match="one client"):
        score_client(ratings, [], today=START)


def rating(session: int, **changes: Any) -> dict[str, Any]:
    scores = {"relationship": 9.5, "goals": 9.5, "approach": 9.5, "overall": 9.5}
    return {
        "client_id": "c1",
        "session_number": session,
        "held_on": START + dt.timedelta(weeks=session - 1),
        "instrument": "alliance4",
        "total": 38.0,
        "wants_to_talk": False,
        **scores,
        **changes,
    }


def without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize(
    ("ratings", "sessions"),
    [
        pytest.param([without(rating(1), "total")], [], id="missing column"),
        pytest.param([rating(1, client_id=None)], [], id="empty client"),
        pytest.param([rating(1, client_id=7)], [], id="client not text"),
        pytest.param([rating(1, session_number=None)], [], id="empty session"),
        pytest.param([rating(1, session_number=1.5)], [], id="session not whole"),
        pytest.param([rating(1, session_number=True)], [], id="session a bool"),
        pytest.param([rating(1, session_number=-1)], [], id="negative session"),
        pytest.param([rating(1, held_on=None)], [], id="empty date"),
        pytest.param([rating(1, instrument=None)], [], id="empty instrument"),
        pytest.param([rating(1, instrument="srs_licensed")], [], id="unknown instrument"),
        pytest.param([rating(1, total=np.nan)], [], id="empty total"),
        pytest.param([rating(1, total=True)], [], id="total a bool"),
        pytest.param([rating(1, total=41.0)], [], id="total over the maximum"),
        pytest.param([rating(1, wants_to_talk=None)], [], id="empty talk request"),
        pytest.param([rating(1, wants_to_talk=2)], [], id="talk request not true or false"),
        pytest.param([rating(1, goals=np.nan)], [], id="empty item"),
        pytest.param([rating(1, goals=11.0)], [], id="item over the maximum"),
        pytest.param([rating(1), rating(1)], [], id="duplicate rating"),
        pytest.param(
            [rating(1)],
            [without(rating(1), "total")] * 2,
            id="duplicate session",
        ),
        pytest.param([rating(1)], [{"client_id": "c1", "session_number": 1}], id="no date"),
    ],
)
def test_bad_records_are_refused_with_the_caseload_paths_message(ratings, sessions):
    session_records = [
        {k: r[k] for k in ("client_id", "session_number", "held_on") if k in r} for r in sessions
    ]
    with pytest.raises(ScoringInputError) as one:
        score_client(ratings, session_records, today=START)
    sessions_df = pd.DataFrame(session_records) if session_records else sessions_frame([])
    with pytest.raises(ScoringInputError) as full:
        evaluate(pd.DataFrame(ratings), sessions_df, today=START)
    assert str(one.value) == str(full.value)
