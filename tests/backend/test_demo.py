"""The demo clinic: its data reads as a lived-in clinic and obeys the rules the API enforces."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter
from sqlmodel import select

from backend.demo import load_demo
from backend.flags.models import ACTIONS, PLANNED_ACTIONS, Flag
from backend.flags.schemas import Acknowledgement
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession

#: The API's rules for what a therapist records (the dashboard's form follows them).
ACKNOWLEDGEMENT = TypeAdapter(Acknowledgement)
sqlite_only = pytest.mark.parametrize("migrated_database", ["sqlite"], indirect=True)


@pytest.fixture
def demo(db):
    load_demo(database=db)
    return db


@sqlite_only
def test_demo_flags_are_dated_from_the_rating_that_raised_them(demo) -> None:
    """Loading scores the whole history at once; the flags still read as raised when each
    client rated, so waiting times mean something in the demo."""
    with demo.reading() as session:
        rows = session.exec(
            select(Flag.created_at, Rating.submitted_at)
            .join(
                TherapySession,
                (TherapySession.client_id == Flag.client_id)
                & (TherapySession.session_number == Flag.session_number),
            )
            .join(Rating, Rating.therapy_session_id == TherapySession.id)
        ).all()
    assert rows
    assert all(created_at == submitted_at for created_at, submitted_at in rows)


@sqlite_only
def test_what_demo_therapists_recorded_obeys_the_rules_of_the_form(demo) -> None:
    """A note wherever the form requires one, a plan never closed as if done, and a
    request to talk resolved only once what was done is recorded."""
    with demo.reading() as session:
        acted_on = session.exec(select(Flag).where(Flag.action.is_not(None))).all()
    assert {flag.action for flag in acted_on} == set(ACTIONS)
    for flag in acted_on:
        ACKNOWLEDGEMENT.validate_python({"action": flag.action, "note": flag.note})
        if flag.status == "resolved":
            assert flag.action not in PLANNED_ACTIONS
