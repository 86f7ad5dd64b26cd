from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request, Response, status

from backend.audit.context import current_request
from backend.auth.browser_address import HEADER, verified_browser_address
from backend.auth.deps import CallerDep
from backend.auth.password_changes import change_password, redeem_password_reset
from backend.auth.schemas import (
    BrowserTicketPublic,
    LoginRequest,
    LoginResponse,
    PasswordChange,
    PasswordReset,
)
from backend.auth.service import browser_ticket, redeem_browser_ticket, sign_in, sign_out
from backend.clock import utcnow
from backend.config import Settings, SettingsDep
from backend.db import DatabaseDep
from backend.errors import Forbidden, RapportError
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
    settings: SettingsDep,
    browser: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=200,
            description="Sent by the dashboard only: the browser's address, signed.",
        ),
    ] = None,
) -> LoginResponse:
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
def reset_password(body: PasswordReset, db: DatabaseDep, settings: SettingsDep) -> None:
    """Set a new password with the one-time code an administrator issued."""
    refused = redeem_password_reset(
        database=db,
        settings=settings,
        email=body.email,
        code=body.reset_code,
        new=body.new_password,
    )
    if refused is not None:
        raise refused


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT, responses=refusals(429))
def change_own_password(
    body: PasswordChange, caller: CallerDep, db: DatabaseDep, settings: SettingsDep
) -> None:
    """Change the signed-in user's password; their other sign-ins end."""
    refused = change_password(
        database=db,
        settings=settings,
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


#: The cookie in which the browser keeps its sign-in: HttpOnly (no page script reads it),
#: SameSite=Strict, and without a Domain, so it goes only to this host (on any port: the
#: dashboard beside the API in development, behind the same host in production).
BROWSER_COOKIE = "rapport_session"
#: Where a ticket may be redeemed from: the dashboard's own pages (same site), never a
#: page of another site posting a ticket of its own into the user's browser.
_SAME_SITE = {"same-origin", "same-site", "none"}


@router.post("/auth/browser-ticket", response_model=BrowserTicketPublic)
def new_browser_ticket(
    caller: CallerDep, db: DatabaseDep, settings: SettingsDep
) -> BrowserTicketPublic:
    """A one-time ticket, valid 60 s, for the caller's browser to get its sign-in cookie."""
    with db.writing() as session:
        issued = browser_ticket(session=session, settings=settings, caller=caller)
    return BrowserTicketPublic(ticket=issued.ticket, expires_at=issued.expires_at)


@router.post(
    "/auth/browser-session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=refusals(403),
    response_class=Response,
)
def browser_session(
    ticket: Annotated[str, Form(min_length=16, max_length=100)],
    db: DatabaseDep,
    settings: SettingsDep,
    sec_fetch_site: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Redeem a ticket from ``/auth/browser-ticket``: sets the HttpOnly sign-in cookie."""
    if sec_fetch_site is not None and sec_fetch_site not in _SAME_SITE:
        raise Forbidden("A sign-in ticket is redeemed only from Rapport's own pages.")
    with db.writing() as session:
        signed_in = redeem_browser_ticket(session=session, settings=settings, ticket=ticket)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.set_cookie(
        BROWSER_COOKIE,
        signed_in.token,
        max_age=max(0, int((signed_in.expires_at - utcnow()).total_seconds())),
        path="/",
        secure=settings.https,
        httponly=True,
        samesite="strict",
    )
    return response
