"""The client's side: no account, addressed by the link's token alone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Path, Response, status

from backend.db import DatabaseDep
from backend.flows import after_submission, submit_rating
from backend.problems import refusals
from backend.ratings.schemas import RatingForm, RatingReceipt, RatingSubmission
from backend.ratings.service import rating_form

router = APIRouter(
    prefix="/api/public/ratings", tags=["public"], responses=refusals(404, 409, 410, 422, 429)
)

Token = Annotated[str, Path(max_length=512)]


@router.get("/{token}", response_model=RatingForm)
def form(token: Token, db: DatabaseDep) -> RatingForm:
    with db.reading() as session:
        return rating_form(session=session, token=token)


@router.post(
    "/{token}",
    response_model=RatingReceipt,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RatingReceipt, "description": "A retry of an earlier submission"}},
)
def submit(
    token: Token,
    body: RatingSubmission,
    response: Response,
    db: DatabaseDep,
    background: BackgroundTasks,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> RatingReceipt:
    outcome = submit_rating(db=db, token=token, submission=body, idempotency_key=idempotency_key)
    after_submission(background, db=db, outcome=outcome)
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    return outcome.receipt
