from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from backend.auth.deps import CallerDep
from backend.clients.schemas import ClientCode
from backend.config import SettingsDep
from backend.db import DatabaseDep
from backend.problems import refusals
from backend.ratings.schemas import RatingPublic
from backend.ratings.service import ratings_of
from backend.therapy.schemas import (
    IssuedLink,
    LinkReissue,
    TherapySessionCreate,
    TherapySessionPublic,
)
from backend.therapy.service import record_session, reissue_link, sessions_of

router = APIRouter(
    prefix="/api/clients/{client_id}",
    tags=["sessions"],
    responses=refusals(401, 403, 404, 409, 422),
)

SessionNumber = Annotated[int, Path(ge=1, le=100_000)]


@router.get("/sessions", response_model=list[TherapySessionPublic])
def sessions(
    client_id: ClientCode, caller: CallerDep, db: DatabaseDep
) -> list[TherapySessionPublic]:
    with db.reading() as session:
        return sessions_of(session=session, caller=caller, code=client_id)


@router.post("/sessions", response_model=IssuedLink, status_code=status.HTTP_201_CREATED)
def new_session(
    client_id: ClientCode,
    body: TherapySessionCreate,
    caller: CallerDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> IssuedLink:
    with db.writing() as session:
        return record_session(
            session=session, settings=settings, caller=caller, code=client_id, new=body
        )


@router.post(
    "/sessions/{session_number}/link",
    response_model=IssuedLink,
    status_code=status.HTTP_201_CREATED,
)
def new_link(
    client_id: ClientCode,
    session_number: SessionNumber,
    body: LinkReissue,
    caller: CallerDep,
    db: DatabaseDep,
    settings: SettingsDep,
) -> IssuedLink:
    with db.writing() as session:
        return reissue_link(
            session=session,
            settings=settings,
            caller=caller,
            code=client_id,
            session_number=session_number,
            language=body.language,
        )


@router.get("/ratings", response_model=list[RatingPublic], tags=["ratings"])
def ratings(client_id: ClientCode, caller: CallerDep, db: DatabaseDep) -> list[RatingPublic]:
    with db.reading() as session:
        return ratings_of(session=session, caller=caller, code=client_id)
