from __future__ import annotations

from fastapi import APIRouter, Request, status

from backend.auth.deps import CallerDep
from backend.auth.schemas import LoginRequest, LoginResponse
from backend.auth.service import sign_in, sign_out
from backend.config import get_settings
from backend.db import DatabaseDep
from backend.errors import RapportError
from backend.problems import refusals
from backend.users.schemas import UserPublic
from backend.users.service import user_public

router = APIRouter(prefix="/api", tags=["auth"], responses=refusals(401, 422))


@router.post("/auth/login", response_model=LoginResponse, responses=refusals(429))
def login(body: LoginRequest, request: Request, db: DatabaseDep) -> LoginResponse:
    signed_in = sign_in(
        database=db,
        settings=get_settings(),
        email=body.email,
        password=body.password,
        address=request.client.host if request.client else None,
    )
    if isinstance(signed_in, RapportError):
        raise signed_in
    with db.reading() as session:
        user = user_public(session=session, user=signed_in.user)
    return LoginResponse(access_token=signed_in.token, expires_at=signed_in.expires_at, user=user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: CallerDep, db: DatabaseDep) -> None:
    with db.writing() as session:
        sign_out(session=session, token_id=caller.token_id)


@router.get("/me", response_model=UserPublic)
def me(caller: CallerDep, db: DatabaseDep) -> UserPublic:
    with db.reading() as session:
        return user_public(session=session, user=caller.user)
