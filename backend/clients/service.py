"""Clients: creation, the caller's caseload, discharge and reassignment."""

from __future__ import annotations

from sqlalchemy import String, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.caller import (
    CHANGE_CLIENTS,
    DELETE_CLIENTS,
    FILL_ANY_CASELOAD,
    LABEL_CLIENTS,
    REASSIGN_CLIENTS,
    Caller,
    require,
)
from backend.clients.codes import code_as_typed, new_client_code
from backend.clients.models import Client, ClientErasure
from backend.clients.schemas import ClientCreate, ClientLabel, ClientPublic, ClientUpdate
from backend.clients.scope import client_for, client_in_scope, visible_clients
from backend.clock import utcnow
from backend.errors import Conflict, NotFound
from backend.flags.models import ClientSummary, RescoreRequest
from backend.therapy.models import TherapySession
from backend.users.models import Role, User

NO_SUCH_THERAPIST = "No therapist has this therapist_id."
THERAPIST_DEACTIVATED = "This therapist's account is deactivated; choose an active therapist."
ADMIN_NAMES_THERAPIST = "An administrator adding a client names its therapist (therapist_id)."


def _therapist(session: Session, therapist_id: int) -> User:
    """The therapist a client is given to. Refusals depend on data, not on the request's
    shape, so they are 404 and 409 rather than 422 (the schema cannot state them)."""
    therapist = session.get(User, therapist_id)
    if therapist is None or therapist.role != Role.therapist:
        raise NotFound(NO_SUCH_THERAPIST, field="therapist_id")
    if not therapist.active:
        raise Conflict(THERAPIST_DEACTIVATED, field="therapist_id")
    return therapist


def create_client(*, session: Session, caller: Caller, new: ClientCreate) -> Client:
    attempting("create_client")
    require(caller, CHANGE_CLIENTS)
    if new.therapist_id not in (None, caller.id):
        require(caller, FILL_ANY_CASELOAD)
    if caller.role == Role.therapist:
        therapist_id = caller.id
    else:
        if new.therapist_id is None:
            raise Conflict(ADMIN_NAMES_THERAPIST, field="therapist_id")
        therapist_id = _therapist(session, new.therapist_id).id
    for _ in range(5):
        client = Client(code=new_client_code(), therapist_id=therapist_id)
        if session.get(ClientErasure, client.code) is not None:
            continue  # an erased client's code is never given to anyone else
        try:
            with session.begin_nested():
                session.add(client)
        except IntegrityError:
            continue  # a code collision; astronomically rare, so just draw again
        record(
            session=session,
            action="create_client",
            caller=caller,
            client_code=client.code,
            subject_user_id=therapist_id,
        )
        return client
    raise RuntimeError("could not draw a unique client code")


def clients_of(
    *,
    session: Session,
    caller: Caller,
    status: str | None = None,
    code: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[ClientPublic]:
    """The caller's clients by code, a page at a time; ``code`` keeps codes containing it
    (in any case, with or without the hyphen).

    A page, not the whole list: an administrator of 20,000 clients waited 3.5 s for all of
    them (the dashboard bench), and nobody reads that list; they search it.
    """
    record(session=session, action="list_clients", caller=caller)
    query = (
        select(Client, User.display_name)
        .join(User, col(User.id) == Client.therapist_id)
        .where(visible_clients(caller, purpose="record"))
    )
    if status is not None:
        query = query.where(Client.status == status)
    if code:
        # Codes are read aloud and typed from paper: "gaz674vs" finds GAZ6-74VS.
        unhyphenated = func.replace(col(Client.code), "-", "", type_=String)
        query = query.where(unhyphenated.contains(code_as_typed(code), autoescape=True))
    rows = session.exec(query.order_by(Client.code).offset(offset).limit(limit))
    return [_public(client, therapist_name) for client, therapist_name in rows]


def update_client(*, session: Session, caller: Caller, code: str, change: ClientUpdate) -> Client:
    """Reassign, discharge or reactivate a client; the audit row says what changed."""
    client = client_in_scope(
        session=session, caller=caller, code=code, action="update_client", purpose="record"
    )
    require(caller, CHANGE_CLIENTS)
    therapist_before, status_before = client.therapist_id, client.status
    if change.therapist_id is not None and change.therapist_id != client.therapist_id:
        require(caller, REASSIGN_CLIENTS)
        client.therapist_id = _therapist(session, change.therapist_id).id
    if change.status is not None and change.status != client.status:
        client.status = change.status
        client.discharged_at = utcnow() if change.status == "discharged" else None
    session.add(client)
    session.flush()
    record(
        session=session,
        action="update_client",
        caller=caller,
        client_code=client.code,
        subject_user_id=therapist_before,
        object_id=what_changed(
            therapist=(therapist_before, client.therapist_id),
            status=(status_before, client.status),
        ),
    )
    return client


def what_changed(*, therapist: tuple[int, int], status: tuple[str, str]) -> str:
    """The audit trail's account of a client change, old -> new: user ids and statuses only,
    so it names nobody (``"therapist 4 -> 7; status discharged -> active"``)."""
    changes = [
        f"{name} {old} -> {new}"
        for name, (old, new) in (("therapist", therapist), ("status", status))
        if old != new
    ]
    return "; ".join(changes) or "nothing changed"


def set_label(*, session: Session, caller: Caller, code: str, change: ClientLabel) -> str | None:
    """The treating therapist names a client privately (audited; the label is not logged)."""
    client = client_for(session=session, caller=caller, code=code, action="set_client_label")
    require(caller, LABEL_CLIENTS)
    client.label = change.label
    session.add(client)
    session.flush()
    return client.label


def delete_client(*, session: Session, caller: Caller, code: str) -> None:
    """Remove a client added by mistake; one with any session is discharged instead."""
    client = client_for(
        session=session, caller=caller, code=code, action="delete_client", purpose="record"
    )
    require(caller, DELETE_CLIENTS)
    held = session.exec(
        select(TherapySession.id).where(TherapySession.client_id == client.id).limit(1)
    ).first()
    if held is not None:
        raise Conflict(
            "This client has sessions on record and cannot be deleted; discharge them instead."
        )
    # Scoring may have left an empty digest or a queued rescore; nothing clinical exists.
    for kept in (ClientSummary, RescoreRequest):
        session.exec(delete(kept).where(col(kept.client_id) == client.id))
    session.delete(client)
    session.flush()


def client_public(*, session: Session, client: Client) -> ClientPublic:
    therapist = session.get(User, client.therapist_id)
    return _public(client, therapist.display_name if therapist else "")


def _public(client: Client, therapist_name: str) -> ClientPublic:
    return ClientPublic(
        code=client.code,
        therapist_id=client.therapist_id,
        therapist_name=therapist_name,
        status=client.status,
        created_at=client.created_at,
    )
