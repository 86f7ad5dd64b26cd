"""The demo clinic: its data reads as a lived-in clinic and obeys the rules the API enforces."""

from __future__ import annotations

import pytest
from sqlmodel import select

from backend.demo import load_demo
from backend.flags.models import Flag
from backend.ratings.models import Rating
from backend.therapy.models import TherapySession

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
