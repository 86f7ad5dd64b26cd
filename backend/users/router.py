from __future__ import annotations

from fastapi import APIRouter, status

from backend.auth.deps import AdminDep
from backend.db import DatabaseDep
from backend.users.schemas import UserCreate, UserPublic, UserUpdate
from backend.users.service import create_user, list_users, update_user, user_public

router = APIRouter(prefix="/api/users", tags=["users"])


@router.get("", response_model=list[UserPublic])
def users(_admin: AdminDep, db: DatabaseDep) -> list[UserPublic]:
    with db.reading() as session:
        return [user_public(session=session, user=u) for u in list_users(session=session)]


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def new_user(body: UserCreate, _admin: AdminDep, db: DatabaseDep) -> UserPublic:
    with db.writing() as session:
        return user_public(session=session, user=create_user(session=session, new=body))


@router.patch("/{user_id}", response_model=UserPublic)
def change_user(user_id: int, body: UserUpdate, _admin: AdminDep, db: DatabaseDep) -> UserPublic:
    with db.writing() as session:
        return user_public(
            session=session, user=update_user(session=session, user_id=user_id, change=body)
        )
