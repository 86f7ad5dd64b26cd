from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Header, Request, status

from backend.audit.context import current_request
from backend.auth.browser_address import HEADER, verified_browser_address
from backend.auth.deps import CallerDep
from backend.auth.password_changes import change_password, redeem_password_reset
from backend.auth.schemas import LoginRequest, LoginResponse, PasswordChange, PasswordReset
from backend.auth.service import sign_in, sign_out
from backend.config import Settings, get_settings
from backend.db import DatabaseDep
from backend.errors import RapportError
from backend.problems import refusals
from backend.users.schemas import UserPublic
from backend.users.service import user_public

router = APIRouter(prefix="/api", tags=["auth"], responses=refusals(401, 422))
log = logging.getLogger("rapport")


def signed_address(header: str | None, *, settings: Settings) -> str | None:
    """The browser's address the dashboard signed; a bad signature is logged and ignored."""
    if header is None:
        return None
    address = verified_browser_address(header, key=settings.dashboard_key, now=time.time())
    if address is None:
        log.warning(
            "A sign-in carried %s with a signature that does not verify: check that the "
            "dashboard and the API share RAPPORT_DASHBOARD_KEY and a clock.",
            HEADER,
        )
    return address


@router.post("/auth/login", response_model=LoginResponse, responses=refusals(429))
def login(
    body: LoginRequest,
    request: Request,
    db: DatabaseDep,
    browser: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=200,
            description="Sent by the dashboard only: the browser's address, signed.",
        ),
    ] = None,
) -> LoginResponse:
    settings = get_settings()
    address = signed_address(browser, settings=settings) or (
        request.client.host if request.client else None
    )
    context = current_request()
    if context is not None:
        context.address = address  # the audit row names the browser, not the dashboard
    signed_in = sign_in(
        database=db, settings=settings, email=body.email, password=body.password, address=address
    )
    if isinstance(signed_in, RapportError):
        raise signed_in
    with db.reading() as session:
        user = user_public(session=session, user=signed_in.user)
    return LoginResponse(access_token=signed_in.token, expires_at=signed_in.expires_at, user=user)


@router.post(
    "/auth/password-reset", status_code=status.HTTP_204_NO_CONTENT, responses=refusals(429)
)
def reset_password(body: PasswordReset, db: DatabaseDep) -> None:
    """Set a new password with the one-time code an administrator issued."""
    refused = redeem_password_reset(
        database=db,
        settings=get_settings(),
        email=body.email,
        code=body.reset_code,
        new=body.new_password,
    )
    if refused is not None:
        raise refused


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=refusals(429))
def change_own_password(body: PasswordChange, caller: CallerDep, db: DatabaseDep) -> None:
    """Change the signed-in user's password; their other sessions end."""
    refused = change_password(
        database=db,
        settings=get_settings(),
        caller=caller,
        current=body.current_password,
        new=body.new_password,
    )
    if refused is not None:
        raise refused


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(caller: CallerDep, db: DatabaseDep) -> None:
    with db.writing() as session:
        sign_out(session=session, token_id=caller.token_id)


@router.get("/me", response_model=UserPublic)
def me(caller: CallerDep, db: DatabaseDep) -> UserPublic:
    with db.reading() as session:
        return user_public(session=session, user=caller.user)
