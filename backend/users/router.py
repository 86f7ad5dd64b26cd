from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.deps import AdminDep
from backend.auth.password_changes import issue_password_reset
from backend.auth.schemas import IssuedPasswordReset
from backend.db import DatabaseDep
from backend.problems import refusals
from backend.users.schemas import SupervisedTeams, UserCreate, UserPublic, UserUpdate
from backend.users.service import (
    change_supervised_teams,
    create_user,
    list_users,
    update_user,
    user_public,
    users_public,
)

#: A user's id in a path.
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]

router = APIRouter(prefix="/api/users", tags=["users"], responses=refusals(401, 403, 404, 409, 422))


@router.get("", response_model=list[UserPublic])
def users(admin: AdminDep, db: DatabaseDep) -> list[UserPublic]:
    with db.reading() as session:
        record(session=session, action="list_users", caller=admin)
        return users_public(session=session, users=list_users(session=session))


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def new_user(body: UserCreate, admin: AdminDep, db: DatabaseDep) -> UserPublic:
    with db.writing() as session:
        attempting("create_user")
        user = create_user(session=session, new=body)
        record(session=session, action="create_user", caller=admin, subject_user_id=user.id)
        return user_public(session=session, user=user)


@router.patch("/{user_id}", response_model=UserPublic)
def change_user(user_id: UserId, body: UserUpdate, admin: AdminDep, db: DatabaseDep) -> UserPublic:
    with db.writing() as session:
        attempting("update_user", object_id=f"user:{user_id}")
        user = update_user(session=session, user_id=user_id, change=body)
        action = "deactivate_user" if body.active is False else "update_user"
        record(session=session, action=action, caller=admin, subject_user_id=user.id)
        return user_public(session=session, user=user)


@router.post(
    "/{user_id}/password-reset",
    response_model=IssuedPasswordReset,
    status_code=status.HTTP_201_CREATED,
)
def issue_reset(user_id: UserId, admin: AdminDep, db: DatabaseDep) -> IssuedPasswordReset:
    """A one-time code (shown once) for the person to set a new password; their sign-ins
    end at once. Their old password keeps working until the code is used."""
    with db.writing() as session:
        attempting("issue_password_reset", object_id=f"user:{user_id}")
        issued = issue_password_reset(session=session, user_id=user_id)
        record(
            session=session, action="issue_password_reset", caller=admin, subject_user_id=user_id
        )
        return IssuedPasswordReset(reset_code=issued.code, expires_at=issued.expires_at)


@router.put("/{user_id}/teams", response_model=UserPublic)
def supervised_teams(
    user_id: UserId, body: SupervisedTeams, admin: AdminDep, db: DatabaseDep
) -> UserPublic:
    """Set the teams a supervisor oversees; one removed reads none of its clients from now."""
    with db.writing() as session:
        attempting("set_supervised_teams", object_id=f"user:{user_id}")
        user = change_supervised_teams(session=session, user_id=user_id, teams=body.teams)
        record(
            session=session, action="set_supervised_teams", caller=admin, subject_user_id=user.id
        )
        return user_public(session=session, user=user)
