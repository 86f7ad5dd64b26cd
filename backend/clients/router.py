from __future__ import annotations

from fastapi import APIRouter, Query, status

from backend.auth.deps import CallerDep
from backend.clients.erasure import erase_client
from backend.clients.schemas import (
    ClientCode,
    ClientCreate,
    ClientLabel,
    ClientPublic,
    ClientStatus,
    ClientUpdate,
    ErasurePublic,
    ErasureRequest,
)
from backend.clients.scope import client_for
from backend.clients.service import (
    client_public,
    clients_of,
    create_client,
    delete_client,
    set_label,
    update_client,
)
from backend.db import DatabaseDep
from backend.problems import refusals

router = APIRouter(
    prefix="/api/clients", tags=["clients"], responses=refusals(401, 403, 404, 409, 422)
)


@router.get("", response_model=list[ClientPublic])
def clients(
    caller: CallerDep,
    db: DatabaseDep,
    status: ClientStatus | None = Query(default=None),
    code: str | None = Query(
        default=None, max_length=20, description="Only clients whose code contains this."
    ),
    limit: int = Query(default=200, ge=1, le=1000, description="At most this many, by code."),
    offset: int = Query(default=0, ge=0, le=1_000_000, description="Skip this many first."),
) -> list[ClientPublic]:
    with db.reading() as session:
        return clients_of(
            session=session, caller=caller, status=status, code=code, limit=limit, offset=offset
        )


@router.post("", response_model=ClientPublic, status_code=status.HTTP_201_CREATED)
def new_client(body: ClientCreate, caller: CallerDep, db: DatabaseDep) -> ClientPublic:
    with db.writing() as session:
        return client_public(
            session=session, client=create_client(session=session, caller=caller, new=body)
        )


@router.get("/{client_id}", response_model=ClientPublic)
def client(client_id: ClientCode, caller: CallerDep, db: DatabaseDep) -> ClientPublic:
    with db.reading() as session:
        found = client_for(
            session=session, caller=caller, code=client_id, action="read_client", purpose="record"
        )
        return client_public(session=session, client=found)


@router.patch("/{client_id}", response_model=ClientPublic)
def change_client(
    client_id: ClientCode, body: ClientUpdate, caller: CallerDep, db: DatabaseDep
) -> ClientPublic:
    with db.writing() as session:
        changed = update_client(session=session, caller=caller, code=client_id, change=body)
        return client_public(session=session, client=changed)


@router.post("/{client_id}/erasure", response_model=ErasurePublic)
def erase(
    client_id: ClientCode, body: ErasureRequest, caller: CallerDep, db: DatabaseDep
) -> ErasurePublic:
    """Administrators only: delete everything of this client for good, in one transaction.

    ``confirm_code`` must repeat the client's code. What remains is the tombstone (code,
    who, when, reason); the code is never issued again.
    """
    with db.writing() as session:
        erased = erase_client(
            session=session,
            caller=caller,
            code=client_id,
            confirm_code=body.confirm_code,
            reason=body.reason,
        )
        return ErasurePublic(
            code=erased.tombstone.code,
            erased_at=erased.tombstone.erased_at,
            reason=erased.tombstone.reason,
            deleted=erased.deleted,
        )


@router.delete("/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_client(client_id: ClientCode, caller: CallerDep, db: DatabaseDep) -> None:
    """Administrators delete a client added by mistake: one without any session (else 409)."""
    with db.writing() as session:
        delete_client(session=session, caller=caller, code=client_id)


@router.put("/{client_id}/label", response_model=ClientLabel)
def label_client(
    client_id: ClientCode, body: ClientLabel, caller: CallerDep, db: DatabaseDep
) -> ClientLabel:
    """The treating therapist's private label for the client (at most 24 characters).

    Read back only by the therapist and their supervisors (caseload, client page); never
    shown on the client's rating page.
    """
    with db.writing() as session:
        return ClientLabel(
            label=set_label(session=session, caller=caller, code=client_id, change=body)
        )
