"""Properties that must hold for any rating history."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import evaluate
from tests.scoring.factories import ratings_frame, sessions_for

TODAY = dt.date(2027, 1, 1)
PROPERTY = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

totals = st.lists(
    st.integers(min_value=200, max_value=400).map(lambda x: x / 10), min_size=1, max_size=14
)
talk = st.lists(st.booleans(), min_size=14, max_size=14)


def client_frame(values: list[float], wants: list[bool], client_id: str) -> pd.DataFrame:
    return ratings_frame(values, wants_to_talk=wants[: len(values)], client_id=client_id)


def rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True)


@PROPERTY
@given(values=totals, wants=talk, extra=st.integers(min_value=200, max_value=400))
def test_adding_a_rating_never_moves_or_changes_the_severity_of_earlier_flags(values, wants, extra):
    """A standing condition's flag carries its run (its wording may grow), and a run that
    began in the first ratings may turn out to be the client's own level; nothing else
    about an earlier flag changes, and no earlier flag appears or goes."""
    before = client_frame(values, wants, "c1")
    after = client_frame([*values, extra / 10], [*wants[: len(values)], False], "c1")
    old = evaluate(before, sessions_for(before), today=TODAY).flags
    new = evaluate(after, sessions_for(after), today=TODAY).flags
    new_earlier = new[new["session_number"] <= len(values)]
    key = ["session_number", "rule", "item", "severity"]
    pd.testing.assert_frame_equal(rows(old[key]), rows(new_earlier[key]))
    steady = ~old["rule"].isin(["below_cutoff", "item_low"])
    pd.testing.assert_frame_equal(rows(old[steady]), rows(new_earlier[steady.to_numpy()]))


@PROPERTY
@given(a=totals, b=totals, c=totals, wants=talk)
def test_one_client_alone_equals_its_rows_of_the_whole_caseload(a, b, c, wants):
    frames = [client_frame(v, wants, cid) for v, cid in ((a, "a"), (b, "b"), (c, "c"))]
    caseload = pd.concat(frames, ignore_index=True)
    whole = evaluate(caseload, sessions_for(caseload), today=TODAY)
    alone = evaluate(frames[1], sessions_for(frames[1]), today=TODAY)
    for name in ("flags", "episodes", "summary"):
        part = getattr(whole, name)
        mine = rows(part[part["client_id"] == "b"])
        expected = getattr(alone, name)
        pd.testing.assert_frame_equal(mine, rows(expected), check_categorical=False)


@PROPERTY
@given(a=totals, b=totals, wants=talk, seed=st.integers(0, 1000))
def test_output_is_deterministic_and_independent_of_row_order(a, b, wants, seed):
    caseload = pd.concat(
        [client_frame(a, wants, "a"), client_frame(b, wants, "b")], ignore_index=True
    )
    shuffled = caseload.sample(frac=1.0, random_state=seed)
    first = evaluate(caseload, sessions_for(caseload), today=TODAY)
    again = evaluate(caseload, sessions_for(caseload), today=TODAY)
    other = evaluate(shuffled, sessions_for(shuffled), today=TODAY)
    for name in ("flags", "episodes", "summary"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
        pd.testing.assert_frame_equal(getattr(first, name), getattr(other, name))
