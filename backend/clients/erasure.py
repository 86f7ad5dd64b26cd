"""A client's right to erasure: everything of theirs deleted in one transaction.

What is deleted is found from the schema, not from a list kept here: every row that
references the client, directly or through another of their rows (sessions, links,
ratings with their comments, flags with notes, episodes, the summary, a queued
rescore), so a table added later is erased too. What stays is a tombstone (the code,
who, when and why) whose key keeps the code from being issued again, and the audit
trail, whose rows name the client by code only and never hold what they said.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Table, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from backend.audit.context import attempting
from backend.audit.writer import record
from backend.auth.caller import ERASE_CLIENTS, Caller, require
from backend.clients.models import Client, ClientErasure
from backend.clients.scope import CLIENT_NOT_FOUND, visible_clients
from backend.clock import utcnow
from backend.db import Database
from backend.errors import InvalidInput, NotFound
from backend.flags.models import RescoreRequest
from backend.models import metadata

CODE_NOT_CONFIRMED = "To erase this client, type their code exactly as shown ({code})."


@dataclass(frozen=True)
class Erased:
    tombstone: ClientErasure
    #: Rows deleted per table.
    deleted: dict[str, int]


def _delete_with_dependents(
    session: Session, table: Table, where: ColumnElement[bool], deleted: dict[str, int]
) -> None:
    """Delete the rows of ``table`` matching ``where``, after every row referencing them."""
    for child in metadata.sorted_tables:
        for foreign_key in child.foreign_keys:
            if foreign_key.column.table is table:
                parents = sa_select(foreign_key.column).where(where)
                _delete_with_dependents(session, child, foreign_key.parent.in_(parents), deleted)
    result = session.execute(delete(table).where(where))
    deleted[table.name] = deleted.get(table.name, 0) + result.rowcount


def _erase(session: Session, client: Client, *, erased_by: int | None, reason: str) -> Erased:
    deleted: dict[str, int] = {}
    # The rescore queue first: a scoring pass holding the client's request finishes
    # before this goes on, and a later one finds nothing to store for them.
    _delete_with_dependents(
        session, RescoreRequest.__table__, RescoreRequest.client_id == client.id, deleted
    )
    _delete_with_dependents(session, Client.__table__, Client.id == client.id, deleted)
    tombstone = ClientErasure(
        code=client.code, erased_by=erased_by, erased_at=utcnow(), reason=reason
    )
    session.add(tombstone)
    session.flush()
    session.expunge(client)
    return Erased(tombstone=tombstone, deleted=deleted)


def erase_client(
    *, session: Session, caller: Caller, code: str, confirm_code: str, reason: str
) -> Erased:
    """An administrator erases a client for good, having typed the client's code."""
    attempting("erase_client", client_code=code.upper()[:16])
    client = session.exec(
        select(Client)
        .where(col(Client.code) == code.upper(), visible_clients(caller, purpose="record"))
        .with_for_update()
    ).first()
    if client is None:
        raise NotFound(CLIENT_NOT_FOUND)
    require(caller, ERASE_CLIENTS)
    if confirm_code.strip().upper() != client.code:
        raise InvalidInput(CODE_NOT_CONFIRMED.format(code=client.code), field="confirm_code")
    erased = _erase(session, client, erased_by=caller.id, reason=reason)
    record(session=session, action="erase_client", caller=caller, client_code=client.code)
    return erased


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar moment ``years`` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class RetentionRun:
    #: (code, discharged_at) of every client past the retention period, oldest first.
    due: list[tuple[str, datetime]]
    erased: list[str] = field(default_factory=list)
    #: Discharged clients with no discharge date, which retention leaves alone.
    undated: int = 0


def apply_retention(
    *, database: Database, years: int, now: datetime | None = None, dry_run: bool = False
) -> RetentionRun:
    """Erase clients discharged more than ``years`` ago, each in its own transaction.

    Running it again erases nobody twice: an erased client is gone from ``client``.
    """
    cutoff = years_before(now or utcnow(), years)
    with database.reading() as session:
        due = [
            (row.code, row.discharged_at)
            for row in session.exec(
                select(Client.code, Client.discharged_at)
                .where(Client.status == "discharged", col(Client.discharged_at) < cutoff)
                .order_by(col(Client.discharged_at), col(Client.code))
            )
        ]
        undated = session.exec(
            select(func.count()).where(
                Client.status == "discharged", col(Client.discharged_at).is_(None)
            )
        ).one()
    run = RetentionRun(due=due, undated=undated)
    if dry_run:
        return run
    reason = f"Retention: discharged more than {years} years ago."
    for code, _ in due:
        with database.writing() as session:
            client = session.exec(
                select(Client)
                .where(
                    Client.code == code,
                    Client.status == "discharged",
                    col(Client.discharged_at) < cutoff,
                )
                .with_for_update()
            ).first()
            if client is None:  # reactivated or erased since the list was read
                continue
            _erase(session, client, erased_by=None, reason=reason)
            record(session=session, action="erase_client", client_code=code, object_id="retention")
        run.erased.append(code)
    return run
