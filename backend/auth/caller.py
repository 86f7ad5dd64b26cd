"""Who is asking, and what their role lets them do.

A leaf module (it imports only the users' table and the errors), so every domain can
type its functions with ``Caller`` and check roles without importing sign-in or audit.
Which clients a caller sees is ``backend.clients.scope``; which roles may act is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import Forbidden
from backend.users.models import Role, User


@dataclass(frozen=True)
class Caller:
    """The signed-in user behind a request."""

    user: User
    token_id: int
    needs_touch: bool

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def role(self) -> str:
        return self.user.role


@dataclass(frozen=True)
class Permission:
    """The roles that may do something, and what everyone else is told (403)."""

    roles: frozenset[Role]
    refusal: str


def _only(*roles: Role, refusal: str) -> Permission:
    return Permission(frozenset(roles), refusal)


# Who may do what, in one table. Out-of-scope clients are a 404 before any of these.
ADMINISTER = _only(Role.admin, refusal="Only an administrator can do this.")
READ_CLINICAL_DATA = _only(
    Role.therapist,
    Role.supervisor,
    refusal="Administrators manage accounts and assignments, not clinical data.",
)
READ_AUDIT_TRAIL = _only(
    Role.supervisor,
    Role.admin,
    refusal="Only supervisors and administrators can read the audit trail.",
)
EXPORT_TEAMS = _only(Role.supervisor, refusal="Only supervisors export their teams' ratings.")
CHANGE_CLIENTS = _only(
    Role.therapist, Role.admin, refusal="Supervisors have read-only access to clients."
)
FILL_ANY_CASELOAD = _only(Role.admin, refusal="Therapists add clients to their own caseload only.")
REASSIGN_CLIENTS = _only(Role.admin, refusal="Only an administrator can reassign a client.")
DELETE_CLIENTS = _only(Role.admin, refusal="Only an administrator can delete a client.")
ERASE_CLIENTS = _only(Role.admin, refusal="Only an administrator can erase a client's data.")
LABEL_CLIENTS = _only(Role.therapist, refusal="Only the client's therapist can label a client.")
TREAT_CLIENTS = _only(
    Role.therapist,
    refusal="Only the client's therapist can record sessions and issue links.",
)
ANSWER_FLAGS = _only(
    Role.therapist, refusal="Only the client's therapist can acknowledge or resolve flags."
)
OVERSEE_TEAMS = _only(Role.supervisor, refusal="The team overview is for supervisors.")


def require(caller: Caller, permission: Permission) -> None:
    """Go on if the caller's role has ``permission``; otherwise refuse (403)."""
    if caller.role not in permission.roles:
        raise Forbidden(permission.refusal)
