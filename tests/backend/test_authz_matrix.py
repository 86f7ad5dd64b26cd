"""Runs every cell of tests/backend/authz_matrix.py on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from backend.config import get_settings
from backend.db import Database
from backend.factories import add_access_token, add_client, add_staff, add_therapy_session, bearer
from backend.main import app
from backend.teams.service import team_named
from backend.therapy.service import issue_link
from backend.users.models import User
from tests.backend.authz_matrix import MATRIX, OBJECTS, ROLES, cells, names_an_object
from tests.backend.factories import PASSWORD, PASSWORD_HASH, talk_flag

MISSING = 999_999
ONE_HOUR = timedelta(hours=1)


@dataclass
class Side:
    client_code: str
    flag_id: int
    link_token: str
    user_id: int


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    emails: dict[str, str]
    sides: dict[str, Side]
    therapist_id: int
    role: str = "anonymous"
    #: The object the request addresses ("own", "other", "none", or "-").
    obj: str = "-"

    @property
    def login_body(self) -> dict[str, str]:
        email = self.emails.get(self.role, "nobody@clinic.test")
        return {"email": email, "password": PASSWORD}


def build_world(db: Database) -> World:
    settings = get_settings()
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    emails: dict[str, str] = {}
    users: dict[str, User] = {}
    sides: dict[str, Side] = {}
    with db.writing() as session:
        north, south = (
            team_named(session=session, name="North"),
            team_named(session=session, name="South"),
        )
        for name, role, team, active in (
            ("therapist", "therapist", north, True),
            ("other_therapist", "therapist", south, True),
            ("team_supervisor", "supervisor", north, True),
            ("other_supervisor", "supervisor", south, True),
            ("admin", "admin", north, True),
            ("deactivated", "therapist", north, False),
        ):
            user = add_staff(
                session,
                email=f"{name}@clinic.test",
                display_name=name,
                role=role,
                team=team,
                password_hash=PASSWORD_HASH,
                active=active,
            )
            token = add_access_token(
                session,
                user_id=user.id,
                secret_key=settings.secret_key,
                lifetime=timedelta(hours=1),
            )
            users[name], emails[name], headers[name] = user, user.email, bearer(token)
        for side, owner in (("own", "therapist"), ("other", "other_therapist")):
            client = add_client(session, therapist_id=users[owner].id)
            held = date(2026, 11, 2)
            therapy_session = add_therapy_session(session, client=client, number=1, held_on=held)
            issued = issue_link(session, settings, therapy_session, "en")
            flag = talk_flag(client_id=client.id, session_number=1, held_on=held)
            session.add(flag)
            session.flush()
            sides[side] = Side(client.code, flag.id, issued.token, users[owner].id)
    sides["none"] = Side("ZZZZ-ZZZZ", MISSING, "no-such-token", MISSING)
    return World(headers, emails, sides, therapist_id=users["therapist"].id)


def url(path: str, world: World, obj: str) -> str:
    if obj == "-":
        return path
    side = world.sides[obj]
    return path.format(
        client_id=side.client_code,
        flag_id=side.flag_id,
        token=side.link_token,
        user_id=side.user_id,
        session_number=1,
    )


@pytest.mark.parametrize(
    ("method", "path", "role", "obj", "expected"),
    cells(),
    ids=[f"{m} {p} {r} {o}" for m, p, r, o, _ in cells()],
)
def test_authorization_matrix(api, db, method, path, role, obj, expected) -> None:
    world = build_world(db)
    world.role, world.obj = role, obj
    row = MATRIX[(method, path)]
    body = row.body(world) if callable(row.body) else row.body
    response = api.request(method, url(path, world, obj), json=body, headers=world.headers[role])
    assert response.status_code == expected, response.text


def _app_routes() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_route_of_the_app_has_a_row_in_the_matrix() -> None:
    missing = sorted(_app_routes() - set(MATRIX))
    assert not missing, "add a row to tests/backend/authz_matrix.py for: " + ", ".join(
        f"{m} {p}" for m, p in missing
    )


def test_the_matrix_names_no_route_the_app_lacks() -> None:
    assert not sorted(set(MATRIX) - _app_routes())


def test_every_row_covers_every_role_and_object() -> None:
    for (method, path), row in MATRIX.items():
        assert set(row.expect) == set(ROLES), (method, path)
        for role, expected in row.expect.items():
            if names_an_object(path) and not isinstance(expected, int):
                assert set(expected) == set(OBJECTS), (method, path, role)
