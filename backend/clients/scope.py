"""Who may see which client: the one scoping function every client query goes through.

A therapist sees their own caseload; a supervisor the caseloads of the teams they
oversee; an admin manages every client's assignment but reads no clinical data.
Anything outside the caller's scope is indistinguishable from a client that does
not exist.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import ColumnElement, false, true
from sqlmodel import Session, col, select

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.caller import Caller
from backend.clients.models import Client
from backend.errors import NotFound
from backend.teams.service import supervised_therapists
from backend.users.models import Role

#: "clinical": ratings, sessions, flags. "record": the client record and its assignment.
Purpose = Literal["clinical", "record"]

CLIENT_NOT_FOUND = "No such client."


def visible_clients(caller: Caller, *, purpose: Purpose = "clinical") -> ColumnElement[bool]:
    """A WHERE clause on Client limiting rows to what the caller may see."""
    if caller.role == Role.therapist:
        return col(Client.therapist_id) == caller.id
    if caller.role == Role.supervisor:
        return col(Client.therapist_id).in_(supervised_therapists(caller))
    if caller.role == Role.admin and purpose == "record":
        return true()
    return false()


def client_for(
    *,
    session: Session,
    caller: Caller,
    code: str,
    action: str,
    purpose: Purpose = "clinical",
    object_id: str | None = None,
) -> Client:
    """The client with this code if the caller may see it, audited as ``action``.

    Every access goes through here, so every access (and every refusal) is audited.
    """
    client = client_in_scope(
        session=session,
        caller=caller,
        code=code,
        action=action,
        purpose=purpose,
        object_id=object_id,
    )
    record(
        session=session,
        action=action,
        caller=caller,
        client_code=client.code,
        subject_user_id=client.therapist_id,
        object_id=object_id,
    )
    return client


def client_in_scope(
    *,
    session: Session,
    caller: Caller,
    code: str,
    action: str,
    purpose: Purpose = "clinical",
    object_id: str | None = None,
) -> Client:
    """The client with this code if the caller may see it; a refusal is audited as ``action``.

    For a change whose audit row says what it changed, written once the change is made;
    every other access goes through ``client_for``.
    """
    attempting(action, client_code=code.upper()[:16], object_id=object_id)
    client = session.exec(
        select(Client).where(Client.code == code.upper(), visible_clients(caller, purpose=purpose))
    ).first()
    if client is None:
        raise NotFound(CLIENT_NOT_FOUND)
    return client
