"""Who may call what: every route x role x object -> the status the caller gets.

One row per route. To add a route, add a row: ``Row(expect=...)`` keyed by
``(METHOD, path)`` exactly as it appears in the OpenAPI schema. ``expect`` maps a
role to a status, or to ``{object: status}`` when the path names an object.

Roles (see ``World`` in test_authz_matrix.py):
  anonymous        no token
  therapist        treats client X (team North)
  other_therapist  treats client Y (team South)
  team_supervisor  supervises North (X's team)
  other_supervisor supervises South
  admin            manages accounts and client assignment; reads no clinical data
  deactivated      a North therapist whose account was deactivated (old token)
Objects: "own" = X / X's flag / the therapist's user record / X's rating link,
"other" = Y / Y's flag / other therapist's record / Y's link, "none" = does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.backend.factories import PASSWORD

ROLES = (
    "anonymous",
    "therapist",
    "other_therapist",
    "team_supervisor",
    "other_supervisor",
    "admin",
    "deactivated",
)
OBJECTS = ("own", "other", "none")

Expect = dict[str, int | dict[str, int]]


@dataclass(frozen=True)
class Row:
    expect: Expect
    #: The JSON body to send; a callable gets the world (ids of the test data).
    body: dict[str, Any] | Callable[[Any], dict[str, Any]] | None = None
    notes: str = field(default="")


def everyone(status: int, *, anonymous: int = 401, deactivated: int = 401) -> Expect:
    expect: Expect = dict.fromkeys(ROLES, status)
    expect.update(anonymous=anonymous, deactivated=deactivated)
    return expect


def only(statuses: dict[str, int], *, otherwise: int = 403) -> Expect:
    """Signed-in roles not named get ``otherwise``; anonymous and deactivated get 401."""
    expect = everyone(otherwise)
    expect.update(statuses)
    return expect


def scoped(therapist: int, *, supervisor: int, admin: int) -> Expect:
    """A client-addressed route: outside the caller's scope is 404, as if it did not exist."""
    hidden = 404
    return {
        "anonymous": 401,
        "deactivated": 401,
        "therapist": {"own": therapist, "other": hidden, "none": hidden},
        "other_therapist": {"own": hidden, "other": therapist, "none": hidden},
        "team_supervisor": {"own": supervisor, "other": hidden, "none": hidden},
        "other_supervisor": {"own": hidden, "other": supervisor, "none": hidden},
        "admin": {"own": admin, "other": admin, "none": hidden},
    }


def anyone(per_object: dict[str, int]) -> Expect:
    """Public, token-addressed: the caller's identity plays no part."""
    return dict.fromkeys(ROLES, per_object)


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/health/live"): Row(everyone(200, anonymous=200, deactivated=200)),
    ("GET", "/health/ready"): Row(everyone(200, anonymous=200, deactivated=200)),
    # Carries no client data; the proxy does not pass it on (scrape instances directly).
    ("GET", "/metrics"): Row(everyone(200, anonymous=200, deactivated=200)),
    # Signs in as the role's own account with the right password.
    ("POST", "/api/auth/login"): Row(everyone(200), body=lambda w: w.login_body),
    ("POST", "/api/auth/logout"): Row(everyone(204)),
    # Public: the one-time code is the credential; no code was issued, so 401 for all.
    ("POST", "/api/auth/password-reset"): Row(
        everyone(401, anonymous=401),
        body=lambda w: {
            "email": w.login_body["email"],
            "reset_code": "not-a-code",
            "new_password": "plum anvil sorrow seven",
        },
    ),
    ("POST", "/api/me/password"): Row(
        everyone(204),
        body=lambda w: {"current_password": PASSWORD, "new_password": "plum anvil sorrow seven"},
    ),
    ("POST", "/api/auth/browser-ticket"): Row(everyone(200)),
    # Takes a form-encoded ticket and no token: without one every caller gets 422.
    ("POST", "/api/auth/browser-session"): Row(everyone(422, anonymous=422, deactivated=422)),
    ("GET", "/api/me"): Row(everyone(200)),
    # Each person's own notification choices; nobody else's.
    ("GET", "/api/me/notifications"): Row(everyone(200)),
    ("PATCH", "/api/me/notifications"): Row(everyone(200), body={"daily_digest": True}),
    ("GET", "/api/users"): Row(only({"admin": 200})),
    ("POST", "/api/users"): Row(
        only({"admin": 201}),
        body={
            "email": "new.person@clinic.test",
            "display_name": "New Person",
            "role": "therapist",
            "team": "North",
            "password": "a long enough passphrase",
        },
    ),
    ("PATCH", "/api/users/{user_id}"): Row(
        only({"admin": {"own": 200, "other": 200, "none": 404}}),
        body={"display_name": "Renamed"},
    ),
    ("POST", "/api/users/{user_id}/password-reset"): Row(
        only({"admin": {"own": 201, "other": 201, "none": 404}})
    ),
    # The objects are therapists' records: only a supervisor oversees teams (409).
    ("PUT", "/api/users/{user_id}/teams"): Row(
        only({"admin": {"own": 409, "other": 409, "none": 404}}),
        body={"teams": ["North", "South"]},
    ),
    ("GET", "/api/clients"): Row(everyone(200)),
    # Always asks for the therapist's caseload: the other therapist may not add to it.
    ("POST", "/api/clients"): Row(
        only({"therapist": 201, "admin": 201}), body=lambda w: {"therapist_id": w.therapist_id}
    ),
    ("GET", "/api/clients/{client_id}"): Row(scoped(200, supervisor=200, admin=200)),
    ("PATCH", "/api/clients/{client_id}"): Row(
        scoped(200, supervisor=403, admin=200), body={"status": "active"}
    ),
    # The matrix's clients have a session, so an administrator's delete is refused (409).
    ("DELETE", "/api/clients/{client_id}"): Row(scoped(403, supervisor=403, admin=409)),
    # A therapist's private label: clinical, so the administrator cannot reach it.
    ("PUT", "/api/clients/{client_id}/label"): Row(
        scoped(200, supervisor=403, admin=404), body={"label": "J.D. (Tuesdays)"}
    ),
    ("GET", "/api/clients/{client_id}/page"): Row(scoped(200, supervisor=200, admin=404)),
    ("GET", "/api/instruments"): Row(everyone(200)),
    ("GET", "/api/clients/{client_id}/sessions"): Row(scoped(200, supervisor=200, admin=404)),
    ("POST", "/api/clients/{client_id}/sessions"): Row(
        scoped(201, supervisor=403, admin=404), body={"held_on": "2026-11-20"}
    ),
    ("POST", "/api/clients/{client_id}/sessions/{session_number}/link"): Row(
        scoped(201, supervisor=403, admin=404), body={}
    ),
    ("GET", "/api/clients/{client_id}/ratings"): Row(scoped(200, supervisor=200, admin=404)),
    ("GET", "/api/flags"): Row(everyone(200)),
    ("GET", "/api/scoring/calibration"): Row(everyone(200), notes="clinic-wide, no client data"),
    ("GET", "/api/clients/{client_id}/flags"): Row(scoped(200, supervisor=200, admin=404)),
    ("POST", "/api/clients/{client_id}/flags/{flag_id}/acknowledge"): Row(
        scoped(200, supervisor=403, admin=404), body={"action": "raised_in_session"}
    ),
    ("POST", "/api/clients/{client_id}/flags/{flag_id}/resolve"): Row(
        scoped(200, supervisor=403, admin=404), body={}
    ),
    ("GET", "/api/clients/{client_id}/episodes"): Row(scoped(200, supervisor=200, admin=404)),
    ("GET", "/api/clients/{client_id}/ranges"): Row(scoped(200, supervisor=200, admin=404)),
    ("GET", "/api/public/ratings/{token}"): Row(anyone({"own": 200, "other": 200, "none": 404})),
    ("POST", "/api/public/ratings/{token}"): Row(
        anyone({"own": 201, "other": 201, "none": 404}),
        body={"scores": {"relationship": 9, "goals": 9, "approach": 9, "overall": 9}},
    ),
    # Aggregates, scoped server-side; admins read no clinical data.
    ("GET", "/api/caseload"): Row(everyone(200) | {"admin": 403}),
    ("GET", "/api/team/overview"): Row(only({"team_supervisor": 200, "other_supervisor": 200})),
    ("GET", "/api/audit"): Row(
        only({"admin": 200, "team_supervisor": 200, "other_supervisor": 200})
    ),
    # Exports are scoped like the client record: administrators export on the client's
    # request (the client has no account); the caseload CSVs are clinical aggregates.
    ("GET", "/api/clients/{client_id}/export.fhir.json"): Row(
        scoped(200, supervisor=200, admin=200)
    ),
    ("GET", "/api/clients/{client_id}/report.pdf"): Row(scoped(200, supervisor=200, admin=200)),
    ("GET", "/api/caseload/export.csv"): Row(everyone(200) | {"admin": 403}),
    ("GET", "/api/team/export.csv"): Row(only({"team_supervisor": 200, "other_supervisor": 200})),
    # Types the addressed client's code to confirm, so only the role decides.
    ("POST", "/api/clients/{client_id}/erasure"): Row(
        scoped(403, supervisor=403, admin=200),
        body=lambda w: {"reason": "The client asked", "confirm_code": w.sides[w.obj].client_code},
    ),
}


def names_an_object(path: str) -> bool:
    return "{" in path


def cells() -> list[tuple[str, str, str, str, int]]:
    """Every (method, path, role, object, expected status); object is "-" when none."""
    table = []
    for (method, path), row in MATRIX.items():
        for role in ROLES:
            expected = row.expect[role]
            if names_an_object(path):
                for obj in OBJECTS:
                    status = expected if isinstance(expected, int) else expected[obj]
                    table.append((method, path, role, obj, status))
            else:
                assert isinstance(expected, int), (method, path, role)
                table.append((method, path, role, "-", expected))
    return table
