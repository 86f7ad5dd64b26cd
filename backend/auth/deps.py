"""The signed-in caller as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.audit.context import current_request
from backend.auth.caller import ADMINISTER, Caller, require
from backend.auth.service import caller_for_token, touch
from backend.config import SettingsDep
from backend.db import DatabaseDep
from backend.errors import NotAuthenticated

_bearer = HTTPBearer(auto_error=False, description="The access_token from /api/auth/login")


def current_caller(
    db: DatabaseDep,
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Sign in first: send 'Authorization: Bearer <access_token>'.")
    with db.reading() as session:
        caller = caller_for_token(session=session, settings=settings, token=credentials.credentials)
    context = current_request()
    if context is not None:
        context.actor_id, context.actor_role = caller.id, caller.role
    if caller.needs_touch:
        with db.writing() as session:
            touch(session=session, token_id=caller.token_id)
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def admin_caller(caller: CallerDep) -> Caller:
    require(caller, ADMINISTER)
    return caller


AdminDep = Annotated[Caller, Depends(admin_caller)]
