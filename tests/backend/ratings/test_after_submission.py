"""One function owns what follows a submission, whichever way the rating came in."""

from __future__ import annotations

import pytest
from fastapi import BackgroundTasks
from sqlmodel import select

from backend.clock import utcnow
from backend.flags.models import ClientSummary
from backend.flags.rescore_queue import catch_up, queued_count
from backend.flows import SubmissionOutcome, after_submission
from backend.ratings.schemas import RatingReceipt
from tests.backend.factories import alliance4, make_client, make_session_with_link, signed_in


def _send_json(api, token: str) -> int:
    return api.post(f"/api/public/ratings/{token}", json={"scores": alliance4()}).status_code


def _send_page(api, token: str) -> int:
    fields = {key: str(value) for key, value in alliance4().items()}
    return api.post(f"/r/{token}", data=fields).status_code


@pytest.mark.parametrize(
    ("send", "created_status"), [(_send_json, 201), (_send_page, 200)], ids=["api", "page"]
)
def test_a_rating_from_either_entry_point_is_scored_once_the_answer_is_sent(
    api, db, send, created_status
) -> None:
    client = make_client(db, signed_in(db))
    _, token = make_session_with_link(db, client)

    assert send(api, token) == created_status

    assert queued_count(db) == 0
    with db.reading() as session:
        summary = session.exec(
            select(ClientSummary).where(ClientSummary.client_id == client.id)
        ).one()
    assert summary.ratings_count == 1


@pytest.mark.parametrize(("created", "scheduled"), [(True, [catch_up]), (False, [])])
def test_only_a_new_rating_sets_off_scoring(db, created: bool, scheduled: list) -> None:
    background = BackgroundTasks()
    receipt = RatingReceipt(rating_id="r_opaque", submitted_at=utcnow())

    after_submission(background, db=db, outcome=SubmissionOutcome(receipt=receipt, created=created))

    assert [task.func for task in background.tasks] == scheduled
    assert all(task.args == (db,) for task in background.tasks)
